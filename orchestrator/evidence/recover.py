"""Chain the package a killed writer left in place but never chained.

A writer (package.py `_commit`) renames the finished package directory into place, then
writes its tarball, then appends its chain line. A `kill -9` between the rename and the
append skips the writer's own cleanup: the package stays, signed and complete (the staging
directory was fsynced before the rename), but chain.jsonl does not list it. Left alone, the
next package would claim the same PREVIOUS (a fork) and `drctl evidence verify --chain` would
fail for good. So the next writer, under the chain lock, finishes that commit: a package the
chain does not list, valid and signed by the site's own key, whose PREVIOUS is the chain's
head, gets its tarball (when missing) and its chain line. Anything else unlisted is left as
it is for `verify --chain` to report.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from orchestrator.evidence import sign
from orchestrator.evidence.chain import ChainEntry, append_chain_entry, last_manifest_digest
from orchestrator.evidence.content import PACKAGE_KEY
from orchestrator.evidence.layout import (
    CHAIN,
    PACKAGE_NAME_PATTERN,
    REPORT_JSON,
    TARBALL_SUFFIX,
    TEMPORARY_PREFIX,
)
from orchestrator.evidence.tarball import write_tarball
from orchestrator.evidence.verify import check_directory
from orchestrator.timefmt import epoch_seconds

logger = logging.getLogger(__name__)


def chain_interrupted(
    evidence_dir: Path, entries: list[ChainEntry], key: Ed25519PrivateKey
) -> list[ChainEntry]:
    """Given the evidence directory (its chain lock held), the chain's entries and the site's
    signing key, chain every package a killed writer left unchained; return the entries."""
    for directory, entry in unchained(evidence_dir, entries, key):
        _ensure_tarball(directory, entry.created_at)
        append_chain_entry(evidence_dir / CHAIN, entry)
        entries = [*entries, entry]
        logger.warning(
            "%s: written by a writer killed before it chained the package; now line %d of %s",
            entry.name,
            len(entries),
            CHAIN,
        )
    return entries


def unchained(
    evidence_dir: Path, entries: list[ChainEntry], key: Ed25519PrivateKey
) -> list[tuple[Path, ChainEntry]]:
    """Given the evidence directory, the chain's entries and the site's signing key, return
    each package a killed writer left unchained with the line the next writer gives it (in
    that order; nothing is written): a package the chain does not list, valid and signed by
    the key, whose PREVIOUS is the head of the chain as extended so far."""
    listed = {entry.name for entry in entries}
    trust = {sign.fingerprint(key): "the site's signing key"}
    head = last_manifest_digest(entries)
    found: list[tuple[Path, ChainEntry]] = []
    for directory in sorted(evidence_dir.iterdir()):
        name = directory.name
        if name in listed or not PACKAGE_NAME_PATTERN.match(name):
            continue
        if directory.is_symlink() or not directory.is_dir():
            continue
        check = check_directory(directory, trust, None)
        if not check.ok or check.previous != head or check.manifest_sha256 is None:
            logger.warning(
                "%s: a package %s does not list; left as it is (not a valid package of this "
                "site extending the chain's head: %s)",
                name,
                CHAIN,
                "; ".join(check.problems) or f"PREVIOUS {check.previous}, head {head}",
            )
            continue
        metadata = json.loads((directory / REPORT_JSON).read_bytes())[PACKAGE_KEY]
        entry = ChainEntry(
            name, metadata["kind"], metadata["created_at"], check.manifest_sha256, head
        )
        found.append((directory, entry))
        head = check.manifest_sha256
    return found


def _ensure_tarball(directory: Path, created_at: str) -> None:
    """Write the package's tarball (temp name, fsync, rename) unless it is already in place."""
    tarball = directory.with_name(f"{directory.name}{TARBALL_SUFFIX}")
    if tarball.exists():
        return
    staged = directory.with_name(f"{TEMPORARY_PREFIX}{tarball.name}")
    mtime = int(epoch_seconds(created_at))
    try:
        write_tarball(directory, staged, mtime)
        with staged.open("rb") as stream:
            os.fsync(stream.fileno())
        os.rename(staged, tarball)
    finally:
        staged.unlink(missing_ok=True)
