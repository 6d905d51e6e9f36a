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

from orchestrator.actions.point_trust import OpenedPoint, open_point
from orchestrator.actions.restore_selection import (
    PassedOver,
    Selection,
)
from orchestrator.actions.scratch import database_scratch, host_scratch, sweep_orphans
from orchestrator.errors import InfrastructureError
from orchestrator.integrations.ansible import run_playbook
from orchestrator.integrations.stores.base import MANIFEST_NAME, Store, point_prefix
from orchestrator.model.downstream import downstream_setting, raise_if_refused
from orchestrator.model.engines import (
    DATABASE_ENGINES,
    make_playbook_item,
    scratch_database_name,
    spool_root,
)
from orchestrator.model.integrity import Failure
from orchestrator.model.manifest import (
    Manifest,
    compare_fingerprints,
    fingerprint_differences,
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
    passed_over: tuple[PassedOver, ...] = ()
    notes: tuple[str, ...] = ()  # e.g. a newer S3 version over a key: the original was read
    failures: tuple[Failure, ...] = ()  # what this restore found in the points it passed over

    @property
    def ok(self) -> bool:
        return not self.differences and not any(self.invariant_violations.values())


@dataclass(frozen=True)
class RestoreOutcome:
    site: str
    datasets: tuple[RestoredDataset, ...]
    events_path: Path
    all_events: tuple[Path, ...] = ()

    @property
    def ok(self) -> bool:
        return all(dataset.ok for dataset in self.datasets)

    @property
    def fell_back(self) -> bool:
        """Whether some dataset was restored from an older point than its newest."""
        return any(dataset.passed_over for dataset in self.datasets)

    @property
    def mismatches_found(self) -> tuple[PassedOver, ...]:
        """The points this restore found not to match (recorded bad, with evidence): a drill
        that met one has found a failed check, even though it restored an older point."""
        return tuple(p for d in self.datasets for p in d.passed_over if p.mismatch)

    @property
    def failures(self) -> tuple[Failure, ...]:
        """Every mismatch this restore found in a point it then passed over (point, store,
        file, both values): what a drill names when it fails for them."""
        return tuple(failure for dataset in self.datasets for failure in dataset.failures)


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
    """Read, parse and authenticate a recovery point's manifest (point_trust.open_point);
    return it with its digest. Raise CheckFailed on a hostile, malformed, edited or
    unauthenticated manifest (DigestMismatch, Intruder)."""
    opened = open_point(runtime, store, system, dataset, point)
    return opened.manifest, opened.digest


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
    record_given: bool = True,
    allow_downstream: bool = False,
) -> RestoreOutcome:
    """Restore each dataset's newest good recovery point (or the given one) from a store into
    a site and compare fingerprints and invariants with the source's.

    Without `points`, a point marked bad, an intruder, or one whose manifest, files,
    fingerprint or invariants do not match is recorded (bad_points.report_failures) and passed
    over for the next older one; the outcome says which were passed over and why. With
    `points`, exactly those are restored and a mismatch is returned (a fingerprint) or raised
    (a file), not passed over; it is recorded bad all the same unless `record_given` is False
    (a validity check, which records what it finds itself). restore_mode `replace` puts
    databases in service (failover, failback); `scratch` restores them into a scratch database
    that is checked and dropped (validity checks in the enclave). targets, per dataset,
    restores elsewhere than the live dataset: `target_database` or `target_path` (a test
    failover's drill-scoped targets, model/drill_targets.py); a server feeding replicas is
    refused unless allow_downstream (model/downstream.py).
    """
    system = runtime.config.model.system(system_name)
    items = _downstream_items(runtime, system.name, site_name, targets, allow_downstream)
    store = runtime.store(store_name)
    selection = Selection(
        runtime, store, system.name, dict(points or {}), record_given=record_given
    )
    pending = [d for d in system.datasets if datasets is None or d.name in datasets]
    restored: dict[str, RestoredDataset] = {}
    events: list[Path] = []
    sweep_orphans(runtime)
    while pending:
        run, opened = _restore_round(
            runtime, system.name, site_name, selection, pending, purpose, restore_mode, items
        )
        events.append(run.events_path)
        retry = []
        for dataset in pending:
            result = _judge(
                selection,
                opened[dataset.name],
                run.result(_host(runtime, site_name), f"restore:{dataset.name}"),
            )
            if result.ok or selection.explicit:
                restored[dataset.name] = result
            else:
                retry.append(dataset)
        pending = retry
    chosen = [d.name for d in system.datasets if d.name in restored]
    return RestoreOutcome(
        site_name, tuple(restored[name] for name in chosen), events[-1], tuple(events)
    )


def _downstream_items(
    runtime: Runtime,
    system: str,
    site_name: str,
    targets: Mapping[str, Mapping[str, str]] | None,
    allowed: bool,
) -> dict[str, dict[str, str]]:
    """Return each dataset's extra playbook keys: its target (if any) and `downstream`, which
    says whether the host may write into a server that feeds replicas."""
    config = runtime.config.model
    downstream = downstream_setting(config, system, site_name, allowed)
    return {
        d.name: {**(targets or {}).get(d.name, {}), "downstream": downstream}
        for d in config.system(system).datasets
    }


def _host(runtime: Runtime, site_name: str) -> str:
    return runtime.config.model.site(site_name).host


