"""What the shared task queue runs (docs/deploy.md, "Several serve nodes"): one queued
action per due system backup (the datasets of the system still without today's point, dumped
by one playbook run on its production host), per system off-site copy, and one per site-wide
job (verify, retention, drill reminder), planned from `run_due.plan_due`, run under the
catalog lease.

Inside a queued action, in order:
1. per-host and per-store slots: PostgreSQL advisory locks on a connection of their own,
   one slot of every host and store the action works on (`slot_scopes`), taken in sorted
   order (at most `per_host` actions on one host, `per_store` on one store, across every
   node). No free slot: the action is left for the next scheduling pass; a node that dies
   drops its connection, so its slots free themselves;
2. the catalog lease `due:<kind>` on the system (model/lease.py): the exactly-once guard — a
   live holder elsewhere means skip; a dead holder's lease is taken over;
3. under the lease the action is planned again from a fresh catalog, and only what is still
   due runs: a dataset backed up meanwhile (by a node that died after recording it, say) is
   left out, so no dataset gets a second point; nothing due means skip.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import psycopg

from orchestrator.actions.run_due import JOB_RUNNERS, RETRY_AFTER_SECONDS, DueJob, plan_due
from orchestrator.actions.verify_enclave import enclave_site
from orchestrator.errors import InputError, JobBusy, OrchestratorError
from orchestrator.model.jobs import CRASH_MARK, CatalogJob, catalog_job
from orchestrator.model.settings import Config
from orchestrator.model.snapshot import Snapshot, read_catalog
from orchestrator.runtime import Runtime

logger = logging.getLogger(__name__)
SYSTEM_KINDS = ("backup", "copy_offsite")
SLOT_NAMESPACE = "drctl-slot"


@dataclass(frozen=True)
class QueuedAction:
    """One action on the queue: its kind and system (or `all`)."""

    kind: str
    system: str

    @property
    def subject(self) -> str:
        return self.system

    @property
    def key(self) -> str:
        """The queueing lock: one waiting job per action."""
        return f"{self.kind}:{self.subject}"

    @property
    def lock(self) -> str:
        """The procrastinate lock: one running writer per system (the backup and copy
        actions hold the system's own catalog lease, `backup:<system>@<site>`), so never two
        writers on one dataset; site-wide jobs one at a time per kind."""
        return f"system:{self.system}" if self.kind in SYSTEM_KINDS else f"all:{self.kind}"


@dataclass(frozen=True)
class Bounds:
    """Concurrency bounds across all nodes: actions per production host, per store."""

    per_host: int = 2
    per_store: int = 4


def split_due(jobs: Sequence[DueJob], running: Collection[str] = ()) -> list[QueuedAction]:
    """Given the jobs `plan_due` returned and the keys of the actions running on the queue,
    return the actions to queue: one backup per system; a system's off-site copy only once
    its backup is neither due nor running; site-wide jobs only once no system action is
    (as `run-due` runs them after the backups and copies of its pass)."""
    busy = [key.split(":", 1) for key in running]
    backups = {job.subject for job in jobs if job.kind == "backup"}
    backups |= {subject for kind, subject in busy if kind == "backup"}
    actions = [QueuedAction("backup", job.subject) for job in jobs if job.kind == "backup"]
    actions += [
        QueuedAction("copy_offsite", job.subject)
        for job in jobs
        if job.kind == "copy_offsite" and job.subject not in backups
    ]
    if not any(job.kind in SYSTEM_KINDS for job in jobs) and not any(
        kind in SYSTEM_KINDS for kind, _subject in busy
    ):
        actions += [QueuedAction(job.kind, job.subject) for job in jobs if job.subject == "all"]
    return actions


def still_due(
    runtime: Runtime, snapshot: Snapshot, action: QueuedAction, at: datetime
) -> DueJob | None:
    """Return the action as due in this catalog snapshot (a backup names the datasets still
    without today's point), or None when nothing of it is due."""
    for job in plan_due(runtime.config, snapshot, at, runtime.pack):
        if job.kind == action.kind and job.subject == action.system:
            return job
    return None


def recently_failed(snapshot: Snapshot, action: QueuedAction, now: float) -> bool:
    """Return whether the action's last run failed less than RETRY_AFTER_SECONDS ago (not
    by a crash: those are retried at once), as `run-due` holds a failed job back."""
    rows = [
        r for r in snapshot.jobs if r.kind == f"due:{action.kind}" and r.subject == action.subject
    ]
    if not rows:
        return False
    last = max(rows, key=lambda row: row.started_at)
    crashed = CRASH_MARK in (last.error or "")
    return (
        last.state == "failed"
        and not crashed
        and now - (last.finished_at or last.started_at) < RETRY_AFTER_SECONDS
    )


def slot_scopes(config: Config, action: QueuedAction, bounds: Bounds) -> list[tuple[str, int]]:
    """Return the (scope, limit) pairs of every host and store an action works on, in the
    order its slots are taken: a backup its production host and primary store; an off-site
    copy the primary store it reads and the off-site store it writes; the validity check the
    enclave's host it restores on and every store (its sample is drawn inside the job from
    whichever stores hold copies, and its evidence is anchored in one); retention every store
    (it reads each copy's write time and deletes expired ones); the drill reminder none (it
    only logs)."""
    hosts: set[str] = set()
    stores: set[str] = set()
    if action.kind in SYSTEM_KINDS:
        system = config.system(action.system)
        stores.add(system.primary_store)
        if action.kind == "backup":
            hosts.add(config.site(system.production_site).host)
        else:
            stores.add(system.offsite_store)
    elif action.kind in ("verify", "retention"):
        stores.update(store.name for store in config.stores)
        if action.kind == "verify":
            hosts.update(_enclave_host(config))
    return sorted(
        [(f"host:{host}", bounds.per_host) for host in hosts]
        + [(f"store:{store}", bounds.per_store) for store in stores]
    )


def _enclave_host(config: Config) -> list[str]:
    """The verification enclave's host, or none when the site has no enclave (the check
    itself then fails with the configuration error, recorded on its job row)."""
    try:
        return [enclave_site(config, "dr.yml").host]
    except InputError:
        return []


def slot_key(scope: str) -> int:
    """Return the advisory-lock key of a scope's slots (its second key is the slot number)."""
    return zlib.crc32(f"{SLOT_NAMESPACE}:{scope}".encode()) & 0x7FFFFFFF


@contextmanager
def slots(conninfo: str, scopes: Sequence[tuple[str, int]]) -> Iterator[bool]:
    """Hold one free slot of every scope (session advisory locks on a connection of their
    own, released when it closes, also when the process dies); yield False when a scope has
    none free. Only try-locks are taken, so no action ever waits holding a slot; and they
    are taken in sorted scope order, so of two actions wanting the same two scopes the one
    that loses the first never holds the second (neither starves the other)."""
    if not scopes:
        yield True
        return
    with psycopg.connect(conninfo, autocommit=True) as connection:
        for scope, limit in sorted(set(scopes)):
            key = slot_key(scope)
            if not any(
                connection.execute("SELECT pg_try_advisory_lock(%s, %s)", (key, slot)).fetchone()[0]  # type: ignore[index]
                for slot in range(limit)
            ):
                yield False
                return
        yield True


def execute_action(runtime: Runtime, conninfo: str, bounds: Bounds, action: QueuedAction) -> str:
    """Run one queued action in this process; return what became of it (`busy`, `skipped`,
    `succeeded`, `failed`). A failure is recorded on the catalog job row, never raised: the
    queue must not retry what `run-due`'s rules hold back."""
    with slots(conninfo, slot_scopes(runtime.config.model, action, bounds)) as free:
        if not free:
            logger.info("queue: %s waits for a host or store slot", action.key)
            return "busy"
        try:
            with catalog_job(runtime.catalog, f"due:{action.kind}", action.subject) as held:
                return _run_held(runtime, action, held)
        except JobBusy as busy:
            logger.info("queue: %s skipped: %s", action.key, busy)
            return "skipped"


def _run_held(runtime: Runtime, action: QueuedAction, held: CatalogJob) -> str:
    fresh = read_catalog(runtime.catalog)
    fresh = replace(fresh, jobs=tuple(row for row in fresh.jobs if row.id != held.id))
    due = still_due(runtime, fresh, action, datetime.now(UTC))
    if due is None:
        held.detail = {"skipped": "already done"}
        return "skipped"
    try:
        status, message = JOB_RUNNERS[action.kind](runtime, due)
    except JobBusy as busy:
        held.detail = {"skipped": str(busy)}
        return "skipped"
    except OrchestratorError as error:
        held.fail(str(error))
        logger.error("queue: %s failed: %s", action.key, error)
        return "failed"
    if status != "succeeded":
        held.fail(message)
    held.detail = {"message": message, "datasets": list(due.datasets)}
    logger.info("queue: %s %s: %s", action.key, status, message)
    return status
