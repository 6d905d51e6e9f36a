"""`drctl backup`: full backups by the playbooks, streamed to the store, manifest last.

The digests in the manifest are the ones the source host computed when it made the dump; the
bytes are hashed again in flight and must match, or the recovery point fails and nothing is
counted.

Each dataset is backed up on its own: one playbook run dumps every dataset of the site, each in
its own block (a failure is rescued, its spool removed, and reported as `failed:<dataset>`),
then each dataset is streamed to the store on its own. A dataset that fails never stops the
others; the report lists every dataset's outcome and the command ends with the worst
(`errors.worst_exit_code`: a mismatch is 1, then infrastructure 3). The spool and every
recovery point being written are journalled as scratch areas, so a killed run is cleaned up by
the next one (actions/scratch.py).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestrator.actions.backup_stream import HASH_ALGORITHM, stream_files
from orchestrator.actions.point_keys import kek_path, new_sealing, site_kek
from orchestrator.actions.point_trust import (
    SIGNATURE_NAME,
    manifest_signer,
    signer_fingerprint,
    write_manifest,
    written_versions,
)
from orchestrator.actions.scratch import host_scratch, store_scratch, sweep_orphans
from orchestrator.config import LoadedConfig
from orchestrator.errors import (
    CheckFailed,
    ExitCode,
    InfrastructureError,
    InputError,
    OrchestratorError,
    worst_exit_code,
)
from orchestrator.integrations.ansible import PlaybookRun, run_playbook
from orchestrator.integrations.envelope import KeyUnavailable, load_file_kek
from orchestrator.integrations.stores.base import MANIFEST_NAME, Store, point_prefix
from orchestrator.model import catalog as cat
from orchestrator.model import integrity
from orchestrator.model.engines import make_playbook_item, spool_root
from orchestrator.model.jobs import CatalogJob, catalog_job
from orchestrator.model.manifest import (
    ENCRYPTED_FORMAT_VERSION,
    FORMAT_VERSION,
    Manifest,
    manifest_digest,
    serialise_manifest,
)
from orchestrator.model.settings import Dataset, Site
from orchestrator.rules.workdays import business_date
from orchestrator.runtime import Runtime
from orchestrator.timefmt import iso_utc, sortable_id

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackupOutcome:
    recovery_point_id: str
    system: str
    dataset: str
    store: str
    manifest: Manifest
    manifest_sha256: str
    events_path: Path


@dataclass(frozen=True)
class DatasetFailure:
    """A dataset that was not backed up: why, and the exit code that reason stands for."""

    system: str
    dataset: str
    exit_code: ExitCode
    reason: str


@dataclass
class BackupReport:
    """Every dataset's outcome of one system's backup."""

    system: str
    outcomes: list[BackupOutcome] = field(default_factory=list)
    failures: list[DatasetFailure] = field(default_factory=list)

    @property
    def exit_code(self) -> ExitCode:
        return worst_exit_code(failure.exit_code for failure in self.failures)

    def fail(self, dataset: str, error: OrchestratorError | OSError | str) -> None:
        code = error.exit_code if isinstance(error, OrchestratorError) else ExitCode.INFRASTRUCTURE
        self.failures.append(DatasetFailure(self.system, dataset, code, str(error)))
        logger.error("backup %s/%s failed: %s", self.system, dataset, error)

    def raise_for_failures(self) -> None:
        """Raise CheckFailed or InfrastructureError (the worst) naming every failed dataset."""
        if not self.failures:
            return
        total = len(self.failures) + len(self.outcomes)
        message = f"backup of {self.system}: {len(self.failures)} of {total} dataset(s) failed: "
        message += "; ".join(f"{f.dataset}: {f.reason}" for f in self.failures)
        if self.exit_code == ExitCode.CHECK_FAILED:
            raise CheckFailed(message)
        raise InfrastructureError(message)


@dataclass(frozen=True)
class _Pass:
    """One backup pass of a system's datasets from a site into a store."""

    runtime: Runtime
    system: str
    site: Site
    store: Store
    started: datetime
    job: CatalogJob
    signer: Any = None

    @property
    def key(self) -> str:
        """The job's lease key, which names its scratch areas."""
        return f"{self.job.kind}:{self.job.subject}"


