"""`drctl report --year YYYY | --from DATE --to DATE`: the signed compliance report.

The findings come from the same path as `drctl status` (actions/rule_status.collect_status):
a year that is over is judged in full (`status --year`), the current year so far and a
`--from/--to` range as of the end of the range (`status --at`). The requirements R1–R42 are
judged from those findings by rules/requirements.py. Every evidence package the report cites
is checked first (report_proof.py): a finding resting on one that cannot be shown (missing,
failing `evidence verify`, its digest not the catalog's) is 无法判定 in the report, whatever
`status` says from the rows, and the package is named. The whole chain is checked too, as
`evidence verify --chain` does: a package removed with its catalog row leaves no row to cite,
only a broken link or an anchor past the chain's end; the report states it and the command
exits 1. This module only gathers and lays out:
the findings, the requirements, the evidence each rule rests on (report_evidence.py) and the
issue register, and writes them as a `report` package with report.html and report.pdf.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from orchestrator.actions.catalog_age import catalog_warnings
from orchestrator.actions.evidence_setup import (
    EvidenceSetup,
    prepare_evidence,
    write_site_package,
)
from orchestrator.actions.issues import read_issues
from orchestrator.actions.report_evidence import (
    Period,
    chain_packages,
    parse_period,
    rule_evidence,
)
from orchestrator.actions.report_proof import (
    Proof,
    check_cited,
    check_whole_chain,
    cited_rows,
    reconcile,
    without_unproven,
)
from orchestrator.actions.rule_status import StatusReport, collect_status
from orchestrator.actions.status import unnamed_failures
from orchestrator.evidence.package import Package
from orchestrator.evidence.pdf import html_to_pdf, require_pdf
from orchestrator.model.snapshot import Snapshot
from orchestrator.rules.finding import Finding
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
    unproven: list[str]  # the cited packages that cannot be shown, each with why
    chain_problems: list[str]  # what `evidence verify --chain` finds in the whole chain
    unnamed: list[str]  # open failures of datasets dr.yml no longer names (status.py)
    catalog_warnings: list[str]  # what the catalog lacks of the whole chain (catalog_age.py)


def _judge(
    runtime: Runtime,
    period: Period,
    now: datetime,
    adjust: Callable[[Snapshot], Snapshot] | None = None,
) -> StatusReport:
    """Judge the period through `drctl status`'s own path."""
    today = now.astimezone(SHANGHAI).date()
    if period.year is not None and period.year < today.year:
        return collect_status(runtime, None, period.year, adjust=adjust)
    at = now if period.end >= today else datetime.combine(period.end, time(23, 59, 59), SHANGHAI)
    return collect_status(runtime, at, adjust=adjust)


def _proven_findings(
    runtime: Runtime, period: Period, now: datetime, status: StatusReport
) -> tuple[list[Finding], list[Proof]]:
    """Check every package the report cites; return the findings the report states (those
    resting on a package that cannot be shown made unknown) and every package's proof."""
    proofs = check_cited(runtime.config, cited_rows(runtime.catalog, period, status.at.timestamp()))
    unproven = [proof for proof in proofs if not proof.ok]
    if not unproven:
        return status.findings, proofs
    proven = _judge(runtime, period, now, lambda snapshot: without_unproven(snapshot, unproven))
    return reconcile(status.findings, proven.findings, unproven), proofs


def _mark_proofs(evidence: dict[str, dict[str, Any]], proofs: list[Proof]) -> None:
    """Write each listed drill's and verification's proof beside its package: None for a row
    no finding cites (a check or drill aborted or killed, with no package to prove)."""
    by_row = {(proof.cited.table, proof.cited.id): proof for proof in proofs}
    for listed in evidence.values():
        for table in ("verifications", "drills"):
            for row in listed.get(table, []):
                proof = by_row.get((table, row["id"]))
                row["proof"] = proof.to_dict() if proof is not None else None


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


def build_report(
    runtime: Runtime, period: Period, now: datetime, setup: EvidenceSetup
) -> dict[str, Any]:
    """Given the runtime, the period and the site's evidence settings, return the report's
    content (report.json)."""
    status = _judge(runtime, period, now)
    findings, proofs = _proven_findings(runtime, period, now, status)
    catalogue = load_catalogue()
    requirements = judge_requirements(catalogue, runtime.pack, findings)
    evidence = rule_evidence(runtime.config, runtime.catalog, catalogue, period)
    _mark_proofs(evidence, proofs)
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
        "findings": [finding.to_dict() for finding in findings],
        "finding_summary": _counts([finding.status for finding in findings]),
        "failing": [f"{f.rule} {f.subject}" for f in findings if f.breaks_violation],
        "evidence": {
            "packages": chain_packages(runtime.config, period),
            "rules": evidence,
            "checked": [proof.to_dict() for proof in proofs],
            "unproven": [proof.to_dict() for proof in proofs if not proof.ok],
            "chain": check_whole_chain(setup),
        },
        # A failure stays open until a re-check closes it, whatever dr.yml says now: one of a
        # dataset removed or renamed there is judged by no rule, so the report names it.
        "unnamed_failures": unnamed_failures(status.datasets),
        # The rows judged must be those the chain's signed records carry: a failed check or bad
        # mark deleted or edited in the catalog leaves the chain whole, so every package is read.
        "catalog_warnings": catalog_warnings(runtime, recent=None),
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
    setup = prepare_evidence(runtime.config)  # refuse before judging anything
    require_pdf()
    report = build_report(runtime, period, moment, setup)
    package = write_site_package(runtime.config, "report", report, {}, pdf=html_to_pdf)
    return ReportResult(
        package,
        period,
        report["requirement_summary"],
        report["finding_summary"],
        report["failing"],
        [f"{p['name']} ({p['state_en']})" for p in report["evidence"]["unproven"]],
        report["evidence"]["chain"]["problems"],
        report["unnamed_failures"],
        report["catalog_warnings"],
    )


def today_in_shanghai() -> date:
    """Return today's Asia/Shanghai date."""
    return datetime.now(SHANGHAI).date()
