"""The evidence directory's lock: writers change the chain under it, readers take a snapshot.

A package is written whole under an exclusive lock on `.chain.lock`: its directory, its tarball,
its line in chain.jsonl and its anchor (package.py). A chain check that read those while a
writer was between them saw a package its chain did not list yet, or an anchor one line longer
than the chain, and reported a package removed from the chain's end (exit 1) during ordinary
work. So the check reads the chain, the package names and the anchors under a shared lock — a
consistent snapshot a writer waits for, for that short while only — and checks the packages it
lists afterwards (a written package is never changed). A directory without the lock file, or one
the reader cannot open (a copy on read-only media handed to an auditor), has no writer to wait
for: it is read as it is.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

LOCK_FILE = ".chain.lock"


@contextlib.contextmanager
def chain_write_lock(evidence_dir: Path) -> Iterator[None]:
    """Hold the evidence directory's lock exclusively (made if missing) while the body runs."""
    descriptor = os.open(evidence_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


@contextlib.contextmanager
def chain_read_lock(evidence_dir: Path) -> Iterator[None]:
    """Hold the evidence directory's lock shared while the body runs, waiting for a writer to
    finish; when there is no lock file to open, read without one (nothing is writing)."""
    try:
        descriptor = os.open(evidence_dir / LOCK_FILE, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        yield
        return
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH)
        yield
    finally:
        os.close(descriptor)
