"""Evaluators of attested and externally judged rules: power.ups (attestations) and
switchover.notice.

Each is a pure function of a Context; docs/rules.md explains every interpretation choice.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from fractions import Fraction

from orchestrator.model.settings import Attestation, Config
from orchestrator.model.switchover_plans import PlanRow
from orchestrator.rules import figures
from orchestrator.rules.finding import ALL_SUBJECT, Context, Finding
from orchestrator.rules.status import Status
from orchestrator.rules.switchover import check_switchover_notice
from orchestrator.rules.threshold import Threshold

POWER_UPS = "power.ups"
SWITCHOVER = "switchover.notice"
# Which plan's verdict speaks for the system: the worst, in this order (last is worst).
_WORST = (
    Status.NOT_APPLICABLE,
    Status.COMPLIANT,
    Status.PARTIAL,
    Status.UNKNOWN,
    Status.NON_COMPLIANT,
)


def dated_attestations(
    config: Config, rule_id: str, subjects: Collection[str], day: date
) -> list[Attestation]:
    """Return dr.yml's attestations of a rule for any of the subjects, dated by `day`, oldest
    first (the last one decides)."""
    return sorted(
        (
            a
            for a in config.attestations
            if a.rule == rule_id and a.subject in subjects and a.date <= day
        ),
        key=lambda a: a.date,
    )


def evaluate_power_ups(ctx: Context) -> list[Finding]:
    """Judge, per production and disaster-recovery site, the newest UPS attestation: at least
    the minimum hours, not expired and not older than the maximum age."""
    rule = ctx.rule(POWER_UPS)
    hours = rule.threshold("min_hours")
    max_age = int(rule.value("max_attestation_age_days"))
    threshold = f"≥ {hours.display} h, attested within {max_age} days and not expired"
    findings = []
    for site in ctx.config.sites:
        if site.role not in ("production", "disaster_recovery"):
            continue
        attestations = dated_attestations(ctx.config, POWER_UPS, {site.name}, ctx.local_date)
        if not attestations:
            findings.append(
                ctx.finding(
                    POWER_UPS,
                    site.name,
                    Status.UNKNOWN,
                    measured="no attestation",
                    threshold=threshold,
                    evidence="dr.yml attestations",
                    reason="no attestation of the UPS runtime for this site",
                )
            )
            continue
        latest = attestations[-1]
        evidence = (
            f"dr.yml attestations: {latest.document} ({latest.date}, expires {latest.expires})"
        )
        age = (ctx.local_date - latest.date).days
        measured = (
            "not stated" if latest.measured is None else figures.hours(latest.measured)
        ) + f", attested {age} day(s) ago"
        expired = latest.expires < ctx.local_date or age > max_age
        status, reason = _ups_verdict(latest, expired, hours, max_age)
        findings.append(
            ctx.finding(
                POWER_UPS,
                site.name,
                status,
                measured=measured,
                threshold=threshold,
                evidence=evidence,
                reason=reason,
            )
        )
    return findings


def _ups_verdict(
    latest: Attestation, expired: bool, hours: Threshold, max_age: int
) -> tuple[Status, str]:
    if expired:
        return Status.NON_COMPLIANT, (
            f"the attestation expired ({latest.expires}) or is older than {max_age} days: "
            "a new discharge test is due"
        )
    if latest.measured is None:
        return Status.UNKNOWN, "the attestation states no measured runtime"
    if hours.passes(Fraction(str(latest.measured))):
        return Status.COMPLIANT, "attested runtime meets the threshold"
    return Status.NON_COMPLIANT, "attested runtime is below the threshold"


def evaluate_switchover(ctx: Context) -> list[Finding]:
    """Judge switchover.notice per system from the switchover plans recorded by the time of
    judgement whose window starts in its calendar year, each judged again now; the worst plan
    decides. No plan in the year → not applicable (a switchover drctl runs needs a recorded,
    passing plan, so none can have happened through it)."""
    rule = ctx.rule(SWITCHOVER)
    threshold = (
        f"notice ≥ {rule.threshold('min_notice_working_days').display} working days "
        f"before a switchover of > {rule.threshold('trigger_working_days').display} "
        f"working day ({rule.counting_convention or 'strict'} counting)"
    )
    year = ctx.local_date.year
    plans = [
        p
        for p in ctx.snapshot.switchover_plans
        if p.recorded_at <= ctx.at_ts and p.start.year == year
    ]
    if not plans:
        return [
            ctx.finding(
                SWITCHOVER,
                ALL_SUBJECT,
                Status.NOT_APPLICABLE,
                measured=f"no switchover plan recorded for {year}",
                threshold=threshold,
                evidence="catalog switchover_plans (drctl plan switchover --record)",
                reason="no switchover is planned in the year; a switchover drill needs a "
                "recorded plan that passed this rule",
            )
        ]
    systems = sorted({p.system for p in plans})
    return [
        _judge_plans(ctx, system, [p for p in plans if p.system == system], threshold)
        for system in systems
    ]


def _judge_plans(ctx: Context, system: str, plans: list[PlanRow], threshold: str) -> Finding:
    verdicts = [
        (
            plan,
            check_switchover_notice(
                ctx.calendar,
                plan.start,
                plan.end,
                plan.notice,
                "inclusive" if plan.convention == "inclusive" else "strict",
                ctx.pack,
                emergency_channel=plan.emergency_channel,
            ),
        )
        for plan in plans
    ]
    worst_plan, worst = max(verdicts, key=lambda pair: _WORST.index(pair[1].status))
    measured = "; ".join(
        f"{plan.id} {plan.start}…{plan.end}, notice {plan.notice}: "
        + (
            f"{verdict.notice_working_days} working day(s) ({verdict.convention})"
            if verdict.notice_working_days is not None
            else "not counted"
        )
        + f" → {verdict.status}"
        for plan, verdict in verdicts
    )
    return ctx.finding(
        SWITCHOVER,
        system,
        worst.status,
        measured=measured,
        threshold=threshold,
        evidence=f"catalog switchover_plans {', '.join(p.id for p in plans)}",
        reason=f"{worst_plan.id}: {worst.explanation_en}",
    )


def evaluate_attested(ctx: Context, rule_id: str) -> list[Finding]:
    """Judge a rule the pack marks `attested:` (an organisational or facility clause no data
    can show) from dr.yml's attestations: per `all`, or per production and disaster-recovery
    site. The newest attestation dated by the time of judgement decides."""
    rule = ctx.rule(rule_id)
    subjects = [ALL_SUBJECT]
    if rule.attested == "sites":
        roles = ("production", "disaster_recovery")
        subjects = [site.name for site in ctx.config.sites if site.role in roles]
    return [_judge_attested(ctx, rule_id, subject) for subject in subjects]


def _judge_attested(ctx: Context, rule_id: str, subject: str) -> Finding:
    minimum = ctx.rule(rule_id).thresholds.get("min_measured")
    threshold = "a current attestation (document, date, expiry, attester)" + (
        f" stating ≥ {minimum.display} {minimum.unit}" if minimum else ""
    )
    dated = dated_attestations(ctx.config, rule_id, {subject}, ctx.local_date)
    if not dated:
        return ctx.finding(
            rule_id,
            subject,
            Status.UNKNOWN,
            measured="no attestation",
            threshold=threshold,
            evidence="dr.yml attestations",
            reason="nothing attests this clause; drctl cannot observe it from data",
        )
    latest = dated[-1]
    status, reason = _attested_verdict(latest, ctx.local_date, minimum)
    attester = latest.attester or "attester not stated"
    measured = f"attested {latest.date} by {attester}, valid until {latest.expires}" + (
        "" if latest.measured is None else f"; stated {figures.number(latest.measured)}"
    )
    return ctx.finding(
        rule_id,
        subject,
        status,
        measured=measured,
        threshold=threshold,
        evidence=f"dr.yml attestations: {latest.document} ({latest.date}, expires "
        f"{latest.expires})",
        reason=reason,
    )


def _attested_verdict(
    latest: Attestation, today: date, minimum: Threshold | None
) -> tuple[Status, str]:
    if latest.expires < today:
        return Status.NON_COMPLIANT, f"the newest attestation expired on {latest.expires}"
    if not latest.applicable:
        return Status.NOT_APPLICABLE, "the attested document shows the clause does not apply"
    if minimum is None:
        return Status.COMPLIANT, "attested and not expired"
    if latest.measured is None:
        return Status.UNKNOWN, "the attestation states no measured value"
    if minimum.passes(Fraction(str(latest.measured))):
        return Status.COMPLIANT, "the attested value meets the threshold"
    return Status.NON_COMPLIANT, "the attested value is below the threshold"
