"""Evaluators of the check, drill and facility rules: verify.interval, verify.sample,
drill.yearly, dr.bidirectional, power.ups, the network rules' defaults and switchover.notice.

Each is a pure function of a Context; docs/rules.md explains every interpretation choice.
"""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

from orchestrator.model.snapshot import VerificationRow
from orchestrator.rules import figures
from orchestrator.rules.awaited import counted_checks, passed_drills
from orchestrator.rules.deadlines import Deadline, drill_deadline, verification_deadline
from orchestrator.rules.finding import ALL_SUBJECT, Context, Finding, local_day
from orchestrator.rules.status import Status
from orchestrator.rules.threshold import Threshold

VERIFY_INTERVAL = "verify.interval"
VERIFY_SAMPLE = "verify.sample"
DRILL_YEARLY = "drill.yearly"
BIDIRECTIONAL = "dr.bidirectional"
_YEAR = timedelta(days=365)


def _long_gaps(dates: list[date], limit: int, since: date) -> list[tuple[date, date, int]]:
    return [
        (a, b, (b - a).days)
        for a, b in zip(dates, dates[1:], strict=False)
        if b >= since and (b - a).days > limit
    ]


def evaluate_verify_interval(ctx: Context) -> list[Finding]:
    """Judge, per system, the calendar days since the last counted validity check (the clock
    starts at the system's first backup) and the gaps between counted checks in the last year.
    The day it turns 部分符合 and 不符合 comes from `verification_deadline`, which the exporter
    publishes for the alerts."""
    rule = ctx.rule(VERIFY_INTERVAL)
    limit, warn = int(rule.value("max_days")), int(rule.value("warn_days"))
    threshold = f"≤ {limit} days between counted checks (warn from day {warn})"
    findings = []
    for system in ctx.config.systems:
        deadline = verification_deadline(ctx, system.name)
        checks = counted_checks(ctx, system.name)
        evidence = "catalog verifications (counted=true, finished_at) and verification_items"
        if deadline is None:
            findings.append(
                ctx.finding(
                    VERIFY_INTERVAL,
                    system.name,
                    Status.UNKNOWN,
                    measured="no recovery point",
                    threshold=threshold,
                    evidence=evidence,
                    reason="nothing has been backed up yet, so there is nothing to check",
                )
            )
            continue
        dates = [local_day(v.finished_at or 0.0) for v in checks]
        open_days = (ctx.local_date - deadline.since).days
        gaps = _long_gaps(dates, limit, ctx.local_date - _YEAR)
        if dates:
            measured = f"{open_days} day(s) since the last counted check ({checks[-1].id})"
        else:
            measured = f"no counted check; {open_days} day(s) since the first backup"
        status, reason = _interval_verdict(ctx.at_ts, deadline, open_days, bool(dates), gaps, limit)
        findings.append(
            ctx.finding(
                VERIFY_INTERVAL,
                system.name,
                status,
                measured=measured,
                threshold=threshold,
                evidence=evidence,
                reason=reason,
            )
        )
    return findings


def _interval_verdict(
    at_ts: float,
    deadline: Deadline,
    open_days: int,
    has_checks: bool,
    gaps: list[tuple[date, date, int]],
    limit: int,
) -> tuple[Status, str]:
    due_by = deadline.first_late - timedelta(days=1)
    if at_ts >= deadline.due_at:
        return Status.NON_COMPLIANT, f"{open_days} days without a counted check"
    if not has_checks:
        return (
            Status.UNKNOWN,
            f"no counted validity check recorded yet; the first is due by {due_by}",
        )
    if deadline.warn_at is not None and at_ts >= deadline.warn_at:
        return Status.PARTIAL, f"day {open_days} of {limit}: the next check is due by {due_by}"
    if gaps:
        listed = ", ".join(f"{a} → {b} ({n} d)" for a, b, n in gaps)
        return Status.PARTIAL, f"gaps over the limit in the last year: {listed}"
    return Status.COMPLIANT, f"checked within {limit} days throughout"


