"""Evaluators of attested and externally judged rules: power.ups (attestations) and
switchover.notice.

Each is a pure function of a Context; docs/rules.md explains every interpretation choice.
"""

from __future__ import annotations

from fractions import Fraction

from orchestrator.model.settings import Attestation
from orchestrator.rules import figures
from orchestrator.rules.finding import ALL_SUBJECT, Context, Finding
from orchestrator.rules.status import Status
from orchestrator.rules.threshold import Threshold

POWER_UPS = "power.ups"
SWITCHOVER = "switchover.notice"


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
        attestations = sorted(
            (
                a
                for a in ctx.config.attestations
                if a.rule == POWER_UPS and a.subject == site.name and a.date <= ctx.local_date
            ),
            key=lambda a: a.date,
        )
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
    """switchover.notice is judged per planned switchover, not from the catalog."""
    rule = ctx.rule(SWITCHOVER)
    threshold = (
        f"notice ≥ {rule.threshold('min_notice_working_days').display} working days "
        f"before a switchover of > {rule.threshold('trigger_working_days').display} "
        f"working day ({rule.counting_convention or 'strict'} counting)"
    )
    return [
        ctx.finding(
            SWITCHOVER,
            ALL_SUBJECT,
            Status.NOT_APPLICABLE,
            measured="no switchover is judged here",
            threshold=threshold,
            evidence="drctl plan switchover --start --end --notice-date",
            reason="judged per planned switchover by `drctl plan switchover`",
        )
    ]
