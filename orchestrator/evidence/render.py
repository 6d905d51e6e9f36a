"""Render a report dict as the bilingual report.html of an evidence package.

Simplified Chinese first, English second; clause texts quoted in the original Chinese. The
page is self-contained (inline CSS, no external assets) and prints cleanly. Every key is
optional: known sections get tables, any other top-level key a generic key/value section.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from orchestrator.evidence.report_html import is_compliance_report, render_compliance_html

TEMPLATE_DIRECTORY = Path(__file__).parent / "templates"
TEMPLATE_NAME = "report.html.j2"
EMPTY = "—"

KIND_TITLES = {
    "drill": ("灾难恢复演练报告", "Disaster-recovery drill report"),
    "verify": ("备份恢复验证报告", "Backup restore verification report"),
    "report": ("合规情况报告", "Compliance report"),
}
DEFAULT_TITLE = ("证据包报告", "Evidence report")
OUTCOMES = {
    "passed": ("通过", "PASSED", "passed"),
    "failed": ("未通过", "FAILED", "failed"),
    "aborted": ("中止（不作判定）", "ABORTED (no verdict)", "unknown"),
}
UNKNOWN_OUTCOME = ("无法判定", "UNKNOWN", "unknown")
STEP_STATUSES = {
    "passed": ("通过", "passed"),
    "failed": ("失败", "failed"),
    "skipped": ("跳过", "skipped"),
    "aborted": ("中止", "aborted"),
    "running": ("进行中", "running"),
}
# What each step action does, in both languages (the step's message carries the details).
STEP_ACTIONS = {
    "workload": ("写入业务数据", "business workload written"),
    "backup": ("完全备份", "full backup"),
    "copy_offsite": ("异地复制", "off-site copy"),
    "disaster": ("模拟灾难", "disaster simulated"),
    "failover": ("切换至备份中心并恢复", "failover: restore at the backup site"),
    "failback": ("回切至生产中心并恢复", "failback: restore at production"),
    "compare_sites": ("两中心数据一致性比对", "both sites compared"),
    "reprotect": ("回切后重新备份", "production protected again"),
    "test_failover": ("演练切换（演练专用目标）", "test failover into drill-scoped targets"),
    "test_failback": ("演练回切（演练专用目标）", "test failback into drill-scoped targets"),
    "wipe": ("清除演练数据", "drill data wiped"),
    "restore-verify": ("抽检恢复验证", "sampled restore verified"),
}
FINDING_STATUSES = {
    "compliant": ("符合", "compliant"),
    "partial": ("部分符合", "partially compliant"),
    "non_compliant": ("不符合", "non-compliant"),
    "not_applicable": ("不适用", "not applicable"),
    "unknown": ("无法判定", "unknown"),
}
# Sections with a dedicated layout; everything else is rendered generically.
TABLE_SECTIONS = ("measurements", "steps", "findings", "recovery_points", "mismatches")
LAID_OUT_KEYS = frozenset(
    {
        "kind",
        "id",
        "title",
        "outcome",
        "started_at",
        "finished_at",
        "scenario",
        "summary",
        "versions",
        "accountable_person",
        "package",
        *TABLE_SECTIONS,
    }
)


@dataclass(frozen=True)
class Label:
    """A bilingual label and the CSS class that colours it."""

    zh: str
    en: str
    css: str


def render_report_html(report: Mapping[str, Any]) -> str:
    """Given a report dict (any key may be missing), return the bilingual HTML page (the
    compliance report of `drctl report` has its own layout: report_html.py)."""
    if is_compliance_report(report):
        return render_compliance_html(report)
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIRECTORY),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["text"] = format_value
    environment.filters["pretty"] = format_pretty
    return environment.get_template(TEMPLATE_NAME).render(view=make_view(report))


def make_view(report: Mapping[str, Any]) -> dict[str, Any]:
    """Given a report dict, return the values the template lays out, with labels translated."""
    kind = str(report.get("kind") or (report.get("package") or {}).get("kind") or "")
    title_zh, title_en = _title(report.get("title"), kind)
    sections = {name: _rows(report.get(name)) for name in TABLE_SECTIONS}
    extra = {key: value for key, value in report.items() if key not in LAID_OUT_KEYS}
    for name, rows in sections.items():
        if rows is None and report.get(name) is not None:
            extra[name] = report[name]  # not a list of objects: show it as it is
    package = report.get("package")
    versions = report.get("versions")
    scenario = report.get("scenario")
    return {
        "title_zh": title_zh,
        "title_en": title_en,
        "outcome": _outcome(report.get("outcome")),
        "overview": _overview(report, kind),
        "scenario": scenario if isinstance(scenario, Mapping) else None,
        "summary": _bilingual(report.get("summary")),
        "measurements": sections["measurements"] or [],
        "steps": [_step(row, n) for n, row in enumerate(sections["steps"] or [], start=1)],
        "findings": [_finding(row) for row in sections["findings"] or []],
        "recovery_points": sections["recovery_points"] or [],
        "mismatches": sections["mismatches"] or [],
        "versions": versions if isinstance(versions, Mapping) else None,
        "package": package if isinstance(package, Mapping) else None,
        "extra": extra,
    }


def format_value(value: Any) -> str:
    """Given any JSON value, return short display text (— for missing, compact JSON for nests)."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "是 yes" if value else "否 no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)


