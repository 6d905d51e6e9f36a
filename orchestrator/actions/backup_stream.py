"""Backup's streaming step: each artifact from the source host's spool into the store, hashed in
flight and, when the site encrypts, sealed in the same pass (orchestrator.integrations.envelope).

The digest the host computed must equal the one seen in transit, or nothing counts. In clear,
the stream checks itself (transfer.CheckedBlocks): the mismatch is raised from the stream
before the store's last byte, so the store commits nothing, and a store that is handed such a
stream does not hash it a second time. Files go in parallel, one per core, when both ends are
this machine's own disk (a `local` host and a directory store). A sealed
file is staged on the controller (an unlinked temporary file under the work directory) before
it is written to the store: stores take the digest they check before the first byte (S3 object
metadata), and the ciphertext's digest is only known at its end. Plaintext never touches the
controller's disk.
"""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from orchestrator.actions.point_keys import Sealing
from orchestrator.integrations.hashing import default_workers
from orchestrator.integrations.hosts import HostFiles, LocalHostFiles
from orchestrator.integrations.stores.base import Store
from orchestrator.integrations.stores.file import FileStore
from orchestrator.integrations.transfer import CheckedBlocks, DigestMismatch, hashed, read_blocks
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
    entries, in the order of files. On a failure no further file is started, and it is
    raised once the files in flight have ended."""

    def one(raw: dict[str, Any]) -> FileEntry:
        entry = FileEntry(
            raw["path"], raw["size"], raw["digest"], tuple(raw.get("chunk_digests", ()))
        )
        source, key = f"{spool}/data/{entry.path}", f"{prefix}/data/{entry.path}"
        return stream_to_store(host_files, source, store, key, entry, sealing, work_dir)

    workers = parallel_files(host_files, store)
    if workers == 1:
        return [one(raw) for raw in files]
    pool = ThreadPoolExecutor(workers, thread_name_prefix="backup")
    try:
        return list(pool.map(one, files))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def parallel_files(host_files: HostFiles, store: Store) -> int:
    """Return how many files may stream at once: one per core between this machine's own
    files and a directory store (plain files; hashing, reads and fsync release the GIL); one
    otherwise (an SSH session or a store client is not shared between threads here)."""
    if type(host_files) is LocalHostFiles and type(store) is FileStore:
        return default_workers()
    return 1


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
        blocks = CheckedBlocks(read_blocks(handle), key, entry.size, entry.digest)
        if sealing is None:
            store.write_stream(key, blocks, size=entry.size, sha256=entry.digest)
            _check_transit(key, entry, blocks)
            return entry
        with tempfile.TemporaryFile(dir=work_dir) as staged:
            sealed, stored = hashed(sealing.seal(blocks, entry.path), HASH_ALGORITHM)
            for block in sealed:
                staged.write(block)
            _check_transit(key, entry, blocks)
            stored_size, stored_digest = stored()
            staged.seek(0)
            store.write_stream(key, read_blocks(staged), size=stored_size, sha256=stored_digest)
    return replace(entry, stored_size=stored_size, stored_digest=stored_digest)


def _check_transit(key: str, entry: FileEntry, blocks: CheckedBlocks) -> None:
    """Raise DigestMismatch unless the stream was read to its end and matched: a consumer
    that stopped early has not proved the bytes (the stream raises a mismatch itself)."""
    if not blocks.verified:
        raise DigestMismatch(
            key, entry.digest, "(not read to the end)", f"{entry.size} bytes expected in transit"
        )
