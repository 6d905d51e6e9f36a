"""Judge `restore.duration` (R140: 「确保可以在恢复程序规定的时间内完成备份的恢复」) per
system, from the timed restores (model/restore_times.py) of the calendar year (Asia/Shanghai).

- no `restore_time_objective_seconds` in the system's config → 无法判定 (the bank's procedure
  sets the limit; without it nothing can be judged);
- no timed restore of the system in the year → 无法判定;
- the latest restore of some dataset took longer than the objective → 不符合;
- the latest restores are within it but an earlier one of the year was not → 部分符合;
- every restore of the year within the objective → 符合.

The objective is the one configured now; each row also keeps the objective in force when it
was measured, which the reports show.
"""

from __future__ import annotations

from orchestrator.model.restore_times import RestoreTiming
from orchestrator.model.settings import System
from orchestrator.rules import figures as fmt
from orchestrator.rules.finding import Context, Finding, local_day
from orchestrator.rules.status import Status

RESTORE_DURATION = "restore.duration"


def year_timings(ctx: Context, system: str) -> list[RestoreTiming]:
    """Return the system's timed restores finished in the judged year by the time of
    judgement, oldest first."""
    year = ctx.local_date.year
    return [
        t
        for t in ctx.snapshot.restore_timings
        if t.system == system
        and t.finished_at <= ctx.at_ts
        and local_day(t.finished_at).year == year
    ]


def judge_system(ctx: Context, system: System) -> Finding:
    """Return the restore.duration finding of one system."""
    objective = system.restore_time_objective_seconds
    evidence = "catalog restore_timings (sampled checks and drill failover/failback)"
    if objective is None:
        return ctx.finding(
            RESTORE_DURATION,
            system.name,
            Status.UNKNOWN,
            measured="no objective",
            threshold="restore_time_objective_seconds declared for the system",
            evidence="dr.yml",
            reason="the system declares no restore-time objective (the bank's restore "
            "procedure sets it)",
        )
    threshold = f"every restore of a dataset ≤ {fmt.seconds(objective)}"
    timings = year_timings(ctx, system.name)
    if not timings:
        return ctx.finding(
            RESTORE_DURATION,
            system.name,
            Status.UNKNOWN,
            measured=f"no timed restore in {ctx.local_date.year}",
            threshold=threshold,
            evidence=evidence,
            reason="no restore of the system was timed in this year",
        )
    latest: dict[str, RestoreTiming] = {}
    for timing in timings:
        latest[timing.dataset] = timing
    longest = max(timings, key=lambda t: t.duration_seconds)
    measured = (
        f"{len(timings)} restore(s) in {ctx.local_date.year}; latest per dataset: "
        + ", ".join(
            f"{d} {fmt.seconds(t.duration_seconds)} ({t.kind})" for d, t in sorted(latest.items())
        )
        + f"; longest {longest.dataset} {fmt.seconds(longest.duration_seconds)} ({longest.source})"
    )
    status, reason = _duration_verdict(timings, latest, objective)
    return ctx.finding(
        RESTORE_DURATION,
        system.name,
        status,
        measured=measured,
        threshold=threshold,
        evidence=evidence,
        reason=reason,
    )


def _duration_verdict(
    timings: list[RestoreTiming], latest: dict[str, RestoreTiming], objective: float
) -> tuple[Status, str]:
    """Given this year's timings, the latest per dataset and the objective, return (status,
    reason): a latest restore over the objective fails, an earlier one is partial."""
    late_now = sorted(d for d, t in latest.items() if t.duration_seconds > objective)
    late_before = [t for t in timings if t.duration_seconds > objective]
    if late_now:
        return (
            Status.NON_COMPLIANT,
            "the latest restore took longer than the objective: " + ", ".join(late_now),
        )
    if late_before:
        return (
            Status.PARTIAL,
            f"{len(late_before)} earlier restore(s) this year took longer than the objective",
        )
    return Status.COMPLIANT, "every restore this year finished within the objective"


def evaluate_restore_duration(ctx: Context) -> list[Finding]:
    """Judge restore.duration for every system."""
    return [judge_system(ctx, system) for system in ctx.config.systems]