def format_pretty(value: Any) -> str:
    """Given any JSON value, return it indented for a <pre> block (strings as they are)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2, default=str)


def _rows(value: Any) -> list[Mapping[str, Any]] | None:
    if isinstance(value, list) and all(isinstance(item, Mapping) for item in value):
        return value
    return None


def _title(value: Any, kind: str) -> tuple[str, str]:
    default_zh, default_en = KIND_TITLES.get(kind, DEFAULT_TITLE)
    if isinstance(value, Mapping):
        return str(value.get("zh") or default_zh), str(value.get("en") or default_en)
    if isinstance(value, str) and value:
        return value, value
    return default_zh, default_en


def _outcome(value: Any) -> Label | None:
    if value is None:
        return None
    zh, en, css = OUTCOMES.get(str(value), UNKNOWN_OUTCOME)
    return Label(zh, en, css)


def _bilingual(value: Any) -> dict[str, Any] | None:
    if value is None or value == "":
        return None
    if isinstance(value, Mapping) and set(value) <= {"zh", "en"}:
        return {"zh": value.get("zh"), "en": value.get("en"), "other": None}
    if isinstance(value, str):
        return {"zh": None, "en": None, "other": value}
    return {"zh": None, "en": None, "other": format_pretty(value)}


def _overview(report: Mapping[str, Any], kind: str) -> list[tuple[str, str, Any]]:
    rows = [
        ("编号", "Run id", report.get("id")),
        ("类型", "Kind", kind or None),
        ("第一责任人", "Accountable person", report.get("accountable_person")),
        ("开始时间", "Started", report.get("started_at")),
        ("结束时间", "Finished", report.get("finished_at")),
    ]
    return [row for row in rows if row[2] not in (None, "")]


def _step(row: Mapping[str, Any], number: int) -> dict[str, Any]:
    status = row.get("status")
    zh, en = STEP_STATUSES.get(str(status), (format_value(status), ""))
    duration = row.get("duration_seconds")
    return {
        **row,
        "status_label": Label(zh, en, str(status)),
        "duration": _duration(duration),
        "detail": row.get("detail") or None,
        "number": number,  # the step's row, and its record's Appendix B number
        "action_label": STEP_ACTIONS.get(str(row.get("action"))),
    }


def _duration(seconds: Any) -> str:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return format_value(seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(float(seconds), 60)
    return f"{seconds:.1f} s ({int(minutes)} min {rest:.0f} s)"


def _finding(row: Mapping[str, Any]) -> dict[str, Any]:
    status = row.get("status")
    zh, en = FINDING_STATUSES.get(str(status), (format_value(status), ""))
    clause = row.get("clause")
    return {
        **row,
        "status_label": Label(zh, en, str(status)),
        "clause": clause if isinstance(clause, Mapping) else None,
        "clause_other": None if isinstance(clause, Mapping) else clause,
    }
