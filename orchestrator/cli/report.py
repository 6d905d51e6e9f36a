"""`drctl report`: the signed compliance report (its issue register: cli/issues.py)."""

from __future__ import annotations

from orchestrator.actions.calendar import parse_cli_date
from orchestrator.actions.compliance_report import (
    ReportResult,
    parse_period,
    today_in_shanghai,
    write_report,
)
from orchestrator.actions.evidence_setup import refuse_unevidenced
from orchestrator.cli.call import Call
from orchestrator.errors import ExitCode
from orchestrator.rules.status import Status
from orchestrator.runtime import open_runtime


def report(call: Call) -> int:
    start = parse_cli_date(call.args.start, "--from") if call.args.start else None
    end = parse_cli_date(call.args.end, "--to") if call.args.end else None
    period = parse_period(call.args.year, start, end, today_in_shanghai())
    config = call.site().config
    refuse_unevidenced(config)  # exit 2 before the catalog is made or upgraded
    if call.args.dry_run:
        call.out.emit(
            {"dry_run": True, "period": period.to_dict(), "evidence_dir": str(config.evidence_dir)},
            f"would judge {period.start} – {period.end} through the rules and write a signed "
            f"report package (HTML and PDF) in {config.evidence_dir}; nothing written",
        )
        return ExitCode.OK
    with open_runtime(call.site()) as runtime:
        result = write_report(runtime, period)
    package = result.package
    lines = _result_lines(result)
    call.out.emit(
        {
            "period": period.to_dict(),
            "evidence": str(package.path),
            "manifest_sha256": package.manifest_sha256,
            "requirements": result.requirement_counts,
            "findings": result.finding_counts,
            "failing": result.failing,
            "unproven": result.unproven,
            "chain_problems": result.chain_problems,
            "unnamed_failures": result.unnamed,
            "catalog_warnings": result.catalog_warnings,
        },
        "\n".join(lines),
    )
    # The report is written either way; like `status`, exit 1 while a violation stands, while
    # a package it cites cannot be shown (its rules are then judged unknown), and while the
    # chain is not whole (a package and its row may be gone: nothing is left to cite), and
    # while a dataset dr.yml no longer names has an open failure (no rule judges it), and
    # while the catalog lacks or holds otherwise what a package of the chain records.
    failed = (
        result.failing
        or result.unproven
        or result.chain_problems
        or result.unnamed
        or result.catalog_warnings
    )
    return ExitCode.CHECK_FAILED if failed else ExitCode.OK


def _result_lines(result: ReportResult) -> list[str]:
    """Given the written report, return what the command prints about it."""
    package, period = result.package, result.period
    counts = ", ".join(
        f"{result.requirement_counts[s.value]} {s.label_zh}"
        for s in Status
        if result.requirement_counts[s.value]
    )
    lines = [
        f"report of {period.start} – {period.end}: "
        f"{sum(result.requirement_counts.values())} requirements: {counts}",
        f"evidence: {package.path}",
        f"manifest sha256: {package.manifest_sha256}",
        f"pdf: {package.path / 'report.pdf'}",
    ]
    if package.anchor_error:
        lines.append(f"anchor: NOT written ({package.anchor_error}); run `drctl evidence anchor`")
    if result.failing:
        lines.append("violations 违规: " + "; ".join(result.failing))
    if result.unproven:
        lines.append(
            "evidence that cannot be shown 无法证实的证据包 (its rules are 无法判定): "
            + "; ".join(result.unproven)
        )
    if result.chain_problems:
        lines.append(
            f"evidence chain NOT whole 证据链未通过校验 ({len(result.chain_problems)} problem(s); "
            "a check, drill or report may be missing): " + "; ".join(result.chain_problems)
        )
    lines += [f"WARNING: {warning}" for warning in result.unnamed + result.catalog_warnings]
    return lines
