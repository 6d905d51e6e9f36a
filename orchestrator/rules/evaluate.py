"""Judge every rule × subject: `evaluate_all(config, pack, calendar, snapshot, at)`.

Evaluators are pure functions of a Context (config, rule pack, calendar, catalog snapshot,
time), listed by rule id in EVALUATORS — every one of them, the network rules included. A
caller may judge with another mapping (`evaluators=`); nothing registers itself on import.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import partial

from orchestrator.model.settings import Config
from orchestrator.model.snapshot import Snapshot
from orchestrator.rules import evaluate_attested as attested
from orchestrator.rules import evaluate_backup as backup
from orchestrator.rules import evaluate_content as content
from orchestrator.rules import evaluate_encryption as encryption
from orchestrator.rules import evaluate_governance as governance
from orchestrator.rules import evaluate_mirroring as mirroring
from orchestrator.rules import evaluate_network as network
from orchestrator.rules import evaluate_objectives as objectives
from orchestrator.rules import evaluate_restore_time as restore_time
from orchestrator.rules.finding import Context, Evaluator, Finding
from orchestrator.rules.rule import RulePack
from orchestrator.rules.status import Status
from orchestrator.rules.workdays import WorkdayCalendar

logger = logging.getLogger(__name__)

EVALUATORS: dict[str, Evaluator] = {
    "backup.full_interval": backup.evaluate_full_interval,
    "backup.rotation": backup.evaluate_rotation,
    "verify.interval": governance.evaluate_verify_interval,
    "verify.sample": governance.evaluate_verify_sample,
    "offsite.copy": backup.evaluate_offsite,
    "network.availability": network.evaluate_availability,
    "network.max_outage": network.evaluate_max_outage,
    "logs.operation_retention": content.evaluate_operation_logs,
    "logs.accounting_retention": content.evaluate_accounting_changes,
    "backup.content": content.evaluate_content,
    "switchover.notice": attested.evaluate_switchover,
    "dr.bidirectional": governance.evaluate_bidirectional,
    "drill.yearly": governance.evaluate_drill_yearly,
    "power.ups": attested.evaluate_power_ups,
    mirroring.MIRRORING: mirroring.evaluate_mirroring,
    restore_time.RESTORE_DURATION: restore_time.evaluate_restore_duration,
    encryption.STORAGE_ENCRYPTION: encryption.evaluate_storage_encryption,
    encryption.KEY_ESCROW: encryption.evaluate_key_escrow,
    objectives.DRILL_OBJECTIVES: objectives.evaluate_drill_objectives,
}


def evaluate_all(
    config: Config,
    pack: RulePack,
    calendar: WorkdayCalendar,
    catalog_snapshot: Snapshot,
    at: datetime,
    *,
    known_at: datetime | None = None,
    evaluators: Mapping[str, Evaluator] = EVALUATORS,
) -> list[Finding]:
    """Given the site config, its rule pack, the calendar, a catalog snapshot and a
    timezone-aware time, return every rule × subject finding, in rule-pack order. known_at
    (later than at; `whole_year.evaluate_year` sets it) reads records known until then: a
    network fault that began before `at` counts with its full length.

    A rule the pack marks `attested:` with no evaluator listed is judged from dr.yml's
    attestations (evaluate_attested.evaluate_attested); a rule with neither is reported
    unknown. Raise ValueError for a naive time.
    """
    for moment in (at, known_at):
        if moment is not None and (moment.tzinfo is None or moment.utcoffset() is None):
            raise ValueError(f"time {moment.isoformat()} has no time zone")
    context = Context(
        config,
        pack,
        calendar,
        catalog_snapshot,
        at.astimezone(UTC),
        known_at.astimezone(UTC) if known_at else None,
    )
    findings: list[Finding] = []
    for rule in pack:
        evaluator = evaluators.get(rule.id)
        if evaluator is None and rule.attested:
            evaluator = partial(attested.evaluate_attested, rule_id=rule.id)
        judged = evaluator(context) if evaluator is not None else []
        findings.extend(judged or [_unjudged(context, rule.id, evaluator is None)])
    return findings


def _unjudged(context: Context, rule_id: str, no_evaluator: bool) -> Finding:
    """The unknown finding of a rule nobody judged: no evaluator is listed, or it found no
    subject (nothing configured; for the network rules, no network.paths)."""
    if no_evaluator:
        measured, evidence, reason = "not evaluated", "none", "no evaluator is listed for this rule"
    elif rule_id.startswith("network."):
        measured, evidence = "no subject", "dr.yml"
        reason = "network probing not configured (no network.paths)"
    else:
        measured, evidence, reason = "no subject", "dr.yml", "nothing is configured for this rule"
    return context.finding(
        rule_id,
        "all",
        Status.UNKNOWN,
        measured=measured,
        threshold="",
        evidence=evidence,
        reason=reason,
    )


def worst_exit(findings: list[Finding]) -> bool:
    """Given findings, return whether any rule of severity violation is non-compliant."""
    return any(finding.breaks_violation for finding in findings)


__all__ = [
    "EVALUATORS",
    "Context",
    "Finding",
    "Snapshot",
    "evaluate_all",
    "worst_exit",
]
