"""Evaluators of what is kept and for how long: logs.operation_retention,
logs.accounting_retention and backup.content.

Each is a pure function of a Context; docs/rules.md explains every interpretation choice.
"""

from __future__ import annotations

from orchestrator.model.snapshot import PointRow
from orchestrator.rules.finding import (
    ALL_SUBJECT,
    DAY_SECONDS,
    Context,
    Finding,
    days,
)
from orchestrator.rules.rotation import rotation_days
from orchestrator.rules.status import Status

CONTENT = "backup.content"


def evaluate_category_retention(ctx: Context, rule_id: str, category: str) -> list[Finding]:
    """Judge, per dataset of a category, that its recovery points are kept for the rule's
    minimum days: the rotation keeps them that long, and the oldest kept point is that old
    (or nothing was ever dropped while the history is younger)."""
    min_days = int(ctx.rule(rule_id).value("min_days"))
    threshold = f"≥ {min_days} days kept"
    chosen = [
        (system, dataset)
        for system in ctx.config.systems
        for dataset in system.datasets
        if dataset.category == category
    ]
    if not chosen:
        return [
            ctx.finding(
                rule_id,
                ALL_SUBJECT,
                Status.NOT_APPLICABLE,
                measured=f"no dataset of category {category}",
                threshold=threshold,
                evidence="dr.yml systems[].datasets[].category",
                reason=f"no dataset is declared with category {category}",
            )
        ]
    keeps = rotation_days(ctx.pack, category)
    findings = []
    for system, dataset in chosen:
        subject = f"{system.name}/{dataset.name}"
        points = ctx.points_of(system.name, dataset.name)
        if not points:
            findings.append(
                ctx.finding(
                    rule_id,
                    subject,
                    Status.UNKNOWN,
                    measured="no recovery point recorded",
                    threshold=threshold,
                    evidence="catalog recovery_points",
                    reason="nothing has been backed up yet, so nothing is kept",
                )
            )
            continue
        dropped = ctx.dropped_within(system.name, dataset.name, min_days)
        status, measured, reason = _judge_kept(ctx, points, dropped, keeps, min_days)
        evidence = (
            "rule pack backup.rotation and " + rule_id + " thresholds; catalog "
            "recovery_points and copies"
        )
        findings.append(
            ctx.finding(
                rule_id,
                subject,
                status,
                measured=measured,
                threshold=threshold,
                evidence=evidence,
                reason=reason,
            )
        )
    return findings


def _judge_kept(
    ctx: Context,
    points: list[PointRow],
    dropped: tuple[int, str | None],
    keeps: int,
    min_days: int,
) -> tuple[Status, str, str]:
    """Given a dataset's points (oldest first), those dropped within the minimum (how many,
    the oldest's id: Context.dropped_within), the days the rotation keeps and the minimum,
    return (status, measured, reason)."""
    kept = [
        p for p in points if any(c.present_at(ctx.at_ts) for c in ctx.copies_by_point.get(p.id, []))
    ]
    history_age = ctx.at_ts - points[0].finished_at
    oldest_age = ctx.at_ts - kept[0].finished_at if kept else 0.0
    measured = f"rotation keeps {keeps} d; history {days(history_age)}; oldest kept " + (
        f"{days(oldest_age)} ({kept[0].id})" if kept else "none"
    )
    minimum = min_days * DAY_SECONDS
    if keeps < min_days:
        return Status.NON_COMPLIANT, measured, f"the rotation keeps only {keeps} days"
    if dropped[0]:
        return (
            Status.NON_COMPLIANT,
            measured,
            f"{dropped[0]} recovery point(s) deleted before {min_days} days, e.g. {dropped[1]}",
        )
    if history_age >= minimum and oldest_age < minimum:
        return (
            Status.NON_COMPLIANT,
            measured,
            f"the oldest kept recovery point is {days(oldest_age)} old; the history is "
            f"{days(history_age)}",
        )
    if history_age < minimum:
        return (
            Status.COMPLIANT,
            measured,
            f"the history is younger than {min_days} days and nothing has been dropped",
        )
    return Status.COMPLIANT, measured, f"records older than {min_days} days are kept"


def evaluate_content(ctx: Context) -> list[Finding]:
    """Judge, per system, that its datasets declare every category of 第六十五条 and that each
    declared category has been backed up."""
    rule = ctx.rule(CONTENT)
    required = rule.required_categories
    threshold = "declares: " + "、".join(c.title_zh for c in required)
    findings = []
    for system in ctx.config.systems:
        declared = {d.category for d in system.datasets}
        backed_up = {d.category for d in system.datasets if ctx.points_of(system.name, d.name)}
        missing = [c for c in required if c.id not in declared]
        not_yet = [c for c in required if c.id in declared and c.id not in backed_up]
        measured = "declared: " + (", ".join(sorted(declared)) or "none")
        evidence = "dr.yml systems[].datasets[].category; catalog recovery_points"
        if not required:
            status, reason = Status.UNKNOWN, "the rule pack lists no required categories"
        elif missing:
            status, reason = (
                Status.NON_COMPLIANT,
                "not declared: " + "、".join(f"{c.title_zh} ({c.id})" for c in missing),
            )
        elif not_yet:
            status, reason = (
                Status.PARTIAL,
                "declared but never backed up: " + ", ".join(c.id for c in not_yet),
            )
        else:
            status, reason = Status.COMPLIANT, "all five categories declared and backed up"
        findings.append(
            ctx.finding(
                CONTENT,
                system.name,
                status,
                measured=measured,
                threshold=threshold,
                evidence=evidence,
                reason=reason,
            )
        )
    return findings


def evaluate_operation_logs(ctx: Context) -> list[Finding]:
    """Judge logs.operation_retention for datasets of category logs."""
    return evaluate_category_retention(ctx, "logs.operation_retention", "logs")


def evaluate_accounting_changes(ctx: Context) -> list[Finding]:
    """Judge logs.accounting_retention for datasets of category accounting_changes."""
    return evaluate_category_retention(ctx, "logs.accounting_retention", "accounting_changes")