def _restore_round(
    runtime: Runtime,
    system: str,
    site_name: str,
    selection: Selection,
    pending: Sequence[Any],
    purpose: str,
    restore_mode: str,
    targets: Mapping[str, Mapping[str, str]] | None,
) -> tuple[Any, dict[str, OpenedPoint]]:
    """Fetch the next good point of each pending dataset to the site and run restore.yml."""
    site = runtime.config.model.site(site_name)
    root = spool_root(site, purpose, system)
    host_files = runtime.host_files(site.host)
    opened: dict[str, OpenedPoint] = {}
    items = []
    job = f"{purpose}:{system}@{site.name}"
    # The spool and the scratch databases hold customer data: journalled, removed on every
    # way out, and by the next run after a crash (actions/scratch.py).
    with host_scratch(runtime, site.host, root, job=job):
        for dataset in pending:
            item = make_playbook_item(site, dataset, root)
            if dataset.engine in DATABASE_ENGINES and dataset.database:
                item["scratch_database"] = scratch_database_name(dataset.database)
            item.update((targets or {}).get(dataset.name, {}))
            opened[dataset.name] = selection.fetch(dataset.name, host_files, item["spool"])
            items.append(item)
        started = datetime.now(UTC)
        with database_scratch(runtime, site.host, items, job=job):
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
                ident=f"{purpose}-{system}-{site.name}-{started:%Y%m%dT%H%M%S%fZ}",
                work_dir=runtime.work_dir,
                limit=site.host,
            )
            if not run.ok:
                raise_if_refused(run.failures, f"restore of {system} into {site.name}")
                raise InfrastructureError(
                    f"restore of {system} into {site.name} failed: "
                    + "; ".join(run.failures or [run.status])
                )
    return run, opened


def _judge(selection: Selection, opened: OpenedPoint, result: Mapping[str, Any]) -> RestoredDataset:
    """Compare a restored dataset with its manifest; record a mismatch (when choosing points
    ourselves) and return what was restored."""
    manifest = opened.manifest
    differences = compare_fingerprints(manifest.fingerprint, result["fingerprint"])
    violations = dict(result.get("invariants", {}))
    restored = RestoredDataset(
        dataset=opened.dataset,
        recovery_point_id=opened.point,
        store=selection.store.name,
        manifest=manifest,
        manifest_sha256=opened.digest,
        fingerprint=result["fingerprint"],
        differences=tuple(differences),
        invariant_violations=violations,
        passed_over=tuple(selection.passed_over.get(opened.dataset, [])),
        notes=tuple(
            f"{d.key}: {d.kind}: read {d.expected}, store shows {d.actual}" for d in opened.drift
        ),
        failures=tuple(selection.failures.get(opened.dataset, [])),
    )
    logger.info(
        "restored %s %s from %s: %s",
        opened.label,
        manifest.recovery_point_id,
        selection.store.name,
        "fingerprint equal" if not differences else "; ".join(differences),
    )
    if not restored.ok:
        failures = restore_failures(opened, selection.store.name, result["fingerprint"], violations)
        if selection.explicit:
            selection.record_given_failures(failures)
        else:
            selection.reject(opened.dataset, opened.point, failures)
    return restored


def restore_failures(
    opened: OpenedPoint, store: str, fingerprint: Mapping[str, Any], violations: Mapping[str, int]
) -> list[Failure]:
    """Return the failures of a restored dataset: one per table or tree that differs from the
    source's fingerprint (both digests), one per violated invariant."""
    failures = [
        Failure(
            opened.point,
            opened.system,
            opened.dataset,
            store,
            f"(table) {d.name}",
            "fingerprint",
            d.expected,
            d.actual,
        )
        for d in fingerprint_differences(opened.manifest.fingerprint, fingerprint)
    ]
    failures += [
        Failure(
            opened.point,
            opened.system,
            opened.dataset,
            store,
            f"(invariant) {name}",
            "invariant",
            "0 violating rows",
            f"{count} rows",
        )
        for name, count in sorted(violations.items())
        if count
    ]
    return failures


def run_fingerprint(
    runtime: Runtime, system_name: str, site_name: str, *, ident: str
) -> tuple[dict[str, Mapping[str, Any]], Path]:
    """Fingerprint a system's live datasets at a site; return {dataset: result} and events."""
    results, events = run_fingerprints(runtime, system_name, [site_name], ident=ident)
    return results[site_name], events


def run_fingerprints(
    runtime: Runtime, system_name: str, site_names: Sequence[str], *, ident: str
) -> tuple[dict[str, dict[str, Mapping[str, Any]]], Path]:
    """Fingerprint a system's live datasets at sites on distinct hosts in one playbook run
    (the hosts in parallel); return {site: {dataset: result}} and the run's events."""
    config = runtime.config.model
    system = config.system(system_name)
    sites = [config.site(name) for name in site_names]
    if len({site.host for site in sites}) != len(sites):
        raise ValueError(f"sites {list(site_names)} do not have distinct hosts")
    by_host = {
        site.host: [
            make_playbook_item(site, d, spool_root(site, "fingerprint", system.name))
            for d in system.datasets
        ]
        for site in sites
    }
    hosts = ",".join(by_host)
    run = run_playbook(
        "fingerprint.yml",
        inventory=runtime.config.inventory,
        extravars={
            "dr_host": hosts,
            "dr_datasets_by_host": by_host,
            "dr_hash_algorithm": "sha256",
        },
        ident=ident,
        work_dir=runtime.work_dir,
        limit=hosts,
    )
    if not run.ok:
        raise InfrastructureError(
            f"fingerprint of {system.name} at {', '.join(site_names)} failed: "
            + "; ".join(run.failures or [run.status])
        )
    return (
        {
            site.name: {
                d.name: run.result(site.host, f"fingerprint:{d.name}") for d in system.datasets
            }
            for site in sites
        },
        run.events_path,
    )
