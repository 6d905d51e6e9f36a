"""The records the rules' clocks wait for, as known at the time of judgement: counted validity
checks and passed drills (a dataset's full backups: Context.last_backup_date)."""

from __future__ import annotations

from orchestrator.model.snapshot import DrillRow, VerificationRow
from orchestrator.rules.finding import Context


def counted_checks(ctx: Context, system: str | None = None) -> list[VerificationRow]:
    """Return the counted validity checks completed by the time of judgement, oldest first;
    for a system, those whose items touched it (a check recording no items covers all)."""
    return sorted(
        (
            v
            for v in ctx.snapshot.verifications
            if v.counted
            and v.finished_at is not None
            and v.finished_at <= ctx.at_ts
            and (system is None or not v.systems or system in v.systems)
        ),
        key=lambda v: v.finished_at or 0.0,
    )


def passed_drills(ctx: Context) -> list[DrillRow]:
    """Return the passed drills finished by the time of judgement, oldest first."""
    return sorted(
        (
            d
            for d in ctx.snapshot.drills
            if d.status == "passed" and d.finished_at is not None and d.finished_at <= ctx.at_ts
        ),
        key=lambda d: d.finished_at or 0.0,
    )
