"""`drctl report --year YYYY | --from DATE --to DATE`: the signed compliance report.

The findings come from the same path as `drctl status` (actions/rule_status.collect_status):
a year that is over is judged in full (`status --year`), the current year so far and a
`--from/--to` range as of the end of the range (`status --at`). The requirements R1–R42 are
judged from those findings by rules/requirements.py. This module only gathers and lays out:
the findings, the requirements, the evidence each rule rests on (report_evidence.py) and the
issue register, and writes them as a `report` package with report.html and report.pdf.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from orchestrator.actions.evidence_setup import prepare_evidence, write_site_package
from orchestrator.actions.issues import read_issues
from orchestrator.actions.report_evidence import (
    Period,
    chain_packages,
    parse_period,
    rule_evidence,
)
from orchestrator.actions.rule_status import StatusReport, collect_status
from orchestrator.evidence.package import Package
from orchestrator.evidence.pdf import html_to_pdf, require_pdf
from orchestrator.rules.requirements import RequirementStatus, judge_requirements, load_catalogue
from orchestrator.rules.status import Status
from orchestrator.rules.timezone import SHANGHAI
from orchestrator.runtime import Runtime
from orchestrator.timefmt import iso_utc

__all__ = ["ReportResult", "Period", "parse_period", "write_report"]


@dataclass(frozen=True)
class ReportResult:
    """The written package and what it says, for the command's output."""

    package: Package
    period: Period
    requirement_counts: dict[str, int]
    finding_counts: dict[str, int]
    failing: list[str]


def _judge(runtime: Runtime, period: Period, now: datetime) -> StatusReport:
    """Judge the period through `drctl status`'s own path."""
    today = now.astimezone(SHANGHAI).date()
    if period.year is not None and period.year < today.year:
        return collect_status(runtime, None, period.year)
    if period.end >= today:
        return collect_status(runtime, now)
    return collect_status(runtime, datetime.combine(period.end, time(23, 59, 59), SHANGHAI))


def _requirement_dict(row: RequirementStatus) -> dict[str, Any]:
    return {
        "id": row.requirement.id,
        "article": row.requirement.article,
        "strength": row.requirement.strength,
        "text": row.requirement.text,
        "summary_en": row.requirement.summary_en,
        "rules": list(row.rules),
        "status": str(row.status),
        "status_zh": row.status.label_zh,
        "status_en": row.status.label_en,
        "reason": row.reason,
        "findings": len(row.findings),
    }


def _counts(statuses: list[Status]) -> dict[str, int]:
    counted = Counter(statuses)
    return {status.value: counted.get(status, 0) for status in Status}


def build_report(runtime: Runtime, period: Period, now: datetime) -> dict[str, Any]:
    """Given the runtime and the period, return the report's content (report.json)."""
    status = _judge(runtime, period, now)
    catalogue = load_catalogue()
    requirements = judge_requirements(catalogue, runtime.pack, status.findings)
    evidence = rule_evidence(runtime.config, runtime.catalog, catalogue, period)
    today = now.astimezone(SHANGHAI).date()
    return {
        "kind": "report",
        "period": {
            **period.to_dict(),
            "judged_at": iso_utc(status.at),
            "complete": period.end < today,
            "judged_in_full": status.year is not None,
        },
        "requirement_source": catalogue.source,
        "requirements": [_requirement_dict(row) for row in requirements],
        "requirement_summary": _counts([row.status for row in requirements]),
        "findings": [finding.to_dict() for finding in status.findings],
        "finding_summary": _counts([finding.status for finding in status.findings]),
        "failing": [f"{f.rule} {f.subject}" for f in status.failing],
        "evidence": {
            "packages": chain_packages(runtime.config, period),
            "rules": evidence,
        },
        "issues": [issue.to_dict() for issue in read_issues(runtime.catalog)],
        "rule_pack": status.rule_pack,
        "calendar": status.calendar,
    }


def write_report(runtime: Runtime, period: Period, now: datetime | None = None) -> ReportResult:
    """Given the runtime and the period, judge it and write the signed `report` package.
    Raise InputError (exit 2, nothing written) when the site's evidence settings are
    incomplete or the period cannot be judged, InfrastructureError (exit 3, nothing written)
    when the anchor store is down or WeasyPrint cannot load Pango."""
    moment = now or datetime.now(UTC)
    prepare_evidence(runtime.config)  # refuse before judging anything
    require_pdf()
    report = build_report(runtime, period, moment)
    package = write_site_package(runtime.config, "report", report, {}, pdf=html_to_pdf)
    return ReportResult(
        package,
        period,
        report["requirement_summary"],
        report["finding_summary"],
        report["failing"],
    )


def today_in_shanghai() -> date:
    """Return today's Asia/Shanghai date."""
    return datetime.now(SHANGHAI).date()
