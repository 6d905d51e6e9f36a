"""`drctl retention [--dry-run] [--approver NAME]`: rotate full recovery points safely.

A copy of a recovery point is deleted from a store only when all of these hold:

* the point is complete and its dataset is configured;
* its business date is not among the newest `keep_generations` (≥ 8) business dates present
  on that store;
* it is older than the dataset's rotation period (backup.rotation min_days, raised to 184 /
  1096 days for log / accounting-change datasets) AND older than HARD_FLOOR_SECONDS (7×24 h),
  measured from the LATER of the catalog's write time and the store's own write time of the
  manifest (a store time that cannot be read keeps the copy);
* the store holds a copy written at least 7×24 h after it (by the store's own clock), so a
  clock that jumped forward cannot expire everything at once;
* the catalog's retain_until (Object Lock) has passed;
* a copy at the system's production site goes only once the point has a present, verified
  copy at another site (260号 第七条 「备份数据要实行异地保存」): while off-site copies fail, the
  primary copy is the point's only one, and deleting it would also drop the point from the
  off-site rule's judgement.

260号 第七条 「数据完全备份介质的循环周期不能小于7天」; T/TJSFB 009 §8 b) destruction by approval
and registration: every deletion is recorded in the catalog copies table with its reason and,
where `retention.require_approver` is set, the approver. The row is marked deleted before the
files are removed (actions/retention_delete.py), so a reader of the copy can tell.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from orchestrator.actions.retention_delete import (
    DELETED,
    LEFT,
    Deletion,
    delete_copy,
    sweep_leftovers,
)
from orchestrator.config import LoadedConfig
from orchestrator.errors import InputError, OrchestratorError
from orchestrator.integrations.stores.base import MANIFEST_NAME, Store, point_prefix
from orchestrator.model.jobs import catalog_job
from orchestrator.model.settings import Config, System
from orchestrator.model.snapshot import CopyRow, PointRow, Snapshot, read_catalog
from orchestrator.rules.rotation import HARD_FLOOR_SECONDS, keep_generations, rotation_days
from orchestrator.rules.rule import RulePack
from orchestrator.runtime import Runtime

logger = logging.getLogger(__name__)
DAY_SECONDS = 86400
StoreTimes = Mapping[tuple[str, str], float | None]


@dataclass(frozen=True)
class RetentionPlan:
    """What rotation would delete at `at`, and what each store keeps per dataset."""

    at: float
    deletions: tuple[Deletion, ...]
    kept: Mapping[str, int] = field(default_factory=dict)  # "system/dataset@store" -> dates
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RetentionResult:
    """What a retention run did."""

    plan: RetentionPlan
    dry_run: bool
    deleted: tuple[Deletion, ...]
    approver: str | None
    left: tuple[Deletion, ...] = ()  # recorded deleted, files not removed: the next pass does
    leftovers: tuple[str, ...] = ()  # files of copies deleted earlier, found and removed


def plan_retention(
    config: Config | LoadedConfig,
    pack: RulePack,
    snapshot: Snapshot,
    store_write_times: StoreTimes,
    at: datetime,
) -> RetentionPlan:
    """Given the config, the site's rule pack, a catalog snapshot, the stores' own write times
    of each copy's manifest ((store, recovery point id) → epoch seconds, or None when unknown)
    and the time, return the deletions rotation may make (see the module docstring)."""
    model = config.model if isinstance(config, LoadedConfig) else config
    now = at.timestamp()
    keep = keep_generations(pack)
    deletions: list[Deletion] = []
    kept: dict[str, int] = {}
    notes: list[str] = []
    copies_by_point = snapshot.copies_by_point()
    complete: dict[tuple[str, str], dict[str, PointRow]] = {}  # grouped once: not per dataset
    for row in snapshot.points:
        if row.status == "complete":
            complete.setdefault((row.system, row.dataset), {})[row.id] = row
    for system in model.systems:
        for dataset in system.datasets:
            period = max(rotation_days(pack, dataset.category) * DAY_SECONDS, HARD_FLOOR_SECONDS)
            points = complete.get((system.name, dataset.name), {})
            by_store: dict[str, list[CopyRow]] = {}
            for point_id in points:
                for copy in copies_by_point.get(point_id, []):
                    if copy.status == "present":
                        by_store.setdefault(copy.store, []).append(copy)
            only_copy = _without_off_site_copy(system, points, copies_by_point)
            for store, copies in sorted(by_store.items()):
                held = {c.recovery_point_id for c in copies if c.site == system.production_site}
                chosen, store_notes = _plan_store(
                    points, copies, held & only_copy, (store_write_times, now, period), keep
                )
                deletions += chosen
                notes += store_notes
                remaining = {points[c.recovery_point_id].business_date for c in copies} - {
                    d.business_date for d in chosen
                }
                kept[f"{system.name}/{dataset.name}@{store}"] = len(remaining)
    return RetentionPlan(now, tuple(deletions), kept, tuple(notes))


def _without_off_site_copy(
    system: System, points: Mapping[str, PointRow], copies_by_point: Mapping[str, list[CopyRow]]
) -> set[str]:
    """Return the ids of the points without a present, verified copy at a site other than
    the system's production site."""
    return {
        point_id
        for point_id in points
        if not any(
            c.status == "present" and c.verified_at is not None and c.site != system.production_site
            for c in copies_by_point.get(point_id, [])
        )
    }


