"""`drctl status`: per dataset, the last backup, off-site copy, verification and drill.

Each column is one aggregate query over the catalog, grouped by (system, dataset) (GROUP BY
and a window function, on SQLite and PostgreSQL alike), so the table costs the same whatever
the history's length and never holds the catalog's rows in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, func, select

from orchestrator.model import catalog as cat
from orchestrator.model import integrity, schema
from orchestrator.model.settings import Dataset, System
from orchestrator.runtime import Runtime
from orchestrator.timefmt import iso_utc

Key = tuple[str, str]


def _when(moment: float | None, at: float) -> dict[str, Any] | None:
    if moment is None:
        return None
    return {
        "at": iso_utc(moment),
        "age_seconds": round(at - moment, 1),
    }


@dataclass(frozen=True)
class _Rows:
    """The per-dataset aggregates the table is made from, read in one transaction."""

    counts: dict[Key, int]  # complete points finished by `at`
    last: dict[Key, Any]  # the newest of them (id, finished_at, total_bytes)
    present: dict[tuple[str, str, str], float]  # (system, dataset, store) → newest finish
    verified: dict[Key, float]  # the last passed verification item of any point
    open_failures: list[Any]
    last_drill: float | None


def _read(runtime: Runtime, at: float) -> _Rows:
    with runtime.catalog.begin() as connection:
        counts, last = _points(connection, at)
        present = _present_copies(connection, at)
        verified = _verified(connection)
        failures = integrity.list_failures(connection, open_only=True)
        drill = connection.execute(
            select(func.max(schema.drills.c.finished_at)).where(schema.drills.c.status == "passed")
        ).scalar()
    return _Rows(counts, last, present, verified, failures, drill)


def _complete_by(at: float) -> Any:
    points = schema.recovery_points.c
    return and_(points.status == "complete", points.finished_at <= at)


def _points(connection: Connection, at: float) -> tuple[dict[Key, int], dict[Key, Any]]:
    """Return the number of complete points per dataset and the newest one of each."""
    points = schema.recovery_points.c
    newest_first = func.row_number().over(
        partition_by=(points.system, points.dataset),
        order_by=(points.finished_at.desc(), points.id.desc()),
    )
    ranked = (
        select(
            points.system,
            points.dataset,
            points.id,
            points.finished_at,
            points.total_bytes,
            newest_first.label("rank"),
            func.count().over(partition_by=(points.system, points.dataset)).label("points"),
        )
        .where(_complete_by(at))
        .subquery()
    )
    rows = connection.execute(select(ranked).where(ranked.c.rank == 1))
    counts: dict[Key, int] = {}
    last: dict[Key, Any] = {}
    for row in rows:
        counts[(row.system, row.dataset)] = row.points
        last[(row.system, row.dataset)] = row
    return counts, last


def _present_copies(connection: Connection, at: float) -> dict[tuple[str, str, str], float]:
    """Return, per dataset and store, the finish time of its newest complete point with a
    present copy there."""
    points, copies = schema.recovery_points.c, schema.copies.c
    query = (
        select(points.system, points.dataset, copies.store, func.max(points.finished_at))
        .join_from(schema.copies, schema.recovery_points, points.id == copies.recovery_point_id)
        .where(_complete_by(at), copies.status == "present")
        .group_by(points.system, points.dataset, copies.store)
    )
    return {(s, d, store): newest for s, d, store, newest in connection.execute(query)}


def _verified(connection: Connection) -> dict[Key, float]:
    """Return, per dataset, when a verification item of one of its points last passed."""
    points, items = schema.recovery_points.c, schema.verification_items.c
    query = (
        select(points.system, points.dataset, func.max(items.checked_at))
        .join_from(
            schema.verification_items,
            schema.recovery_points,
            points.id == items.recovery_point_id,
        )
        .where(items.status == "passed")
        .group_by(points.system, points.dataset)
    )
    return {(s, d): checked for s, d, checked in connection.execute(query)}


def collect_dataset_status(runtime: Runtime, at: float | None = None) -> list[dict[str, Any]]:
    """Return one row per dataset: last backup, newest off-site copy, last verification of
    one of its recovery points, and the last drill of its system (with ages at `at`)."""
    at = at or cat.now()
    rows = _read(runtime, at)
    failures: dict[Key, set[str]] = {}
    for failure in rows.open_failures:
        if failure.detected_at <= at:
            key = (failure.system, failure.dataset)
            failures.setdefault(key, set()).add(failure.recovery_point_id)
    return [
        _dataset_row(
            rows, system, dataset, at, sorted(failures.get((system.name, dataset.name), ()))
        )
        for system in runtime.config.model.systems
        for dataset in system.datasets
    ]


def _dataset_row(
    rows: _Rows, system: System, dataset: Dataset, at: float, bad: list[str]
) -> dict[str, Any]:
    key = (system.name, dataset.name)
    last = rows.last.get(key)
    return {
        "system": system.name,
        "dataset": dataset.name,
        "engine": dataset.engine,
        "category": dataset.category,
        "recovery_points": rows.counts.get(key, 0),
        "last_backup": _when(last.finished_at, at) if last else None,
        "last_backup_id": last.id if last else None,
        "last_backup_bytes": last.total_bytes if last else None,
        "offsite_newest_copy": _when(rows.present.get((*key, system.offsite_store)), at),
        "last_verification": _when(rows.verified.get(key), at),
        "last_drill": _when(rows.last_drill, at),
        # Open integrity failures: bad until a newer point passes verify --recheck.
        "bad_recovery_points": bad,
    }
