"""`drctl status`: per dataset, the last backup, off-site copy, verification and drill.

Each column is one aggregate query over the catalog, grouped by (system, dataset)
(model/aggregates.py), so the table costs the same whatever the history's length and never
holds the catalog's rows in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from orchestrator.model import aggregates, integrity, schema
from orchestrator.model import catalog as cat
from orchestrator.model.settings import Dataset, System
from orchestrator.model.snapshot import believed_detected_at
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

    last: dict[Key, Any]  # the newest complete point by `at`, and how many there are
    present: dict[tuple[str, str, str], float]  # (system, dataset, store) → newest finish
    items: dict[Key, tuple[float | None, int]]  # last passed item, failed items
    open_failures: list[Any]
    last_drill: dict[str, float]  # system → finish of its last passed drill


def _read(runtime: Runtime, at: float) -> _Rows:
    with runtime.catalog.begin() as connection:
        last = aggregates.newest_points(connection, at)
        present = aggregates.newest_copied(connection, at)
        items = aggregates.verification_items(connection, at)
        failures = integrity.list_failures(connection, open_only=True)
        drills = connection.execute(
            select(schema.drills.c.finished_at, schema.drills.c.detail).where(
                schema.drills.c.status == "passed", schema.drills.c.finished_at <= at
            )
        ).all()
    return _Rows(last, present, items, failures, _last_drills(drills))


def _last_drills(drills: Sequence[Any]) -> dict[str, float]:
    """Given passed drills (finished_at, detail), return each system's last one. A drill is
    of the system its row names (detail.system); one naming none is claimed for no system."""
    last: dict[str, float] = {}
    for finished, detail in drills:
        system = (detail or {}).get("system")
        if isinstance(system, str):
            last[system] = max(finished, last.get(system, finished))
    return last


def collect_dataset_status(runtime: Runtime, at: float | None = None) -> list[dict[str, Any]]:
    """Return one row per dataset: last backup, newest off-site copy, last verification of
    one of its recovery points, and the last drill of its system (with ages at `at`)."""
    at = at or cat.now()
    rows = _read(runtime, at)
    read_at = cat.now()
    failures: dict[Key, set[str]] = {}
    for failure in rows.open_failures:
        if believed_detected_at(failure.detected_at, read_at) <= at:
            key = (failure.system, failure.dataset)
            failures.setdefault(key, set()).add(failure.recovery_point_id)
    systems = runtime.config.model.systems
    table = [
        _dataset_row(
            rows, system, dataset, at, sorted(failures.get((system.name, dataset.name), ()))
        )
        for system in systems
        for dataset in system.datasets
    ]
    # A failure stays open until a re-check closes it, whatever dr.yml says now: a dataset
    # removed or renamed there keeps its row while it has one (in_config false).
    configured = {(system.name, dataset.name) for system in systems for dataset in system.datasets}
    table += [
        _unnamed_row(rows, key, at, sorted(points))
        for key, points in sorted(failures.items())
        if key not in configured
    ]
    return table


def unnamed_failures(table: list[dict[str, Any]]) -> list[str]:
    """Given status's dataset rows, return a warning for each dataset dr.yml no longer names
    that has open failures: no rule judges it, so status says so and exits 1."""
    return [
        f"open integrity failure(s) of {row['system']}/{row['dataset']}, which dr.yml no "
        f"longer names (removed or renamed): {', '.join(row['bad_recovery_points'])}; no rule "
        "judges them, and they stay open until a newer point of that dataset passes "
        "`drctl verify --recheck` / dr.yml 已不再包含的数据集仍有未关闭的损坏恢复点"
        for row in table
        if not row["in_config"] and row["bad_recovery_points"]
    ]


def _unnamed_row(rows: _Rows, key: Key, at: float, bad: list[str]) -> dict[str, Any]:
    """The row of a dataset dr.yml no longer names, from the catalog alone."""
    last = rows.last.get(key)
    return {
        "system": key[0],
        "dataset": key[1],
        "engine": None,
        "category": None,
        "in_config": False,
        "recovery_points": last.points if last else 0,
        "last_backup": _when(last.finished_at, at) if last else None,
        "last_backup_id": last.id if last else None,
        "last_backup_bytes": last.total_bytes if last else None,
        "offsite_newest_copy": None,
        "last_verification": _when(rows.items.get(key, (None, 0))[0], at),
        "last_drill": _when(rows.last_drill.get(key[0]), at),
        "bad_recovery_points": bad,
    }


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
        "in_config": True,
        "recovery_points": last.points if last else 0,
        "last_backup": _when(last.finished_at, at) if last else None,
        "last_backup_id": last.id if last else None,
        "last_backup_bytes": last.total_bytes if last else None,
        "offsite_newest_copy": _when(rows.present.get((*key, system.offsite_store)), at),
        "last_verification": _when(rows.items.get(key, (None, 0))[0], at),
        "last_drill": _when(rows.last_drill.get(system.name), at),
        # Open integrity failures: bad until a newer point passes verify --recheck.
        "bad_recovery_points": bad,
    }
