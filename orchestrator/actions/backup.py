"""`drctl backup`: full backups by the playbooks, streamed to the store, manifest last.

The digests in the manifest are the ones the source host computed when it made the dump; the
bytes are hashed again in flight and must match, or the recovery point fails and nothing is
counted.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestrator.actions.point_trust import (
    SIGNATURE_NAME,
    manifest_signer,
    write_manifest,
    written_versions,
)
from orchestrator.errors import InfrastructureError, InputError
from orchestrator.integrations.ansible import run_playbook
from orchestrator.integrations.stores.base import MANIFEST_NAME, point_prefix
from orchestrator.integrations.transfer import DigestMismatch, hashed, read_blocks
from orchestrator.model import catalog as cat
from orchestrator.model import integrity
from orchestrator.model.engines import make_playbook_item, spool_root
from orchestrator.model.jobs import catalog_job
from orchestrator.model.manifest import FileEntry, Manifest, manifest_digest, serialise_manifest
from orchestrator.rules.workdays import business_date
from orchestrator.runtime import Runtime
from orchestrator.timefmt import iso_utc, sortable_id

logger = logging.getLogger(__name__)
HASH_ALGORITHM = "sha256"


@dataclass(frozen=True)
class BackupOutcome:
    recovery_point_id: str
    system: str
    dataset: str
    store: str
    manifest: Manifest
    manifest_sha256: str
    events_path: Path


def run_backup(
    runtime: Runtime,
    system_name: str,
    *,
    site_name: str | None = None,
    store_name: str | None = None,
    datasets: Sequence[str] | None = None,
) -> list[BackupOutcome]:
    """Back up a system's datasets in full from a site into a store; return one outcome per
    dataset. Raise InfrastructureError (host/store down) or CheckFailed (digest mismatch); in
    either case no recovery point is counted."""
    config = runtime.config.model
    system = config.system(system_name)
    site = config.site(site_name or system.production_site)
    store = runtime.store(store_name or system.primary_store)
    chosen = [d for d in system.datasets if datasets is None or d.name in datasets]
    if not chosen:
        raise InputError(
            "command line",
            [f"--dataset: system {system.name} has no dataset {', '.join(datasets or [])}"],
        )
    with catalog_job(runtime.catalog, "backup", f"{system.name}@{site.name}") as job:
        outcomes = _back_up(runtime, system.name, site, store, chosen)
        job.detail = {"recovery_points": [o.recovery_point_id for o in outcomes]}
    return outcomes


def _back_up(
    runtime: Runtime, system: str, site: Any, store: Any, chosen: list[Any]
) -> list[BackupOutcome]:
    signer = manifest_signer(runtime.config)  # a key problem is exit 2, before any work
    started = datetime.now(UTC)
    root = spool_root(site, "backup", system)
    items = [make_playbook_item(site, dataset, root) for dataset in chosen]
    ident = f"backup-{system}-{site.name}-{started:%Y%m%dT%H%M%S%fZ}"
    run = run_playbook(
        "backup_full.yml",
        inventory=runtime.config.inventory,
        extravars={
            "dr_host": site.host,
            "dr_spool_root": root,
            "dr_datasets": items,
            "dr_hash_algorithm": HASH_ALGORITHM,
        },
        ident=ident,
        work_dir=runtime.work_dir,
        limit=site.host,
    )
    if not run.ok:
        raise InfrastructureError(
            f"backup of {system} at {site.name} failed: " + "; ".join(run.failures or [run.status])
        )
    host_files = runtime.host_files(site.host)
    outcomes = []
    try:
        for dataset, item in zip(chosen, items, strict=True):
            artifacts = run.result(site.host, f"artifacts:{dataset.name}")
            dump = run.result(site.host, f"dump:{dataset.name}")
            point_id = sortable_id(started)  # sorts by time
            prefix = point_prefix(system, dataset.name, point_id)
            entries = []
            for raw in artifacts["files"]:
                entry = FileEntry(
                    raw["path"], raw["size"], raw["digest"], tuple(raw.get("chunk_digests", ()))
                )
                _stream_to_store(
                    host_files,
                    f"{item['spool']}/data/{entry.path}",
                    store,
                    f"{prefix}/data/{entry.path}",
                    entry,
                )
                entries.append(entry)
            finished = datetime.now(UTC)
            manifest = Manifest(
                recovery_point_id=point_id,
                system=system,
                dataset=dataset.name,
                engine=dataset.engine,
                business_date=business_date(
                    finished, runtime.config.model.calendar.business_date_cutoff_hour
                ).isoformat(),
                started_at=iso_utc(started.timestamp()),
                finished_at=iso_utc(finished.timestamp()),
                source_site=site.name,
                source_host=site.host,
                hash_algorithm=HASH_ALGORITHM,
                files=tuple(entries),
                fingerprint=dump["fingerprint"],
            )
            data = serialise_manifest(manifest)
            digest = manifest_digest(data)
            # The signature, then the manifest last: until it exists the point does not count.
            write_manifest(store, prefix, data, digest, signer)
            versions = written_versions(
                store,
                [f"{prefix}/data/{entry.path}" for entry in entries]
                + [f"{prefix}/{SIGNATURE_NAME}", f"{prefix}/{MANIFEST_NAME}"],
            )
            written_at = finished.timestamp()
            with runtime.catalog.begin() as connection:
                cat.record_recovery_point(
                    connection,
                    {
                        "id": point_id,
                        "system": system,
                        "dataset": dataset.name,
                        "engine": dataset.engine,
                        "business_date": manifest.business_date,
                        "started_at": started.timestamp(),
                        "finished_at": written_at,
                        "source_site": site.name,
                        "source_host": site.host,
                        "hash_algorithm": HASH_ALGORITHM,
                        "manifest_sha256": digest,
                        "total_bytes": manifest.total_bytes,
                        "file_count": len(entries),
                        "status": "complete",
                    },
                )
                cat.record_copy(
                    connection,
                    point_id,
                    store.name,
                    store.site,
                    written_at=written_at,
                    verified_at=written_at,
                )
                integrity.record_versions(connection, point_id, store.name, versions, at=written_at)
            logger.info(
                "backup %s/%s: recovery point %s, %d files, %d bytes, manifest %s",
                system,
                dataset.name,
                point_id,
                len(entries),
                manifest.total_bytes,
                digest[:12],
            )
            outcomes.append(
                BackupOutcome(
                    point_id, system, dataset.name, store.name, manifest, digest, run.events_path
                )
            )
    finally:
        host_files.remove_tree(root)
    return outcomes


def _stream_to_store(host_files: Any, source: str, store: Any, key: str, entry: FileEntry) -> None:
    """Stream one artifact from the host into the store, hashing in flight; the digest seen in
    transit must equal the one the host computed."""
    with host_files.open_read(source) as handle:
        blocks, result = hashed(read_blocks(handle), HASH_ALGORITHM)
        store.write_stream(key, blocks, size=entry.size, sha256=entry.digest)
    size, digest = result()
    if size != entry.size or digest != entry.digest:
        raise DigestMismatch(key, entry.digest, digest, f"{size} of {entry.size} bytes in transit")
