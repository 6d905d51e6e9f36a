"""Lay out the compliance report of `drctl report` as a bilingual page (简体中文 first, English
second) that prints on A4: a summary of at most three pages (overview, the status of every
requirement R1–R42, violations, open issues), then the appendices (every finding, the
evidence of each rule, the packages of the period, the full issue register, provenance).

The page is rendered from report.json alone (what the package holds), self-contained, and
shows text and tables only: no JSON and no Python values, in the summary or the appendices.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jinja2

from orchestrator.evidence.content import PACKAGE_KEY

TEMPLATE_DIRECTORY = Path(__file__).parent / "templates"
TEMPLATE_NAME = "compliance.html.j2"
SUMMARY_LIMIT = 8  # rows of violations and open issues in the summary; all in the appendices
STATUS_ORDER = ("compliant", "partial", "non_compliant", "not_applicable", "unknown")
STATUS_LABELS = {
    "compliant": ("符合", "compliant"),
    "partial": ("部分符合", "partially compliant"),
    "non_compliant": ("不符合", "non-compliant"),
    "not_applicable": ("不适用", "not applicable"),
    "unknown": ("无法判定", "cannot be determined"),
}
ISSUE_LABELS = {
    "rectify_by_deadline": ("限期整改", "rectify by the due date"),
    "long_term_observation": ("长期观察", "long-term observation"),
    "rectified": ("已整改", "rectified"),
}
EMPTY = "—"


def is_compliance_report(report: Mapping[str, Any]) -> bool:
    """Return whether a report dict is the compliance report (it lists requirements)."""
    kind = report.get("kind") or (report.get(PACKAGE_KEY) or {}).get("kind")
    return kind == "report" and isinstance(report.get("requirements"), list)


def render_compliance_html(report: Mapping[str, Any]) -> str:
    """Given the compliance report's dict (as in report.json), return the HTML page."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIRECTORY),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["text"] = text
    environment.filters["status"] = status_label
    environment.filters["issue_status"] = issue_label
    environment.filters["ids"] = id_ranges
    return environment.get_template(TEMPLATE_NAME).render(view=make_view(report))


def text(value: Any) -> str:
    """Return a scalar as display text (— when missing, 是/否 for booleans)."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "是 yes" if value else "否 no"
    if isinstance(value, list | tuple):
        return ", ".join(text(item) for item in value) or EMPTY
    if isinstance(value, Mapping):
        return "; ".join(f"{key}: {text(item)}" for key, item in value.items()) or EMPTY
    return str(value)


def status_label(value: Any) -> tuple[str, str, str]:
    """Return (Chinese, English, css class) of a finding or requirement status."""
    zh, en = STATUS_LABELS.get(str(value), (text(value), ""))
    return zh, en, str(value)


def issue_label(value: Any) -> tuple[str, str]:
    """Return (Chinese, English) of an issue's remediation status."""
    return ISSUE_LABELS.get(str(value), (text(value), ""))


def id_ranges(ids: Iterable[int]) -> str:
    """Return job ids as compact ranges: `#3–#7, #9`."""
    ordered = sorted(set(ids))
    parts: list[str] = []
    start = previous = None
    for number in [*ordered, None]:
        if number is not None and previous is not None and number == previous + 1:
            previous = number
            continue
        if start is not None:
            parts.append(f"#{start}" if start == previous else f"#{start}–#{previous}")
        start = previous = number
    return ", ".join(parts) or EMPTY


def _counts(summary: Any) -> list[tuple[str, str, str, int]]:
    summary = summary if isinstance(summary, Mapping) else {}
    return [(*STATUS_LABELS[name], name, int(summary.get(name, 0))) for name in STATUS_ORDER]


def _rule_evidence(evidence: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for rule_id, listed in sorted((evidence.get("rules") or {}).items()):
        jobs = listed.get("jobs") or []
        states: dict[str, int] = {}
        for job in jobs:
            states[job["state"]] = states.get(job["state"], 0) + 1
        rows.append(
            {
                "rule": rule_id,
                "jobs": jobs,
                "job_states": ", ".join(f"{n} {state}" for state, n in sorted(states.items())),
                "verifications": listed.get("verifications") or [],
                "drills": listed.get("drills") or [],
                "plans": listed.get("switchover_plans") or [],
                "attestations": listed.get("attestations") or [],
            }
        )
    return rows


def _provenance(package: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    versions = package.get("versions") or {}
    operator = package.get("operator") or {}
    calendar = package.get("calendar") or {}
    return [
        ("证据包", "Package", text(package.get("name"))),
        ("生成时间", "Created", text(package.get("created_at"))),
        ("签名公钥指纹", "Signer fingerprint", text(package.get("signer_fingerprint"))),
        ("前一证据包", "Previous manifest", text(package.get("previous"))),
        ("操作人", "Operator", f"{text(operator.get('user'))}@{text(operator.get('host'))}"),
        ("程序版本", "drctl version", text(package.get("orchestrator_version"))),
        ("剧本版本", "Playbooks", text(versions.get("playbooks"))),
        ("日历", "Calendar", text(calendar)),
        ("锚定", "Anchor", text(package.get("anchor"))),
    ]


def make_view(report: Mapping[str, Any]) -> dict[str, Any]:
    """Given the report dict, return what the template lays out."""
    package = report.get(PACKAGE_KEY) or {}
    findings = list(report.get("findings") or [])
    failing = [f for f in findings if f.get("status") == "non_compliant"]
    issues = list(report.get("issues") or [])
    open_issues = [i for i in issues if i.get("status") != "rectified"]
    evidence = report.get("evidence") or {}
    unproven = list(evidence.get("unproven") or [])
    return {
        "period": report.get("period") or {},
        "accountable_person": report.get("accountable_person"),
        "package": package,
        "rule_pack": report.get("rule_pack"),
        "calendar": report.get("calendar"),
        "requirement_source": report.get("requirement_source"),
        "requirements": list(report.get("requirements") or []),
        "requirement_counts": _counts(report.get("requirement_summary")),
        "finding_counts": _counts(report.get("finding_summary")),
        "findings": findings,
        "failing": failing[:SUMMARY_LIMIT],
        "failing_more": max(0, len(failing) - SUMMARY_LIMIT),
        "issues": issues,
        "open_issues": open_issues[:SUMMARY_LIMIT],
        "open_more": max(0, len(open_issues) - SUMMARY_LIMIT),
        "packages": list(evidence.get("packages") or []),
        "checked": list(evidence.get("checked") or []),
        "unproven": unproven[:SUMMARY_LIMIT],
        "unproven_more": max(0, len(unproven) - SUMMARY_LIMIT),
        "chain": evidence.get("chain") or {},
        "unnamed": list(report.get("unnamed_failures") or []),
        "catalog_warnings": list(report.get("catalog_warnings") or []),
        "rule_evidence": _rule_evidence(evidence),
        "evidence_by_rule": {row["rule"]: row for row in _rule_evidence(evidence)},
        "provenance": _provenance(package),
    }
