"""`drctl status`: per dataset, the last backup, off-site copy, verification and drill."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from orchestrator.model import catalog as cat
from orchestrator.model import integrity, schema
from orchestrator.runtime import Runtime
from orchestrator.timefmt import iso_utc


def _when(moment: float | None, at: float) -> dict[str, Any] | None:
    if moment is None:
        return None
    return {
        "at": iso_utc(moment),
        "age_seconds": round(at - moment, 1),
    }


def collect_dataset_status(runtime: Runtime, at: float | None = None) -> list[dict[str, Any]]:
    """Return one row per dataset: last backup, newest off-site copy, last verification of
    one of its recovery points, and the last drill of its system (with ages at `at`)."""
    at = at or cat.now()
    rows = []
    with runtime.catalog.begin() as connection:
        points = cat.list_recovery_points(connection)
        copies = cat.list_copies(connection)
        items = list(
            connection.execute(
                select(schema.verification_items).where(
                    schema.verification_items.c.status == "passed"
                )
            )
        )
        failures = integrity.list_failures(connection, open_only=True)
        drill_rows = list(
            connection.execute(
                select(schema.drills)
                .where(schema.drills.c.status == "passed")
                .order_by(schema.drills.c.finished_at)
            )
        )
    point_by_id = {p.id: p for p in points}
    last_drill = drill_rows[-1].finished_at if drill_rows else None
    for system in runtime.config.model.systems:
        for dataset in system.datasets:
            mine = [
                p
                for p in points
                if p.system == system.name
                and p.dataset == dataset.name
                and p.status == "complete"
                and p.finished_at <= at
            ]
            offsite = [
                c
                for c in copies
                if c.store == system.offsite_store
                and c.status == "present"
                and c.recovery_point_id in {p.id for p in mine}
            ]
            newest_offsite = max(
                (point_by_id[c.recovery_point_id].finished_at for c in offsite), default=None
            )
            verified = [
                i.checked_at
                for i in items
                if (p := point_by_id.get(i.recovery_point_id)) is not None
                and p.system == system.name
                and p.dataset == dataset.name
            ]
            last = mine[-1] if mine else None
            bad = sorted(
                {
                    f.recovery_point_id
                    for f in failures
                    if (f.system, f.dataset) == (system.name, dataset.name) and f.detected_at <= at
                }
            )
            rows.append(
                {
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
                    "last_drill": _when(last_drill, at),
                    # Open integrity failures: bad until a newer point passes verify --recheck.
                    "bad_recovery_points": bad,
                }
            )
    return rows