def sample_ratios(check: VerificationRow) -> tuple[Fraction, Fraction] | None:
    """Given a check, return its exact (bytes ratio, recovery-points ratio), or None when its
    population or sample sizes are not recorded. A population of points that hold no bytes
    (empty datasets) is sampled whole by bytes, as the plan counted it (model/plan.py)."""
    numbers = (
        check.sample_bytes,
        check.population_bytes,
        check.sample_points,
        check.population_points,
    )
    if any(n is None for n in numbers) or not check.population_points:
        return None
    return (
        Fraction(check.sample_bytes or 0, check.population_bytes)
        if check.population_bytes
        else Fraction(1),
        Fraction(check.sample_points or 0, check.population_points),
    )


def evaluate_verify_sample(ctx: Context) -> list[Finding]:
    """Judge the last counted check's sample (≥ 10 % of bytes and of recovery points), and
    note earlier counted checks of the last year that fell short."""
    rule = ctx.rule(VERIFY_SAMPLE)
    bars = (rule.threshold("min_bytes_ratio"), rule.threshold("min_points_ratio"))
    threshold = f"≥ {bars[0].display} of bytes and ≥ {bars[1].display} of recovery points"
    evidence = "catalog verifications (population_*, sample_* of each counted check)"
    checks = counted_checks(ctx)
    if not checks:
        return [
            ctx.finding(
                VERIFY_SAMPLE,
                ALL_SUBJECT,
                Status.UNKNOWN,
                measured="no counted check",
                threshold=threshold,
                evidence=evidence,
                reason="no counted validity check recorded, so no sample to judge",
            )
        ]
    last = checks[-1]
    ratios = sample_ratios(last)
    if ratios is None:
        return [
            ctx.finding(
                VERIFY_SAMPLE,
                ALL_SUBJECT,
                Status.UNKNOWN,
                measured=f"check {last.id}: sizes not recorded",
                threshold=threshold,
                evidence=evidence,
                reason="the last counted check recorded no population or sample sizes",
            )
        ]
    measured = (
        f"check {last.id}: bytes {figures.percent(ratios[0])} ({last.sample_bytes}/"
        f"{last.population_bytes}), recovery points {figures.percent(ratios[1])} "
        f"({last.sample_points}/{last.population_points})"
    )
    year_ago = ctx.at_ts - _YEAR.total_seconds()
    short = [
        c for c in checks[:-1] if (c.finished_at or 0.0) >= year_ago and _meets(c, bars) is False
    ]
    status, reason = _sample_verdict(bool(_meets(last, bars)), short)
    return [
        ctx.finding(
            VERIFY_SAMPLE,
            ALL_SUBJECT,
            status,
            measured=measured,
            threshold=threshold,
            evidence=evidence,
            reason=reason,
        )
    ]


def _meets(check: VerificationRow, bars: tuple[Threshold, Threshold]) -> bool | None:
    """Return whether a check's sample meets both bars (None: sizes not recorded)."""
    ratios = sample_ratios(check)
    if ratios is None:
        return None
    return bars[0].passes(ratios[0]) and bars[1].passes(ratios[1])


def _sample_verdict(last_meets: bool, short: list[VerificationRow]) -> tuple[Status, str]:
    if not last_meets:
        return Status.NON_COMPLIANT, "the last counted check sampled too little"
    if short:
        listed = ", ".join(c.id for c in short)
        return Status.PARTIAL, f"earlier checks in the last year sampled too little: {listed}"
    return Status.COMPLIANT, "both ratios meet the threshold"