def run_backup(
    runtime: Runtime,
    system_name: str,
    *,
    site_name: str | None = None,
    store_name: str | None = None,
    datasets: Sequence[str] | None = None,
) -> list[BackupOutcome]:
    """Back up a system's datasets (see back_up_system); return one outcome per dataset, or
    raise the worst failure, naming every failed dataset, once the healthy ones are recorded."""
    report = back_up_system(
        runtime, system_name, site_name=site_name, store_name=store_name, datasets=datasets
    )
    report.raise_for_failures()
    return report.outcomes


def require_backup_keys(config: LoadedConfig) -> None:
    """Given the config, load the keys a backup signs and encrypts with, before a command opens
    the catalog: a key that is malformed, unpinned, readable by others or (the manifest key)
    missing raises InputError (exit 2) with nothing written. An absent KEK file stays the
    backup's own KeyUnavailable (exit 3): a key mount that is not there is infrastructure."""
    manifest_signer(config)
    path = kek_path(config)
    if path is not None:
        with suppress(KeyUnavailable):
            load_file_kek(path, str(config.path))


def back_up_system(
    runtime: Runtime,
    system_name: str,
    *,
    site_name: str | None = None,
    store_name: str | None = None,
    datasets: Sequence[str] | None = None,
) -> BackupReport:
    """Back up a system's datasets in full from a site into a store, each on its own; return
    every dataset's outcome. A failed dataset counts nothing; the others are recorded."""
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
    sweep_orphans(runtime)
    subject = f"{system.name}@{site.name}"
    with catalog_job(runtime.catalog, "backup", subject) as job:
        report = _back_up(runtime, system.name, site, store, chosen, job)
        job.detail = {
            "recovery_points": [o.recovery_point_id for o in report.outcomes],
            "failed": {f.dataset: f.reason for f in report.failures},
        }
        if report.failures:
            job.fail("; ".join(f"{f.dataset}: {f.reason}" for f in report.failures))
    return report


def _back_up(
    runtime: Runtime, system: str, site: Site, store: Store, chosen: list[Dataset], job: CatalogJob
) -> BackupReport:
    signer = manifest_signer(runtime.config)  # a key problem is exit 2, before any work
    if kek_path(runtime.config) is not None:
        site_kek(runtime.config, "to encrypt new recovery points")  # exit 3 before any work
    report = BackupReport(system)
    ready = []
    for dataset in chosen:
        if dataset.password_env and dataset.password_env not in os.environ:
            report.fail(
                dataset.name,
                f"password variable {dataset.password_env} (its password_env) is not set",
            )
        else:
            ready.append(dataset)
    if not ready:
        return report
    try:  # fail early: an unreachable store is a fault before any host dumps a byte
        next(iter(store.list_points()), None)
    except (OrchestratorError, OSError) as error:
        for dataset in ready:
            report.fail(dataset.name, error)
        return report
    backup = _Pass(runtime, system, site, store, datetime.now(UTC), job, signer)
    # A spool of its own per run: the dump of a killed run may still be running on the host
    # (the host does not notice the controller died), and must not write into this one's.
    root = f"{spool_root(site, 'backup', system)}-{sortable_id(backup.started)}"
    items = [make_playbook_item(site, dataset, root) for dataset in ready]
    with host_scratch(runtime, site.host, root, job=backup.key), ThreadPoolExecutor(1) as early:
        # The host's file access (the inventory read, an SSH session) is opened while the
        # playbook runs, not after it; a failure here shows again where it is first needed.
        opening = early.submit(runtime.host_files, site.host)
        try:
            run = _dump(backup, root, items)
        except OrchestratorError as error:
            for dataset in ready:
                report.fail(dataset.name, error)
            return report
        opening.exception()  # wait for it; its error, if any, is raised again below
        for dataset, item in zip(ready, items, strict=True):
            try:
                outcome = _store_dataset(backup, run, dataset, item)
            except (OrchestratorError, OSError) as error:
                report.fail(dataset.name, error)
            else:
                report.outcomes.append(outcome)
    return report


