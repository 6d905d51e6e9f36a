"""Judge `drill.objectives` per system: did the drills of the calendar year recover within the
RTO and RPO objectives their scenarios declare (bank policy; 260号 names no figure)?

From the catalog's drills (status passed or failed; an aborted drill measured nothing), each
with the system, the measured RTO and RPO and the scenario's objectives kept on its row:

- no counted drill of the system in the year → 无法判定;
- the latest declares no objective → 无法判定 (nothing to judge against);
- the latest missed an objective, or measured nothing for one it declares (the service was
  never verified) → 不符合;
- the latest met its objectives but an earlier drill of the year did not → 部分符合;
- otherwise → 符合.
"""

from __future__ import annotations

from orchestrator.model.settings import System
from orchestrator.model.snapshot import DrillRow
from orchestrator.rules import figures as fmt
from orchestrator.rules.finding import Context, Finding, local_day
from orchestrator.rules.status import Status

DRILL_OBJECTIVES = "drill.objectives"
COUNTED = ("passed", "failed")
MEASURES = (("rto_seconds", "RTO"), ("rpo_seconds", "RPO"))
THRESHOLD = "the latest drill of the year within the RTO and RPO objectives of its scenario"
EVIDENCE = "catalog drills (measured RTO/RPO, scenario objectives)"


def misses(drill: DrillRow) -> list[str]:
    """Return each objective the drill declares and did not meet, as a phrase."""
    missed = []
    for key, name in MEASURES:
        objective = drill.objectives.get(key)
        measured = getattr(drill, key)
        if objective is None:
            continue
        if measured is None:
            missed.append(f"no {name} measured (objective {fmt.seconds(objective)})")
        elif measured > objective:
            missed.append(f"{name} {fmt.seconds(measured)} > {fmt.seconds(objective)}")
    return missed


def describe(drill: DrillRow) -> str:
    """Return the drill's measurements beside its objectives, as `measured` shows them."""
    parts = []
    for key, name in MEASURES:
        measured, objective = getattr(drill, key), drill.objectives.get(key)
        value = "not measured" if measured is None else fmt.seconds(measured)
        target = "no objective" if objective is None else f"objective {fmt.seconds(objective)}"
        parts.append(f"{name} {value} ({target})")
    day = local_day(drill.finished_at or drill.started_at)
    return f"{drill.id} ({drill.scenario}, {day}, {drill.status}): " + ", ".join(parts)


def judge_system(ctx: Context, system: System) -> Finding:
    """Return the drill.objectives finding of one system."""
    year = ctx.local_date.year
    drills = [
        d
        for d in ctx.snapshot.drills
        if d.system == system.name
        and d.status in COUNTED
        and d.finished_at is not None
        and d.finished_at <= ctx.at_ts
        and local_day(d.finished_at).year == year
    ]

    def finding(status: Status, measured: str, reason: str) -> Finding:
        return ctx.finding(
            DRILL_OBJECTIVES,
            system.name,
            status,
            measured=measured,
            threshold=THRESHOLD,
            evidence=EVIDENCE,
            reason=reason,
        )

    if not drills:
        return finding(Status.UNKNOWN, f"no drill in {year}", "no drill of the system this year")
    latest = drills[-1]
    measured = describe(latest)
    if not any(latest.objectives.get(key) is not None for key, _name in MEASURES):
        return finding(Status.UNKNOWN, measured, "the scenario declares no RTO or RPO objective")
    missed = misses(latest)
    if missed:
        return finding(Status.NON_COMPLIANT, measured, "; ".join(missed))
    earlier = [d.id for d in drills[:-1] if misses(d)]
    if earlier:
        return finding(
            Status.PARTIAL,
            measured,
            f"the latest drill met its objectives; earlier this year {', '.join(earlier)} did not",
        )
    return finding(Status.COMPLIANT, measured, "the latest drill met every objective it declares")


def evaluate_drill_objectives(ctx: Context) -> list[Finding]:
    """Judge drill.objectives for every system."""
    return [judge_system(ctx, system) for system in ctx.config.systems]
