"""Judge every rule × subject: `evaluate_all(config, pack, calendar, snapshot, at)`.

Evaluators are pure functions of a Context (config, rule pack, calendar, catalog snapshot,
time), kept in a registry by rule id. Another module replaces one with `register_evaluator`
(the network probes register `network.availability` and `network.max_outage` this way, and add
their outage ledger to the snapshot with `register_snapshot_part`). Modules listed in
PLUGIN_MODULES are imported, when they exist, before the first evaluation.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from datetime import UTC, datetime, timedelta

from orchestrator.errors import InputError
from orchestrator.model.settings import Config
from orchestrator.rules import evaluate_attested as attested
from orchestrator.rules import evaluate_backup as backup
from orchestrator.rules import evaluate_content as content
from orchestrator.rules import evaluate_governance as governance
from orchestrator.rules.finding import Context, Evaluator, Finding
from orchestrator.rules.rule import RulePack
from orchestrator.rules.snapshot import Snapshot, load_snapshot, register_snapshot_part
from orchestrator.rules.status import Status
from orchestrator.rules.workdays import SHANGHAI, WorkdayCalendar

logger = logging.getLogger(__name__)

EVALUATORS: dict[str, Evaluator] = {
    "backup.full_interval": backup.evaluate_full_interval,
    "backup.rotation": backup.evaluate_rotation,
    "verify.interval": governance.evaluate_verify_interval,
    "verify.sample": governance.evaluate_verify_sample,
    "offsite.copy": backup.evaluate_offsite,
    "network.availability": attested.evaluate_network_availability,
    "network.max_outage": attested.evaluate_network_max_outage,
    "logs.operation_retention": content.evaluate_operation_logs,
    "logs.accounting_retention": content.evaluate_accounting_changes,
    "backup.content": content.evaluate_content,
    "switchover.notice": attested.evaluate_switchover,
    "dr.bidirectional": governance.evaluate_bidirectional,
    "drill.yearly": governance.evaluate_drill_yearly,
    "power.ups": attested.evaluate_power_ups,
}
# Imported (if present) before evaluating, so they can register their evaluators.
PLUGIN_MODULES = (
    "orchestrator.network.evaluate",
    "orchestrator.rules.evaluate_mirroring",
    "orchestrator.rules.evaluate_restore_time",
)
_plugins_loaded = False


def register_evaluator(rule_id: str, evaluator: Evaluator) -> None:
    """Given a rule id and an evaluator, use it for that rule from now on."""
    EVALUATORS[rule_id] = evaluator


def load_plugins() -> None:
    """Import every module of PLUGIN_MODULES that exists (once)."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for name in PLUGIN_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if found:
            importlib.import_module(name)
            logger.debug("rule evaluator plugin %s loaded", name)


def evaluate_all(
    config: Config,
    pack: RulePack,
    calendar: WorkdayCalendar,
    catalog_snapshot: Snapshot,
    at: datetime,
    known_at: datetime | None = None,
) -> list[Finding]:
    """Given the site config, its rule pack, the calendar, a catalog snapshot and a
    timezone-aware time, return every rule × subject finding, in rule-pack order. known_at
    (later than at; `evaluate_year` sets it) reads records known until then: a network fault
    that began before `at` counts with its full length.

    A rule without an evaluator is reported unknown. Raise ValueError for a naive time.
    """
    for moment in (at, known_at):
        if moment is not None and (moment.tzinfo is None or moment.utcoffset() is None):
            raise ValueError(f"time {moment.isoformat()} has no time zone")
    load_plugins()
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
        evaluator = EVALUATORS.get(rule.id)
        if evaluator is None:
            findings.append(
                context.finding(
                    rule.id,
                    "all",
                    Status.UNKNOWN,
                    measured="not evaluated",
                    threshold="",
                    evidence="none",
                    reason="no evaluator is registered for this rule",
                )
            )
            continue
        judged = evaluator(context)
        if not judged:
            judged = [
                context.finding(
                    rule.id,
                    "all",
                    Status.UNKNOWN,
                    measured="no subject",
                    threshold="",
                    evidence="dr.yml",
                    reason="network probing not configured (no network.paths)"
                    if rule.id.startswith("network.")
                    else "nothing is configured for this rule",
                )
            ]
        findings.extend(judged)
    return findings


def year_end(year: int) -> datetime:
    """Given a calendar year, return its last instant in Asia/Shanghai (23:59:59.999999 on
    31 December), the time a whole-year judgement is made at."""
    return datetime(year + 1, 1, 1, tzinfo=SHANGHAI) - timedelta(microseconds=1)


def evaluate_year(
    config: Config,
    pack: RulePack,
    calendar: WorkdayCalendar,
    catalog_snapshot: Snapshot,
    year: int,
    now: datetime,
) -> list[Finding]:
    """Given a calendar year that is over, return every finding for the whole year: judged at
    its last instant, with every record known now (a fault that crossed New Year counts in
    the year with its full length; its part inside the year counts towards the downtime).

    Raise InputError naming --year if the year has not ended at `now`.
    """
    end = year_end(year)
    if now <= end:
        raise InputError(
            "command line",
            [
                f"--year {year}: the year is not over (it ends {end:%Y-%m-%d} 24:00 "
                "Asia/Shanghai); judge it so far with `status` or `status --at DATE`"
            ],
        )
    return evaluate_all(config, pack, calendar, catalog_snapshot, end, now)


def worst_exit(findings: list[Finding]) -> bool:
    """Given findings, return whether any rule of severity violation is non-compliant."""
    return any(finding.breaks_violation for finding in findings)


__all__ = [
    "EVALUATORS",
    "Context",
    "Finding",
    "Snapshot",
    "evaluate_all",
    "evaluate_year",
    "load_snapshot",
    "register_evaluator",
    "register_snapshot_part",
    "worst_exit",
    "year_end",
]
