"""Restore recovery points from a store onto a site's host and check them.

Every file is checked against the manifest taken at the source while it streams to the host;
after the engine role restores it, the logical fingerprint and the invariants are compared.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestrator.errors import CheckFailed, InfrastructureError
from orchestrator.integrations.ansible import run_playbook
from orchestrator.integrations.stores.base import MANIFEST_NAME, Store, point_prefix
from orchestrator.integrations.transfer import DigestMismatch, hashed, read_blocks
from orchestrator.model import catalog as cat
from orchestrator.model.engines import make_playbook_item, spool_root
from orchestrator.model.manifest import (
    Manifest,
    ManifestError,
    compare_fingerprints,
    manifest_digest,
    parse_manifest,
)
from orchestrator.runtime import Runtime

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RestoredDataset:
    dataset: str
    recovery_point_id: str
    store: str
    manifest: Manifest
    manifest_sha256: str
    fingerprint: Mapping[str, Any]
    differences: tuple[str, ...] = ()
    invariant_violations: Mapping[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.differences and not any(self.invariant_violations.values())


@dataclass(frozen=True)
class RestoreOutcome:
    site: str
    datasets: tuple[RestoredDataset, ...]
    events_path: Path

    @property
    def ok(self) -> bool:
        return all(dataset.ok for dataset in self.datasets)


def complete_points(store: Store, system: str, dataset: str) -> list[str]:
    """Return the ids of the recovery points of a dataset in a store that have a manifest
    (the others are incomplete and never count), oldest first."""
    return sorted(
        point
        for point_system, point_dataset, point in store.list_points()
        if point_system == system
        and point_dataset == dataset
        and store.exists(f"{point_prefix(system, dataset, point)}/{MANIFEST_NAME}")
    )


def load_manifest(
    runtime: Runtime, store: Store, system: str, dataset: str, point: str
) -> tuple[Manifest, str]:
    """Read and parse a recovery point's manifest from a store and check its digest against
    the catalog's record. Raise CheckFailed on a hostile, malformed or edited manifest."""
    key = f"{point_prefix(system, dataset, point)}/{MANIFEST_NAME}"
    data = store.read_bytes(key)
    digest = manifest_digest(data)
    try:
        manifest = parse_manifest(data, source=f"{store.name}:{key}")
    except ManifestError as error:
        raise CheckFailed(f"refused manifest: {error}") from error
    if (manifest.system, manifest.dataset, manifest.recovery_point_id) != (system, dataset, point):
        raise CheckFailed(f"{store.name}:{key}: manifest names another recovery point")
    with runtime.catalog.begin() as connection:
        row = cat.get_recovery_point(connection, point)
    if row is not None and row.manifest_sha256 != digest:
        raise DigestMismatch(
            f"{store.name}:{key}",
            row.manifest_sha256,
            digest,
            "manifest changed after it was written",
        )
    return manifest, digest


def fetch_to_host(store: Store, manifest: Manifest, host_files: Any, destination: str) -> None:
    """Stream every file of a recovery point from the store to the host, checking size and
    digest in flight. Raise DigestMismatch naming the file and both digests, or CheckFailed
    when a file is missing."""
    prefix = point_prefix(manifest.system, manifest.dataset, manifest.recovery_point_id)
    for entry in manifest.files:
        key = f"{prefix}/data/{entry.path}"
        if not store.exists(key):
            raise CheckFailed(
                f"{store.name}:{key}: missing (expected {entry.size} bytes, digest {entry.digest})"
            )
        with store.open_read(key) as handle:
            blocks, result = hashed(read_blocks(handle), manifest.hash_algorithm)
            host_files.write_stream(f"{destination}/data/{entry.path}", blocks)
        size, digest = result()
        if digest != entry.digest or size != entry.size:
            raise DigestMismatch(
                f"{store.name}:{key}",
                entry.digest,
                digest,
                f"{size} bytes read, {entry.size} expected",
            )


