"""The drill's report (report.json, rendered to report.html): steps, measurements, and the
findings a drill itself evidences."""

from __future__ import annotations

import platform
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ansible.release

from orchestrator import __version__
from orchestrator.model.scenario import Scenario
from orchestrator.runtime import Runtime
from orchestrator.timefmt import iso_utc

if TYPE_CHECKING:
    from orchestrator.actions.drill import StepRecord


MEASUREMENT_LABELS = {
    "rto_seconds": (
        "恢复时间 RTO（灾难宣告→服务验证）",
        "RTO (disaster declared → verified service)",
        "s",
    ),
    "rpo_seconds": ("数据丢失窗口 RPO", "RPO (disaster declared − recovery point)", "s"),
    "postings_lost": ("丢失的记账笔数", "Postings lost", ""),
    "postings_at_disaster": (
        "灾难宣告时生产中心的记账笔数",
        "Postings at production when the disaster was declared",
        "",
    ),
    "postings_restored": ("恢复后的记账笔数", "Postings restored", ""),
}


def make_report(
    drill_id: str,
    scenario: Scenario,
    scenario_path: Path,
    records: list[StepRecord],
    measurements: dict[str, Any],
    outcome: str,
    started: float,
    finished: float,
    runtime: Runtime,
    findings: list[dict[str, Any]],
) -> dict[str, Any]:
    """Return the drill's report dict (report.json; report.html is rendered from it); the
    findings are the rules' own (actions/rule_status.rule_findings), judged after this drill
    was recorded."""
    objectives = scenario.objectives
    return {
        "kind": "drill",
        "id": drill_id,
        "title": {
            "zh": f"灾难恢复演练报告：{scenario.title.zh}",
            "en": f"Disaster-recovery drill report: {scenario.title.en}",
        },
        "outcome": outcome,
        "started_at": iso_utc(started),
        "finished_at": iso_utc(finished),
        "scenario": {
            "name": scenario.name,
            "file": scenario_path.name,
            "description": scenario.description.model_dump() if scenario.description else None,
            "system": scenario.system,
            "kind": scenario.kind,
            "objectives": objectives.model_dump(),
        },
        "measurements": measurement_rows(measurements, objectives.model_dump()),
        "steps": [step_row(r) for r in records],
        "findings": findings,
        "verdict_note": verdict_note(scenario, outcome),
        "recovery_points": recovery_point_rows(measurements),
        "mismatches": measurements.get("mismatches", []),
        "production": measurements.get("production"),
        "rows_behind": measurements.get("rows_behind"),
        "drill_targets": measurements.get("drill_targets"),
        "wipe": measurements.get("wipe"),
        "versions": {
            "orchestrator": __version__,
            "python": platform.python_version(),
            "ansible_core": ansible.release.__version__,
        },
        "accountable_person": runtime.config.model.evidence.accountable_person,
    }


def verdict_note(scenario: Scenario, outcome: str) -> dict[str, str] | None:
    """Return why a report carries no rule finding (an aborted drill, a switchover)."""
    if scenario.kind == "switchover":
        return {
            "zh": "计划内切换不是演练：不计入第十三条年度演练，也不计入第十一条双向恢复。",
            "en": "A planned switchover is not a drill: it counts neither for drill.yearly "
            "(第十三条) nor for dr.bidirectional (第十一条).",
        }
    if outcome == "aborted":
        return {
            "zh": "演练中止：在比对任何数据之前，主机或存储不可达、被拒绝或超时。"
            "中止的演练不作合规判定，既不计为通过，也不计为未通过。",
            "en": "The drill was aborted: a host or store was unreachable, refused or timed "
            "out before any data was compared. An aborted drill yields no rule verdict: it "
            "counts neither as passed nor as failed.",
        }
    return None


def measurement_rows(
    measurements: dict[str, Any], objectives: dict[str, Any]
) -> list[dict[str, Any]]:
    """Return the drill's measurements that were taken, each with its bilingual label and the
    scenario's objective for it (None where it declares none)."""
    return [
        {
            "name": name,
            "label": {"zh": MEASUREMENT_LABELS[name][0], "en": MEASUREMENT_LABELS[name][1]},
            "value": measurements[name],
            "unit": MEASUREMENT_LABELS[name][2],
            "objective": objectives.get(name),
        }
        for name in MEASUREMENT_LABELS
        if measurements.get(name) is not None
    ]


def step_row(r: StepRecord) -> dict[str, Any]:
    """Return the report's row of one drill step."""
    return {
        "name": r.name,
        "action": r.action,
        "status": r.status,
        "started_at": iso_utc(r.started_at) if r.started_at else None,
        "finished_at": iso_utc(r.finished_at) if r.finished_at else None,
        "duration_seconds": r.duration_seconds if r.started_at else None,
        "message": r.message,
        "detail": r.detail,
    }


def recovery_point_rows(measurements: dict[str, Any]) -> list[dict[str, Any]]:
    """Return a row per recovery point the drill wrote (each manifest it attaches)."""
    return list(measurements.get("points") or measurements.get("failover_points", []))
