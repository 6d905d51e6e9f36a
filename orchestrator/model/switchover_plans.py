"""Recorded switchover plans (`drctl plan switchover --record`), as the rules read them.

A plan is the window [start, end] of a planned switchover of one system, the date its notice
was published, the counting convention and the emergency channel; the verdict it got when it
was recorded is kept beside it, but switchover.notice judges the plan again on every status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from orchestrator.model.schema import switchover_plans


@dataclass(frozen=True)
class PlanRow:
    """One recorded switchover plan."""

    id: str
    system: str
    start: date
    end: date
    notice: date
    convention: str
    emergency_channel: str | None
    recorded_at: float
    recorded_by: str


def load_plans(connection: Connection) -> list[PlanRow]:
    """Return every recorded switchover plan, oldest record first."""
    table = switchover_plans
    rows = connection.execute(select(table).order_by(table.c.recorded_at, table.c.id))
    return [_plan(row) for row in rows]


def _plan(row: Any) -> PlanRow:
    return PlanRow(
        id=row.id,
        system=row.system,
        start=date.fromisoformat(row.start_date),
        end=date.fromisoformat(row.end_date),
        notice=date.fromisoformat(row.notice_date),
        convention=row.convention,
        emergency_channel=row.emergency_channel,
        recorded_at=row.recorded_at,
        recorded_by=row.recorded_by,
    )
