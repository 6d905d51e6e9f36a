"""Evaluators of the check, drill and facility rules: verify.interval, verify.sample,
drill.yearly, dr.bidirectional, power.ups, the network rules' defaults and switchover.notice.

Each is a pure function of a Context; docs/rules.md explains every interpretation choice.
"""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

from orchestrator.model.snapshot import VerificationRow
from orchestrator.rules import figures
from orchestrator.rules.deadlines import (
    counted_checks,
    drill_deadline,
    passed_drills,
    verification_deadline,
)
from orchestrator.rules.finding import ALL_SUBJECT, Context, Finding, local_day
from orchestrator.rules.status import Status

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
        due_by = deadline.first_late - timedelta(days=1)
        gaps = _long_gaps(dates, limit, ctx.local_date - _YEAR)
        if dates:
            measured = f"{open_days} day(s) since the last counted check ({checks[-1].id})"
        else:
            measured = f"no counted check; {open_days} day(s) since the first backup"
        if ctx.at_ts >= deadline.due_at:
            status, reason = Status.NON_COMPLIANT, f"{open_days} days without a counted check"
        elif not dates:
            status, reason = (
                Status.UNKNOWN,
                f"no counted validity check recorded yet; the first is due by {due_by}",
            )
        elif deadline.warn_at is not None and ctx.at_ts >= deadline.warn_at:
            status, reason = (
                Status.PARTIAL,
                f"day {open_days} of {limit}: the next check is due by {due_by}",
            )
        elif gaps:
            status, reason = (
                Status.PARTIAL,
                "gaps over the limit in the last year: "
                + ", ".join(f"{a} → {b} ({n} d)" for a, b, n in gaps),
            )
        else:
            status, reason = Status.COMPLIANT, f"checked within {limit} days throughout"
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


def sample_ratios(check: VerificationRow) -> tuple[Fraction, Fraction] | None:
    """Given a check, return its exact (bytes ratio, recovery-points ratio), or None when its
    population or sample sizes are not recorded."""
    numbers = (
        check.sample_bytes,
        check.population_bytes,
        check.sample_points,
        check.population_points,
    )
    if any(n is None for n in numbers) or not check.population_bytes or not check.population_points:
        return None
    return (
        Fraction(check.sample_bytes or 0, check.population_bytes),
        Fraction(check.sample_points or 0, check.population_points),
    )


def evaluate_verify_sample(ctx: Context) -> list[Finding]:
    """Judge the last counted check's sample (≥ 10 % of bytes and of recovery points), and
    note earlier counted checks of the last year that fell short."""
    rule = ctx.rule(VERIFY_SAMPLE)
    bytes_min = rule.threshold("min_bytes_ratio")
    points_min = rule.threshold("min_points_ratio")
    threshold = f"≥ {bytes_min.display} of bytes and ≥ {points_min.display} of recovery points"
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

    def meets(check: VerificationRow) -> bool | None:
        ratios = sample_ratios(check)
        if ratios is None:
            return None
        return bytes_min.passes(ratios[0]) and points_min.passes(ratios[1])

    last = checks[-1]
    ratios = sample_ratios(last)
    year_ago = ctx.at_ts - _YEAR.total_seconds()
    short = [c for c in checks[:-1] if (c.finished_at or 0.0) >= year_ago and meets(c) is False]
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
    if not meets(last):
        status, reason = Status.NON_COMPLIANT, "the last counted check sampled too little"
    elif short:
        status, reason = (
            Status.PARTIAL,
            "earlier checks in the last year sampled too little: " + ", ".join(c.id for c in short),
        )
    else:
        status, reason = Status.COMPLIANT, "both ratios meet the threshold"
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
    due_by = min(date(year, 12, 31), deadline.first_late - timedelta(days=1))
    gaps = _long_gaps(dates, limit, ctx.local_date - _YEAR)
    measured = f"{len(this_year)} passed drill(s) in {year}; {open_days} day(s) since " + (
        f"the last ({drills[-1].id})" if drills else "the history began"
    )
    if ctx.at_ts >= deadline.due_at:
        status, reason = Status.NON_COMPLIANT, f"{open_days} days without a passed drill"
    elif not drills:
        first_due = min(date(year, 12, 31), deadline.since + _YEAR)
        status, reason = Status.UNKNOWN, f"no passed drill recorded yet; due by {first_due}"
    elif len(this_year) < per_year:
        status, reason = Status.PARTIAL, f"no passed drill yet in {year}: due by {due_by}"
    elif gaps:
        status, reason = (
            Status.PARTIAL,
            "gaps over the limit: " + ", ".join(f"{a} → {b} ({n} d)" for a, b, n in gaps),
        )
    else:
        status, reason = Status.COMPLIANT, f"drilled in {year} and within {limit} days"
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
