"""How long each restore took, per dataset, against the system's objective (R140).

One row per dataset per restore: a sampled validity check (`verify`) restores one recovery
point into the enclave; a drill's `failover` and `failback` steps restore the system's
datasets together, and the step's duration is recorded for each dataset it restored (the
time the restore procedure took for that dataset, an upper bound of its own share). The
objective in force at the time is kept on the row, so a later change of dr.yml does not
rewrite history. Times are UTC epoch seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select

from orchestrator.model.schema import restore_timings

KINDS = ("verify", "failover", "failback")


@dataclass(frozen=True)
class RestoreTiming:
    """One timed restore of one dataset."""

    system: str
    dataset: str
    kind: str
    source: str
    started_at: float
    finished_at: float
    duration_seconds: float
    objective_seconds: float | None
    status: str
    recovery_point_id: str | None = None

    @property
    def within(self) -> bool | None:
        """Whether it finished within its objective (None without one)."""
        if self.objective_seconds is None:
            return None
        return self.duration_seconds <= self.objective_seconds


def record_timing(connection: Connection, timing: RestoreTiming) -> None:
    connection.execute(
        insert(restore_timings).values(
            system=timing.system,
            dataset=timing.dataset,
            kind=timing.kind,
            source=timing.source,
            recovery_point_id=timing.recovery_point_id,
            started_at=timing.started_at,
            finished_at=timing.finished_at,
            duration_seconds=timing.duration_seconds,
            objective_seconds=timing.objective_seconds,
            status=timing.status,
        )
    )


def load_timings(connection: Connection) -> list[RestoreTiming]:
    """Return every timed restore, oldest first."""
    table = restore_timings
    rows = connection.execute(select(table).order_by(table.c.finished_at, table.c.id))
    return [_timing(row) for row in rows]


def _timing(row: Any) -> RestoreTiming:
    return RestoreTiming(
        system=row.system,
        dataset=row.dataset,
        kind=row.kind,
        source=row.source,
        started_at=row.started_at,
        finished_at=row.finished_at,
        duration_seconds=row.duration_seconds,
        objective_seconds=row.objective_seconds,
        status=row.status,
        recovery_point_id=row.recovery_point_id,
    )
