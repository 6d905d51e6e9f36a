"""`drctl copy-offsite`: copy recovery points to their off-site store and verify them there.

260号 第七条 「备份数据要实行异地保存」. A copy counts only after every file has been re-read
at the destination and its digest matched the manifest taken at the source.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator.errors import CheckFailed
from orchestrator.integrations.stores.base import MANIFEST_NAME, Store, point_prefix
from orchestrator.integrations.transfer import DigestMismatch, digest_stream, hashed, read_blocks
from orchestrator.model import catalog as cat
from orchestrator.model.jobs import catalog_job
from orchestrator.model.manifest import FileEntry, Manifest
from orchestrator.runtime import Runtime

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CopyOutcome:
    recovery_point_id: str
    system: str
    dataset: str
    source: str
    destination: str
    bytes: int


def copy_point(
    source: Store,
    destination: Store,
    manifest: Manifest,
    manifest_bytes: bytes,
    manifest_sha256: str,
) -> None:
    """Copy one recovery point between stores, streaming and hashing; write the manifest last,
    then re-read every file at the destination. Raise DigestMismatch on any difference."""
    prefix = point_prefix(manifest.system, manifest.dataset, manifest.recovery_point_id)
    # A store with copy_from (S3) copies server-side where it can and verifies at the
    # destination itself (stored checksum + sampled ranges); the others are re-read below.
    copy_from = getattr(destination, "copy_from", None)
    verified: set[str] = set()
    for entry in manifest.files:
        key = f"{prefix}/data/{entry.path}"
        if not source.exists(key):
            raise CheckFailed(f"{source.name}:{key}: missing, cannot copy off-site")
        if copy_from is not None and manifest.hash_algorithm == "sha256":
            copy_from(source, key, size=entry.size, sha256=entry.digest)
            verified.add(key)
            continue
        with source.open_read(key) as handle:
            blocks, result = hashed(read_blocks(handle), manifest.hash_algorithm)
            destination.write_stream(
                key, blocks, size=entry.size, sha256=_store_sha256(source, key, manifest, entry)
            )
        size, digest = result()
        if (size, digest) != (entry.size, entry.digest):
            raise DigestMismatch(f"{source.name}:{key}", entry.digest, digest)
    for entry in manifest.files:
        key = f"{prefix}/data/{entry.path}"
        if key in verified:
            continue
        with destination.open_read(key) as handle:
            size, digest = digest_stream(handle, manifest.hash_algorithm)
        if (size, digest) != (entry.size, entry.digest):
            raise DigestMismatch(
                f"{destination.name}:{key}", entry.digest, digest, "re-read at the destination"
            )
    destination.write_stream(
        f"{prefix}/{MANIFEST_NAME}",
        [manifest_bytes],
        size=len(manifest_bytes),
        sha256=manifest_sha256,
    )


def _store_sha256(source: Store, key: str, manifest: Manifest, entry: FileEntry) -> str:
    """Return the sha256 the destination store checks the file against: the manifest's digest
    for a sha256 manifest; for an SM3 one, the sha256 of the source file, read once more (the
    copy itself is still judged by its SM3 digest against the manifest)."""
    if manifest.hash_algorithm == "sha256":
        return entry.digest
    with source.open_read(key) as handle:
        return digest_stream(handle, "sha256")[1]


def run_copy_offsite(
    runtime: Runtime,
    *,
    systems: Sequence[str] | None = None,
    source_store: str | None = None,
    destination_store: str | None = None,
    points: Sequence[str] | None = None,
) -> list[CopyOutcome]:
    """Copy every complete recovery point that has no verified copy in its system's off-site
    store yet (or the given points); return what was copied."""
    from orchestrator.actions.restore import complete_points, load_manifest

    config = runtime.config.model
    outcomes = []
    for system in config.systems:
        if systems and system.name not in systems:
            continue
        source = runtime.store(source_store or system.primary_store)
        destination = runtime.store(destination_store or system.offsite_store)
        subject = f"{system.name}->{destination.name}"
        with catalog_job(runtime.catalog, "copy_offsite", subject) as job:
            with runtime.catalog.begin() as connection:
                done = {
                    row.recovery_point_id
                    for row in cat.list_copies(connection)
                    if row.store == destination.name
                    and row.status == "present"
                    and row.verified_at is not None
                }
            for dataset in system.datasets:
                for point in complete_points(source, system.name, dataset.name):
                    if (points and point not in points) or (not points and point in done):
                        continue
                    manifest, digest = load_manifest(
                        runtime, source, system.name, dataset.name, point
                    )
                    key = f"{point_prefix(system.name, dataset.name, point)}/{MANIFEST_NAME}"
                    copy_point(source, destination, manifest, source.read_bytes(key), digest)
                    verified = cat.now()
                    with runtime.catalog.begin() as connection:
                        cat.record_copy(
                            connection,
                            point,
                            destination.name,
                            destination.site,
                            written_at=verified,
                            verified_at=verified,
                        )
                    logger.info(
                        "copied %s/%s %s to %s (%s), verified there",
                        system.name,
                        dataset.name,
                        point,
                        destination.name,
                        destination.site,
                    )
                    outcomes.append(
                        CopyOutcome(
                            point,
                            system.name,
                            dataset.name,
                            source.name,
                            destination.name,
                            manifest.total_bytes,
                        )
                    )
            job.detail = {"copied": len(outcomes)}
    return outcomes