def run_restore(
    runtime: Runtime,
    system_name: str,
    *,
    store_name: str,
    site_name: str,
    points: Mapping[str, str] | None = None,
    datasets: Sequence[str] | None = None,
    purpose: str = "restore",
    restore_mode: str = "replace",
    targets: Mapping[str, Mapping[str, str]] | None = None,
) -> RestoreOutcome:
    """Restore the given (default: newest complete) recovery point of each dataset from a store
    into a site and compare fingerprints and invariants with the source's.

    restore_mode `replace` puts databases in service (failover, failback); `scratch` restores
    them into a scratch database that is checked and dropped (validity checks in the enclave).
    targets, per dataset, restores somewhere else than the live dataset: `target_database` or
    `target_path` (a test failover's drill-scoped targets, model/drill_targets.py).
    """
    config = runtime.config.model
    system = config.system(system_name)
    site = config.site(site_name)
    store = runtime.store(store_name)
    chosen = [d for d in system.datasets if datasets is None or d.name in datasets]
    root = spool_root(site, purpose, system.name)
    host_files = runtime.host_files(site.host)
    manifests: dict[str, tuple[Manifest, str]] = {}
    items = []
    try:
        for dataset in chosen:
            point = (points or {}).get(dataset.name)
            if point is None:
                available = complete_points(store, system.name, dataset.name)
                if not available:
                    raise CheckFailed(
                        f"store {store.name}: no complete recovery point of "
                        f"{system.name}/{dataset.name}"
                    )
                point = available[-1]
            manifest, digest = load_manifest(runtime, store, system.name, dataset.name, point)
            item = make_playbook_item(site, dataset, root)
            item.update((targets or {}).get(dataset.name, {}))
            fetch_to_host(store, manifest, host_files, item["spool"])
            manifests[dataset.name] = (manifest, digest)
            items.append(item)
        started = datetime.now(UTC)
        run = run_playbook(
            "restore.yml",
            inventory=runtime.config.inventory,
            extravars={
                "dr_host": site.host,
                "dr_spool_root": root,
                "dr_datasets": items,
                "dr_hash_algorithm": "sha256",
                "dr_restore_mode": restore_mode,
            },
            ident=f"{purpose}-{system.name}-{site.name}-{started:%Y%m%dT%H%M%S%fZ}",
            work_dir=runtime.work_dir,
            limit=site.host,
        )
    finally:
        host_files.remove_tree(root)
    if not run.ok:
        raise InfrastructureError(
            f"restore of {system.name} into {site.name} failed: "
            + "; ".join(run.failures or [run.status])
        )
    restored = []
    for dataset in chosen:
        manifest, digest = manifests[dataset.name]
        result = run.result(site.host, f"restore:{dataset.name}")
        differences = compare_fingerprints(manifest.fingerprint, result["fingerprint"])
        restored.append(
            RestoredDataset(
                dataset=dataset.name,
                recovery_point_id=manifest.recovery_point_id,
                store=store.name,
                manifest=manifest,
                manifest_sha256=digest,
                fingerprint=result["fingerprint"],
                differences=tuple(differences),
                invariant_violations=dict(result.get("invariants", {})),
            )
        )
        logger.info(
            "restored %s/%s %s into %s: %s",
            system.name,
            dataset.name,
            manifest.recovery_point_id,
            site.name,
            "fingerprint equal" if not differences else "; ".join(differences),
        )
    return RestoreOutcome(site.name, tuple(restored), run.events_path)


def run_fingerprint(
    runtime: Runtime, system_name: str, site_name: str, *, ident: str
) -> tuple[dict[str, Mapping[str, Any]], Path]:
    """Fingerprint a system's live datasets at a site; return {dataset: result} and events."""
    config = runtime.config.model
    system = config.system(system_name)
    site = config.site(site_name)
    items = [
        make_playbook_item(site, d, spool_root(site, "fingerprint", system.name))
        for d in system.datasets
    ]
    run = run_playbook(
        "fingerprint.yml",
        inventory=runtime.config.inventory,
        extravars={"dr_host": site.host, "dr_datasets": items, "dr_hash_algorithm": "sha256"},
        ident=ident,
        work_dir=runtime.work_dir,
        limit=site.host,
    )
    if not run.ok:
        raise InfrastructureError(
            f"fingerprint of {system.name} at {site.name} failed: "
            + "; ".join(run.failures or [run.status])
        )
    return (
        {d.name: run.result(site.host, f"fingerprint:{d.name}") for d in system.datasets},
        run.events_path,
    )