def _dump(backup: _Pass, root: str, items: list[Any]) -> PlaybookRun:
    """Dump and hash every dataset on the site's host; raise when the run as a whole failed
    (a dataset's own failure is rescued and comes back as its `failed:` result)."""
    runtime, system, site = backup.runtime, backup.system, backup.site
    logger.info(
        "backup %s: dumping and hashing %d dataset(s) on %s (%s)",
        system,
        len(items),
        site.host,
        ", ".join(item["name"] for item in items),
    )
    run = run_playbook(
        "backup_full.yml",
        inventory=runtime.config.inventory,
        extravars={
            "dr_host": site.host,
            "dr_spool_root": root,
            "dr_datasets": items,
            "dr_hash_algorithm": HASH_ALGORITHM,
        },
        ident=f"backup-{system}-{site.name}-{backup.started:%Y%m%dT%H%M%S%fZ}",
        work_dir=runtime.work_dir,
        limit=site.host,
    )
    if not run.ok:
        raise InfrastructureError(
            f"backup of {system} at {site.name} failed: " + "; ".join(run.failures or [run.status])
        )
    return run


def _store_dataset(
    backup: _Pass, run: PlaybookRun, dataset: Dataset, item: dict[str, Any]
) -> BackupOutcome:
    """Stream one dataset's dump from the spool into the store, manifest last, and record the
    recovery point. Raise InfrastructureError or CheckFailed (digest mismatch)."""
    runtime, system, site, store = backup.runtime, backup.system, backup.site, backup.store
    started = backup.started
    failed = run.results.get(site.host, {}).get(f"failed:{dataset.name}")
    if failed is not None:
        raise InfrastructureError(
            f"{site.host}: {failed.get('task') or 'backup'}: {failed.get('error') or 'failed'}"
        )
    artifacts = run.result(site.host, f"artifacts:{dataset.name}")
    dump = run.result(site.host, f"dump:{dataset.name}")
    point_id = sortable_id(started)
    prefix = point_prefix(system, dataset.name, point_id)
    host_files = runtime.host_files(site.host)
    sealing = new_sealing(runtime.config)
    with store_scratch(runtime, store, prefix, job=backup.key):
        entries = stream_files(
            host_files, item["spool"], store, prefix, artifacts["files"], sealing, runtime.work_dir
        )
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
            encryption=None if sealing is None else sealing.encryption,
            format_version=FORMAT_VERSION if sealing is None else ENCRYPTED_FORMAT_VERSION,
            signed_by=signer_fingerprint(backup.signer),
        )
        data = serialise_manifest(manifest)
        digest = manifest_digest(data)
        # The signature, then the manifest last: until it exists the point does not count; a
        # job whose lease was taken over (this node cut off past it) writes neither.
        with runtime.catalog.begin() as connection:
            backup.job.fence(connection)
        write_manifest(store, prefix, data, digest, backup.signer)
        versions = written_versions(
            store,
            [f"{prefix}/data/{entry.path}" for entry in entries]
            + [f"{prefix}/{SIGNATURE_NAME}", f"{prefix}/{MANIFEST_NAME}"],
        )
    _record(backup, manifest, digest, (started, finished), versions)
    return BackupOutcome(
        point_id, system, dataset.name, store.name, manifest, digest, run.events_path
    )


def _record(
    backup: _Pass,
    manifest: Manifest,
    digest: str,
    times: tuple[datetime, datetime],
    versions: dict[str, str],
) -> None:
    """Record the point and its copy, in one transaction with the job's lease fence."""
    runtime, store = backup.runtime, backup.store
    started, finished = times
    written_at = finished.timestamp()
    with runtime.catalog.begin() as connection:
        backup.job.fence(connection)
        cat.record_recovery_point(
            connection,
            {
                "id": manifest.recovery_point_id,
                "system": manifest.system,
                "dataset": manifest.dataset,
                "engine": manifest.engine,
                "business_date": manifest.business_date,
                "started_at": started.timestamp(),
                "finished_at": written_at,
                "source_site": manifest.source_site,
                "source_host": manifest.source_host,
                "hash_algorithm": HASH_ALGORITHM,
                "manifest_sha256": digest,
                "total_bytes": manifest.total_bytes,
                "file_count": len(manifest.files),
                "status": "complete",
                "cipher": manifest.encryption.cipher if manifest.encryption else None,
            },
        )
        cat.record_copy(
            connection,
            manifest.recovery_point_id,
            store.name,
            store.site,
            written_at=written_at,
            verified_at=written_at,
        )
        integrity.record_versions(
            connection, manifest.recovery_point_id, store.name, versions, at=written_at
        )
    logger.info(
        "backup %s/%s: recovery point %s, %d files, %d bytes, manifest %s",
        manifest.system,
        manifest.dataset,
        manifest.recovery_point_id,
        len(manifest.files),
        manifest.total_bytes,
        digest[:12],
    )
