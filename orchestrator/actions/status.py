"""`drctl status`: per dataset, the last backup, off-site copy, verification and drill."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import select

from orchestrator.model import catalog as cat
from orchestrator.model import integrity, schema
from orchestrator.model.settings import Dataset, System
from orchestrator.runtime import Runtime
from orchestrator.timefmt import iso_utc


def _when(moment: float | None, at: float) -> dict[str, Any] | None:
    if moment is None:
        return None
    return {
        "at": iso_utc(moment),
        "age_seconds": round(at - moment, 1),
    }


@dataclass(frozen=True)
class _Rows:
    """The catalog rows the dataset table is made from, read in one transaction."""

    points: list[Any]
    copies: list[Any]
    passed_items: list[Any]
    open_failures: list[Any]
    last_drill: float | None

    @cached_property
    def point_by_id(self) -> dict[str, Any]:
        return {p.id: p for p in self.points}


def _read(runtime: Runtime) -> _Rows:
    with runtime.catalog.begin() as connection:
        points = cat.list_recovery_points(connection)
        copies = cat.list_copies(connection)
        passed = schema.verification_items.c.status == "passed"
        items = list(connection.execute(select(schema.verification_items).where(passed)))
        failures = integrity.list_failures(connection, open_only=True)
        drills = list(
            connection.execute(
                select(schema.drills)
                .where(schema.drills.c.status == "passed")
                .order_by(schema.drills.c.finished_at)
            )
        )
    return _Rows(points, copies, items, failures, drills[-1].finished_at if drills else None)


def collect_dataset_status(runtime: Runtime, at: float | None = None) -> list[dict[str, Any]]:
    """Return one row per dataset: last backup, newest off-site copy, last verification of
    one of its recovery points, and the last drill of its system (with ages at `at`)."""
    at = at or cat.now()
    rows = _read(runtime)
    return [
        _dataset_row(rows, system, dataset, at)
        for system in runtime.config.model.systems
        for dataset in system.datasets
    ]


def _dataset_row(rows: _Rows, system: System, dataset: Dataset, at: float) -> dict[str, Any]:
    mine = [
        p
        for p in rows.points
        if p.system == system.name
        and p.dataset == dataset.name
        and p.status == "complete"
        and p.finished_at <= at
    ]
    ids = {p.id for p in mine}
    newest_offsite = max(
        (
            rows.point_by_id[c.recovery_point_id].finished_at
            for c in rows.copies
            if c.store == system.offsite_store
            and c.status == "present"
            and c.recovery_point_id in ids
        ),
        default=None,
    )
    verified = [
        i.checked_at
        for i in rows.passed_items
        if (p := rows.point_by_id.get(i.recovery_point_id)) is not None
        and p.system == system.name
        and p.dataset == dataset.name
    ]
    last = mine[-1] if mine else None
    bad = sorted(
        {
            f.recovery_point_id
            for f in rows.open_failures
            if (f.system, f.dataset) == (system.name, dataset.name) and f.detected_at <= at
        }
    )
    return {
        "system": system.name,
        "dataset": dataset.name,
        "engine": dataset.engine,
        "category": dataset.category,
        "recovery_points": len(mine),
        "last_backup": _when(last.finished_at, at) if last else None,
        "last_backup_id": last.id if last else None,
        "last_backup_bytes": last.total_bytes if last else None,
        "offsite_newest_copy": _when(newest_offsite, at),
        "last_verification": _when(max(verified, default=None), at),
        "last_drill": _when(rows.last_drill, at),
        # Open integrity failures: bad until a newer point passes verify --recheck.
        "bad_recovery_points": bad,
    }
