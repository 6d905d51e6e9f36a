"""The drill's report (report.json, rendered to report.html): steps, measurements, and the
findings a drill itself evidences."""

from __future__ import annotations

import platform
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ansible.release

from orchestrator import __version__
from orchestrator.model.scenario import Scenario
from orchestrator.rules.rule import RulePack
from orchestrator.runtime import Runtime
from orchestrator.timefmt import iso_utc

if TYPE_CHECKING:
    from orchestrator.actions.drill import StepRecord


def make_report(
    drill_id: str,
    scenario: Scenario,
    scenario_path: Path,
    records: list[StepRecord],
    measurements: dict[str, Any],
    passed: bool,
    started: float,
    finished: float,
    runtime: Runtime,
) -> dict[str, Any]:
    """Return the drill's report dict (report.json; report.html is rendered from it)."""
    objectives = scenario.objectives
    labels = {
        "rto_seconds": (
            "恢复时间 RTO（灾难宣告→服务验证）",
            "RTO (disaster → verified service)",
            "s",
        ),
        "rpo_seconds": ("数据丢失窗口 RPO", "RPO (disaster − recovery point)", "s"),
        "postings_lost": ("丢失的记账笔数", "Postings lost", ""),
        "postings_at_disaster": ("灾难时的记账笔数", "Postings at disaster", ""),
        "postings_restored": ("恢复后的记账笔数", "Postings restored", ""),
    }
    return {
        "kind": "drill",
        "id": drill_id,
        "title": {
            "zh": f"灾难恢复演练报告：{scenario.title.zh}",
            "en": f"Disaster-recovery drill report: {scenario.title.en}",
        },
        "outcome": "passed" if passed else "failed",
        "started_at": iso_utc(started),
        "finished_at": iso_utc(finished),
        "scenario": {
            "name": scenario.name,
            "file": scenario_path.name,
            "description": scenario.description.model_dump() if scenario.description else None,
            "system": scenario.system,
            "objectives": objectives.model_dump(),
        },
        "measurements": [
            {
                "name": name,
                "label": {"zh": labels[name][0], "en": labels[name][1]},
                "value": measurements[name],
                "unit": labels[name][2],
            }
            for name in labels
            if measurements.get(name) is not None
        ],
        "steps": [
            {
                "name": r.name,
                "action": r.action,
                "status": r.status,
                "started_at": iso_utc(r.started_at) if r.started_at else None,
                "finished_at": iso_utc(r.finished_at) if r.finished_at else None,
                "duration_seconds": r.duration_seconds if r.started_at else None,
                "message": r.message,
                "detail": r.detail,
            }
            for r in records
        ],
        "findings": drill_findings(measurements, passed, runtime.pack),
        "recovery_points": recovery_point_rows(measurements),
        "mismatches": measurements.get("mismatches", []),
        "versions": {
            "orchestrator": __version__,
            "python": platform.python_version(),
            "ansible_core": ansible.release.__version__,
        },
        "accountable_person": runtime.config.model.evidence.accountable_person,
    }


def drill_findings(
    measurements: dict[str, Any], passed: bool, pack: RulePack
) -> list[dict[str, Any]]:
    """Return the rule findings a drill itself evidences (dr.bidirectional, drill.yearly),
    with the site's rule pack."""
    findings = []
    for rule_id, ok, measured in (
        (
            "dr.bidirectional",
            passed,
            "failover and failback verified, fingerprints equal"
            if passed
            else "not both directions verified",
        ),
        ("drill.yearly", passed, "drill passed" if passed else "drill failed"),
    ):
        rule = pack.get(rule_id)
        findings.append(
            {
                "rule": rule_id,
                "subject": "drill",
                "status": "compliant" if ok else "non_compliant",
                "measured": measured,
                "threshold": rule.title_en,
                "clause": {
                    "source": rule.clause.source,
                    "article": rule.clause.article,
                    "text": rule.clause.text,
                },
            }
        )
    return findings


def recovery_point_rows(measurements: dict[str, Any]) -> list[dict[str, Any]]:
    return list(measurements.get("failover_points", []))