def evaluate_drill_yearly(ctx: Context) -> list[Finding]:
    """Judge ≥ 1 passed drill in the calendar year (Asia/Shanghai) of the time of judgement and
    ≤ 365 days since the last one (the clock starts with the catalog's history). The day it
    turns 不符合 comes from `drill_deadline`, which the exporter publishes for the alerts."""
    rule = ctx.rule(DRILL_YEARLY)
    per_year = int(rule.value("min_per_calendar_year"))
    limit = int(rule.value("max_days_between"))
    threshold = f"≥ {per_year} passed drill per calendar year and ≤ {limit} days between drills"
    evidence = "catalog drills (status passed, finished_at) and their evidence packages"
    drills = passed_drills(ctx)
    deadline = drill_deadline(ctx)
    if deadline is None:
        return [
            ctx.finding(
                DRILL_YEARLY,
                ALL_SUBJECT,
                Status.UNKNOWN,
                measured="no drill",
                threshold=threshold,
                evidence=evidence,
                reason="the catalog holds no history yet: nothing to judge",
            )
        ]
    year = ctx.local_date.year
    dates = [local_day(d.finished_at or 0.0) for d in drills]
    this_year = [d for d in dates if d.year == year]
    open_days = (ctx.local_date - deadline.since).days
    gaps = _long_gaps(dates, limit, ctx.local_date - _YEAR)
    measured = f"{len(this_year)} passed drill(s) in {year}; {open_days} day(s) since " + (
        f"the last ({drills[-1].id})" if drills else "the history began"
    )
    status, reason = _drill_verdict(
        ctx.at_ts, deadline, open_days, bool(drills), len(this_year) >= per_year, gaps, year, limit
    )
    return [
        ctx.finding(
            DRILL_YEARLY,
            ALL_SUBJECT,
            status,
            measured=measured,
            threshold=threshold,
            evidence=evidence,
            reason=reason,
        )
    ]


def _drill_verdict(
    at_ts: float,
    deadline: Deadline,
    open_days: int,
    has_drills: bool,
    enough_this_year: bool,
    gaps: list[tuple[date, date, int]],
    year: int,
    limit: int,
) -> tuple[Status, str]:
    if at_ts >= deadline.due_at:
        return Status.NON_COMPLIANT, f"{open_days} days without a passed drill"
    if not has_drills:
        first_due = min(date(year, 12, 31), deadline.since + _YEAR)
        return Status.UNKNOWN, f"no passed drill recorded yet; due by {first_due}"
    if not enough_this_year:
        due_by = min(date(year, 12, 31), deadline.first_late - timedelta(days=1))
        return Status.PARTIAL, f"no passed drill yet in {year}: due by {due_by}"
    if gaps:
        listed = ", ".join(f"{a} → {b} ({n} d)" for a, b, n in gaps)
        return Status.PARTIAL, f"gaps over the limit: {listed}"
    return Status.COMPLIANT, f"drilled in {year} and within {limit} days"


def evaluate_bidirectional(ctx: Context) -> list[Finding]:
    """Judge that the last passed drill verified both failover and failback."""
    threshold = "failover and failback both drilled, fingerprints equal both ways"
    drills = passed_drills(ctx)
    if not drills:
        return [
            ctx.finding(
                BIDIRECTIONAL,
                ALL_SUBJECT,
                Status.UNKNOWN,
                measured="no passed drill",
                threshold=threshold,
                evidence="catalog drills",
                reason="bidirectional recovery has not been demonstrated by a drill",
            )
        ]
    last = drills[-1]
    measured = (
        f"drill {last.id}: failover {_flag(last.failover_ok)}, failback {_flag(last.failback_ok)}"
    )
    evidence = f"catalog drills; evidence {last.evidence_path or '(none recorded)'}"
    if last.failover_ok is False or last.failback_ok is False:
        status, reason = Status.NON_COMPLIANT, "the last passed drill did not verify both ways"
    elif last.failover_ok is None or last.failback_ok is None:
        status, reason = (
            Status.UNKNOWN,
            "the last passed drill recorded no failover/failback result",
        )
    else:
        status, reason = Status.COMPLIANT, "failover and failback verified with equal fingerprints"
    return [
        ctx.finding(
            BIDIRECTIONAL,
            ALL_SUBJECT,
            status,
            measured=measured,
            threshold=threshold,
            evidence=evidence,
            reason=reason,
        )
    ]


def _flag(value: bool | None) -> str:
    return {True: "ok", False: "FAILED", None: "not recorded"}[value]
