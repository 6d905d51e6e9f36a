"""Backup's streaming step: each artifact from the source host's spool into the store, hashed in
flight and, when the site encrypts, sealed in the same pass (orchestrator.integrations.envelope).

The digest the host computed must equal the one seen in transit, or nothing counts. A sealed
file is staged on the controller (an unlinked temporary file under the work directory) before
it is written to the store: stores take the digest they check before the first byte (S3 object
metadata), and the ciphertext's digest is only known at its end. Plaintext never touches the
controller's disk.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from orchestrator.actions.point_keys import Sealing
from orchestrator.integrations.hosts import HostFiles
from orchestrator.integrations.stores.base import Store
from orchestrator.integrations.transfer import DigestMismatch, hashed, read_blocks
from orchestrator.model.manifest import FileEntry

HASH_ALGORITHM = "sha256"


def stream_files(
    host_files: HostFiles,
    spool: str,
    store: Store,
    prefix: str,
    files: list[dict[str, Any]],
    sealing: Sealing | None = None,
    work_dir: Path | None = None,
) -> list[FileEntry]:
    """Stream every artifact of one dump from the host's spool into the store under prefix
    (sealed with the point's data key when the site encrypts); return their manifest
    entries."""
    entries = []
    for raw in files:
        entry = FileEntry(
            raw["path"], raw["size"], raw["digest"], tuple(raw.get("chunk_digests", ()))
        )
        source, key = f"{spool}/data/{entry.path}", f"{prefix}/data/{entry.path}"
        entries.append(stream_to_store(host_files, source, store, key, entry, sealing, work_dir))
    return entries


def stream_to_store(
    host_files: HostFiles,
    source: str,
    store: Store,
    key: str,
    entry: FileEntry,
    sealing: Sealing | None = None,
    work_dir: Path | None = None,
) -> FileEntry:
    """Stream one artifact from the host into the store, hashing in flight; the digest seen in
    transit must equal the one the host computed. Encrypted, the file is sealed in the same
    pass and the entry returned carries the stored (ciphertext) size and digest."""
    with host_files.open_read(source) as handle:
        blocks, result = hashed(read_blocks(handle), HASH_ALGORITHM)
        if sealing is None:
            store.write_stream(key, blocks, size=entry.size, sha256=entry.digest)
            _check_transit(key, entry, *result())
            return entry
        with tempfile.TemporaryFile(dir=work_dir) as staged:
            sealed, stored = hashed(sealing.seal(blocks, entry.path), HASH_ALGORITHM)
            for block in sealed:
                staged.write(block)
            _check_transit(key, entry, *result())
            stored_size, stored_digest = stored()
            staged.seek(0)
            store.write_stream(key, read_blocks(staged), size=stored_size, sha256=stored_digest)
    return replace(entry, stored_size=stored_size, stored_digest=stored_digest)


def _check_transit(key: str, entry: FileEntry, size: int, digest: str) -> None:
    if size != entry.size or digest != entry.digest:
        raise DigestMismatch(key, entry.digest, digest, f"{size} of {entry.size} bytes in transit")
