"""The records the rules' clocks wait for, as known at the time of judgement: counted validity
checks, passed drills, and the business dates of a dataset's complete full backups."""

from __future__ import annotations

from datetime import date

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


def backup_dates(ctx: Context, system: str, dataset: str) -> list[date]:
    """Return the business dates of the dataset's complete full backups up to today's."""
    today = ctx.business_date
    return sorted(
        {p.business_date for p in ctx.points_of(system, dataset) if p.business_date <= today}
    )
