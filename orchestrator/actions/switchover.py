"""A planned switchover: the one scenario kind that replaces live data on real sites.

It runs only when all three hold, checked before anything is touched (else exit 2):

1. a switchover plan for the system, recorded with `drctl plan switchover --record`, that
   passed the 第十条 notice check (compliant, or not applicable to a window of at most one
   working day), and whose window [start, end] contains today (Asia/Shanghai);
2. `--confirm <system>` on the command line, naming the scenario's system;
3. for every dataset, a verified recovery point finished within the last 24 h in the store the
   failover restores from: status `complete`, its copy there `present` and verified there
   (hashed in flight against the source's digests when written, re-hashed by copy-offsite).

The failover then restores exactly those recovery points.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select

from orchestrator.errors import InputError
from orchestrator.model import schema
from orchestrator.model.holders import current_holder
from orchestrator.model.scenario import Scenario
from orchestrator.runtime import Runtime
from orchestrator.timefmt import sortable_id

PASSING = ("compliant", "not_applicable")
RECENT_SECONDS = 24 * 3600
LOCAL = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Clearance:
    """What allowed a switchover to start: the plan, the confirmation, the points."""

    plan: Mapping[str, Any]
    confirmed: str
    points: Mapping[str, str]

    def as_record(self) -> dict[str, Any]:
        return {"plan": dict(self.plan), "confirmed": self.confirmed, "points": dict(self.points)}


def record_plan(runtime: Runtime, system: str, verdict: Mapping[str, Any]) -> str:
    """Store a checked switchover plan (the verdict dict of `plan switchover`); return its id."""
    plan_id = f"plan-{sortable_id()}"
    with runtime.catalog.begin() as connection:
        connection.execute(
            schema.switchover_plans.insert().values(
                id=plan_id,
                system=system,
                start_date=verdict["start"],
                end_date=verdict["end"],
                notice_date=verdict["notice_date"],
                convention=verdict["convention"],
                emergency_channel=verdict.get("emergency_channel"),
                status=verdict["status"],
                recorded_at=time.time(),
                recorded_by=current_holder().describe(),
                verdict=dict(verdict),
            )
        )
    return plan_id


def clear_switchover(
    runtime: Runtime, scenario: Scenario, source: str, confirm: str | None
) -> Clearance:
    """Return the clearance of a switchover scenario; raise InputError (exit 2) listing every
    condition that does not hold. Reads the catalog only."""
    now = time.time()
    problems = []
    system = runtime.config.model.system(scenario.system)
    failover = next(step for step in scenario.steps if step.action == "failover")
    if confirm != scenario.system:
        problems.append(
            f"--confirm: a switchover replaces the live data of system {scenario.system!r} at "
            f"site {failover.to_site!r}; pass --confirm {scenario.system} to confirm exactly "
            + ("that system" if confirm is None else f"that system (got {confirm!r})")
        )
    plan, plan_problem = _usable_plan(runtime, scenario.system, _today(now))
    if plan_problem:
        problems.append(plan_problem)
    points: dict[str, str] = {}
    with runtime.catalog.begin() as connection:
        for dataset in system.datasets:
            point, why = _recent_point(
                connection, scenario.system, dataset.name, failover.from_store or "", now
            )
            if point is None:
                problems.append(f"systems {scenario.system} dataset {dataset.name}: {why}")
            else:
                points[dataset.name] = point
    if problems:
        raise InputError(source, [*problems, "nothing was touched"])
    assert plan is not None and confirm is not None
    return Clearance(plan, confirm, points)


def _today(now: float) -> date:
    return datetime.fromtimestamp(now, LOCAL).date()


def _usable_plan(
    runtime: Runtime, system: str, today: date
) -> tuple[dict[str, Any] | None, str | None]:
    with runtime.catalog.begin() as connection:
        rows = list(
            connection.execute(
                select(schema.switchover_plans)
                .where(schema.switchover_plans.c.system == system)
                .order_by(schema.switchover_plans.c.recorded_at)
            )
        )
    passing = [row for row in rows if row.status in PASSING]
    current = [row for row in passing if row.start_date <= today.isoformat() <= row.end_date]
    if current:
        row = current[-1]
        return {
            "id": row.id,
            "start": row.start_date,
            "end": row.end_date,
            "notice_date": row.notice_date,
            "status": row.status,
            "emergency_channel": row.emergency_channel,
        }, None
    if not rows:
        why = "no switchover plan is recorded"
    elif not passing:
        why = "no recorded switchover plan passed the notice check"
    else:
        why = f"no passing switchover plan covers today ({today})"
    return None, (
        f"plan: {why} for system {system!r}; record one with `drctl plan switchover --system "
        f"{system} --start … --end … --notice-date … --record` (260号 第十条 「需至少提前5个工作日"
        "发布提示公告」)"
    )


def _recent_point(
    connection: Any, system: str, dataset: str, store: str, now: float
) -> tuple[str | None, str]:
    """Return (the newest verified recovery point of the last 24 h in store, or None, why)."""
    rows = connection.execute(
        select(schema.recovery_points.c.id, schema.recovery_points.c.finished_at)
        .select_from(
            schema.recovery_points.join(
                schema.copies, schema.copies.c.recovery_point_id == schema.recovery_points.c.id
            )
        )
        .where(
            and_(
                schema.recovery_points.c.system == system,
                schema.recovery_points.c.dataset == dataset,
                schema.recovery_points.c.status == "complete",
                schema.copies.c.store == store,
                schema.copies.c.status == "present",
                schema.copies.c.verified_at.is_not(None),
            )
        )
        .order_by(schema.recovery_points.c.finished_at)
    ).all()
    if rows and rows[-1].finished_at >= now - RECENT_SECONDS:
        return rows[-1].id, ""
    newest = (
        f"the newest is {rows[-1].id}, {(now - rows[-1].finished_at) / 3600:.1f} h old"
        if rows
        else "there is none"
    )
    return None, (
        f"no verified recovery point from the last 24 h in store {store!r} ({newest}); back "
        "up, copy off-site and verify first"
    )
