"""`drctl report` (the signed compliance report) and `drctl issue add|update|list` (its issue
register)."""

from __future__ import annotations

import argparse

from orchestrator.actions.calendar import parse_cli_date
from orchestrator.actions.compliance_report import parse_period, today_in_shanghai, write_report
from orchestrator.actions.evidence_setup import evidence_problems
from orchestrator.actions.issues import (
    STATUS_CHOICES,
    IssueChange,
    add_issue,
    known_subjects,
    read_issues,
    update_issue,
)
from orchestrator.cli.call import Call
from orchestrator.errors import ExitCode, InputError
from orchestrator.model.issue_register import Issue
from orchestrator.rules.requirements import load_catalogue
from orchestrator.rules.status import Status
from orchestrator.runtime import open_runtime


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--year", type=int, metavar="YYYY", help="the calendar year to report")
    parser.add_argument("--from", dest="start", metavar="DATE", help="first day (YYYY-MM-DD)")
    parser.add_argument("--to", dest="end", metavar="DATE", help="last day (YYYY-MM-DD)")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check the period and the evidence settings, say where the package would go",
    )


def report(call: Call) -> int:
    start = parse_cli_date(call.args.start, "--from") if call.args.start else None
    end = parse_cli_date(call.args.end, "--to") if call.args.end else None
    period = parse_period(call.args.year, start, end, today_in_shanghai())
    if call.args.dry_run:
        config = call.site().config
        problems = evidence_problems(config)
        if problems:
            raise InputError(str(config.path), problems)
        call.out.emit(
            {"dry_run": True, "period": period.to_dict(), "evidence_dir": str(config.evidence_dir)},
            f"would judge {period.start} – {period.end} through the rules and write a signed "
            f"report package (HTML and PDF) in {config.evidence_dir}; nothing written",
        )
        return ExitCode.OK
    with open_runtime(call.site()) as runtime:
        result = write_report(runtime, period)
    package = result.package
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
    call.out.emit(
        {
            "period": period.to_dict(),
            "evidence": str(package.path),
            "manifest_sha256": package.manifest_sha256,
            "requirements": result.requirement_counts,
            "findings": result.finding_counts,
            "failing": result.failing,
        },
        "\n".join(lines),
    )
    # The report is written either way; like `status`, exit 1 while a violation stands.
    return ExitCode.CHECK_FAILED if result.failing else ExitCode.OK


def add_issue_add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--id", help="问题编号 (default: the next ISSUE-<year>-<nnn>)")
    _value_arguments(parser, required=True)
    parser.add_argument("--dry-run", action="store_true", help="check the values; store nothing")


def add_issue_update_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("issue", metavar="ISSUE", help="问题编号 of the issue to change")
    _value_arguments(parser, required=False)
    parser.add_argument("--dry-run", action="store_true", help="check the values; change nothing")


def _value_arguments(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument("--description", required=required, help="问题描述")
    parser.add_argument("--status", required=required, help=f"整改状态: {STATUS_CHOICES}")
    parser.add_argument("--owner", required=required, help="责任人")
    parser.add_argument("--due", dest="due_date", help="整改期限 YYYY-MM-DD ('' clears it)")
    parser.add_argument("--requirement", help="the requirement (R24) or rule id it concerns")


def _change(call: Call) -> IssueChange:
    args = call.args
    return IssueChange(args.description, args.status, args.owner, args.due_date, args.requirement)


def _subjects(call: Call) -> frozenset[str]:
    ids = tuple(r.id for r in load_catalogue().requirements)
    return known_subjects(call.site().pack, ids)


def _line(issue: Issue) -> str:
    return (
        f"{issue.id}  {issue.status.label_zh} {issue.status.value}  owner {issue.owner}  "
        f"due {issue.due_date or '—'}  {issue.requirement or ''}  {issue.description}"
    )


def issue_add(call: Call) -> int:
    with open_runtime(call.site()) as runtime:
        issue = add_issue(
            runtime.catalog,
            _change(call),
            _subjects(call),
            call.args.id,
            dry_run=call.args.dry_run,
        )
    verb = "would add (dry run, nothing stored)" if call.args.dry_run else "added"
    call.out.emit(issue.to_dict(), f"{verb} {_line(issue)}")
    return ExitCode.OK


def issue_update(call: Call) -> int:
    with open_runtime(call.site()) as runtime:
        issue = update_issue(
            runtime.catalog,
            call.args.issue,
            _change(call),
            _subjects(call),
            dry_run=call.args.dry_run,
        )
    verb = "would update to (dry run, nothing changed)" if call.args.dry_run else "updated"
    call.out.emit(issue.to_dict(), f"{verb} {_line(issue)}")
    return ExitCode.OK


def issue_list(call: Call) -> int:
    with open_runtime(call.site()) as runtime:
        issues = read_issues(runtime.catalog)
    lines = [_line(issue) for issue in issues] + [f"summary: {len(issues)} issue(s)"]
    call.out.emit({"issues": [i.to_dict() for i in issues]}, "\n".join(lines))
    return ExitCode.OK