def _plan_store(
    points: Mapping[str, PointRow],
    copies: list[CopyRow],
    held: Collection[str],
    clock: tuple[StoreTimes, float, float],
    keep: int,
) -> tuple[list[Deletion], list[str]]:
    """Given a dataset's points, its present copies in one store, the points whose copy here
    is their only one until copied off-site, (store write times, now, rotation period) and the
    generations to keep, return the deletions and notes of what was kept and why."""
    times, now, period = clock
    dates = sorted({points[c.recovery_point_id].business_date for c in copies}, reverse=True)
    protected = set(dates[:keep])
    known = [t for c in copies if (t := times.get((c.store, c.recovery_point_id))) is not None]
    newest_store_time = max(known, default=None)
    chosen, notes = [], []
    for copy in copies:
        point = points[copy.recovery_point_id]
        if point.business_date in protected:
            continue
        store_time = times.get((copy.store, copy.recovery_point_id))
        if store_time is None or newest_store_time is None:
            notes.append(
                f"{copy.recovery_point_id}@{copy.store}: the store's write time is unknown, kept"
            )
            continue
        written = max(copy.written_at, point.finished_at, store_time)
        if now - written < period or now - written < HARD_FLOOR_SECONDS:
            continue
        if newest_store_time - store_time < HARD_FLOOR_SECONDS:
            continue
        if copy.retain_until is not None and copy.retain_until > now:
            continue
        if copy.recovery_point_id in held:
            notes.append(
                f"{copy.recovery_point_id}@{copy.store}: no verified copy at another site yet "
                "(copy-offsite), kept"
            )
            continue
        age_days = (now - written) / DAY_SECONDS
        chosen.append(
            Deletion(
                point.id,
                point.system,
                point.dataset,
                copy.store,
                point.business_date,
                copy.written_at,
                store_time,
                f"rotation: {age_days:.1f} days old (≥ {period / DAY_SECONDS:g} d by the later of "
                f"catalog and store write time) and beyond the newest {keep} generations on store "
                f"{copy.store}",
            )
        )
    return chosen, notes


def read_store_times(runtime: Runtime, snapshot: Snapshot) -> dict[tuple[str, str], float | None]:
    """Return each present copy's manifest write time as the store records it (None when the
    store cannot say: missing manifest, store unreachable, store no longer configured)."""
    stores: dict[str, Store | None] = {}
    points = {p.id: p for p in snapshot.points}
    times: dict[tuple[str, str], float | None] = {}
    for copy in snapshot.copies:
        point = points.get(copy.recovery_point_id)
        if copy.status != "present" or point is None:
            continue
        times[(copy.store, copy.recovery_point_id)] = _store_time(
            runtime, stores, copy.store, point
        )
    return times


def _store_time(
    runtime: Runtime, stores: dict[str, Store | None], name: str, point: PointRow
) -> float | None:
    if name not in stores:
        try:
            stores[name] = runtime.store(name)
        except (StopIteration, NotImplementedError, OrchestratorError) as error:
            logger.warning(
                "retention: store %s cannot be opened (%s); its copies are kept", name, error
            )
            stores[name] = None
    store = stores[name]
    if store is None:
        return None
    key = f"{point_prefix(point.system, point.dataset, point.id)}/{MANIFEST_NAME}"
    try:
        return store.written_at(key)
    except (OSError, OrchestratorError) as error:
        logger.warning("retention: %s:%s write time unreadable (%s); kept", name, key, error)
        return None


def run_retention(runtime: Runtime, dry_run: bool, approver: str | None) -> RetentionResult:
    """Plan rotation from the catalog and the stores' own write times and, unless dry_run,
    delete the chosen copies and record each deletion (status deleted, reason, approver).

    Raise InputError when the site requires an approver and none is given (not for a dry
    run), JobBusy when another retention run holds the lock.
    """
    config = runtime.config
    if config.model.retention.require_approver and not dry_run and not (approver or "").strip():
        raise InputError(
            str(config.path),
            [
                "retention.require_approver: this site destroys backups only with a named approver "
                "(T/TJSFB 009 §8 b); pass --approver NAME, or --dry-run to see the plan"
            ],
        )
    # A dry run is its own job kind, so it never counts as the day's rotation for run-due.
    done: dict[str, list[Deletion]] = {DELETED: [], LEFT: []}
    leftovers: list[str] = []
    with catalog_job(
        runtime.catalog,
        "retention_dry_run" if dry_run else "retention",
        "all",
        {"dry_run": dry_run, "approver": approver},
    ) as job:
        snapshot = read_catalog(runtime.catalog)
        plan = plan_retention(
            config, runtime.pack, snapshot, read_store_times(runtime, snapshot), datetime.now(UTC)
        )
        # Leftovers of earlier passes first (a failed removal, a kill after the commit).
        leftovers = sweep_leftovers(runtime, dry_run)
        for deletion in [] if dry_run else plan.deletions:
            done.setdefault(delete_copy(runtime, deletion, approver), []).append(deletion)
        job.detail = {
            "dry_run": dry_run,
            "planned": len(plan.deletions),
            "deleted": len(done[DELETED]) + len(done[LEFT]),
            "files_left": len(done[LEFT]),
            "leftovers": len(leftovers),
            "approver": approver,
        }
    return RetentionResult(
        plan,
        dry_run,
        tuple(done[DELETED] + done[LEFT]),
        approver,
        tuple(done[LEFT]),
        tuple(leftovers),
    )
