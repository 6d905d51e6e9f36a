"""One sandbox drill at a time, and no other drctl command on a sandbox while one runs.

`drctl drill run --sandbox` starts by laying the sandbox out afresh: it removes the sandbox's
sites, stores and catalog (actions/sandbox.py). The drill's catalog lock (`sites:<system>`)
lives in that catalog, so it was taken only after the reset, and nothing kept a second drill,
a backup or a check off the sandbox while it was being removed under them. Seen: two drills
started 0.1 s apart, one aborted with `disk I/O error` and the other PASSED with measurements
of the first one's data (750 postings in total instead of 30,750); a `verify --all` started
0.1 s after a drill marked intact points bad for good ("manifest.json: missing"), because the
reset removed them while it read; a backup recorded a half-seeded ledger as a complete point.

So the sandbox's directory holds a lock file, `.sandbox.lock`, beside its dr.yml (outside the
directories the reset removes). A sandbox drill holds it exclusively from before the reset to
its end; every command that writes through a sandbox's catalog (`open_runtime(writes=True)`)
holds it shared while it works. Whichever comes second is refused at once with exit 3, before
it touches anything. A config whose directory has no such file is not a sandbox: nothing is
taken. Within one process the drill's own commands pass (the lock is recorded as held here).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from orchestrator.errors import InfrastructureError

LOCK_FILE = ".sandbox.lock"
_HELD: set[Path] = set()  # sandbox directories this process holds exclusively


@contextlib.contextmanager
def resetting_sandbox(directory: Path) -> Iterator[None]:
    """Hold the sandbox at directory exclusively while the body resets it and drills; raise
    InfrastructureError (exit 3) when another drctl command is using it."""
    root = directory.resolve()
    root.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        _take(
            descriptor,
            fcntl.LOCK_EX,
            f"{root}: another drctl command is using this sandbox (a drill, a backup, a "
            "check, run-due or serve); a sandbox drill resets its sites, stores and "
            "catalog, so it waits for none: run it again when that command has finished",
        )
        _HELD.add(root)
        try:
            yield
        finally:
            _HELD.discard(root)
    finally:
        os.close(descriptor)  # closing releases the lock


@contextlib.contextmanager
def using_sandbox(config_directory: Path) -> Iterator[None]:
    """Hold the sandbox at config_directory shared while the body works on it (nothing when
    the directory is not a sandbox's, or this process is its drill); raise InfrastructureError
    (exit 3) while a sandbox drill holds it."""
    root = config_directory.resolve()
    if root in _HELD:  # this process is the drill: it holds the sandbox already
        yield
        return
    try:
        descriptor = os.open(root / LOCK_FILE, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:  # not a sandbox
        yield
        return
    try:
        _take(
            descriptor,
            fcntl.LOCK_SH,
            f"{root}: a sandbox drill is running there (it resets the sandbox's sites, "
            "stores and catalog); nothing was done: run this again when it has finished",
        )
        yield
    finally:
        os.close(descriptor)


def _take(descriptor: int, operation: int, refusal: str) -> None:
    """Take the lock (fcntl.LOCK_EX or LOCK_SH) at once, or raise InfrastructureError(refusal)."""
    try:
        fcntl.flock(descriptor, operation | fcntl.LOCK_NB)
    except BlockingIOError:
        raise InfrastructureError(refusal) from None
