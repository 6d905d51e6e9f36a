"""`drctl status` and `run-due`: judge the rules, run what is due."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from orchestrator.actions.catalog_age import catalog_warnings
from orchestrator.actions.rule_status import collect_status, parse_at
from orchestrator.actions.run_due import PassResult, plan_due, run_due_pass
from orchestrator.actions.status_output import render_text, report_to_dict
from orchestrator.cli.call import Call
from orchestrator.errors import ExitCode, InputError
from orchestrator.model.snapshot import read_catalog
from orchestrator.runtime import open_runtime


def add_status_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--at", help="judge as of this date (YYYY-MM-DD, end of day Asia/Shanghai) or ISO date-time"
    )
    parser.add_argument(
        "--year",
        type=int,
        metavar="YYYY",
        help="judge a calendar year that is over, in full, with every record known now "
        "(a fault across New Year counts with its full length)",
    )


def status(call: Call) -> int:
    at = parse_at(call.args.at)
    if at is not None and call.args.year is not None:
        raise InputError("command line", ["--year and --at: give one of them"])
    with open_runtime(call.site(), writes=False) as runtime:
        report = collect_status(runtime, at, call.args.year)
        warnings = catalog_warnings(runtime)
    data = report_to_dict(report)
    # A lost or replaced catalog must not read as "nothing to judge": say so, every time.
    for warning in warnings:
        print(f"WARNING: {warning}", file=sys.stderr)
    if warnings:
        data["warnings"] = warnings
    call.out.emit(data, render_text(report))
    return ExitCode.CHECK_FAILED if report.failing or report.undetermined else ExitCode.OK


def add_run_due_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--plan", "--dry-run", action="store_true", help="print what is due, run nothing"
    )


def run_due(call: Call) -> int:
    with open_runtime(call.site(), writes=not call.args.plan) as runtime:
        if call.args.plan:
            due = plan_due(
                runtime.config, read_catalog(runtime.catalog), datetime.now(UTC), runtime.pack
            )
            lines = [f"due: {job.kind} {job.subject}: {job.reason}" for job in due]
            lines.append(f"summary: {len(due)} job(s) due")
            call.out.emit({"due": [job.__dict__ for job in due]}, "\n".join(lines))
            return ExitCode.OK
        result = run_due_pass(runtime)
    call.out.emit(result.to_dict(), describe_pass(result))
    return result.exit_code


def describe_pass(result: PassResult) -> str:
    lines = [f"{o.status:<11} {o.kind} {o.subject}: {o.message}" for o in result.outcomes]
    if result.released_stale:
        lines.insert(0, f"released {result.released_stale} stale job lock(s) of a crashed run")
    lines.append(
        f"summary: {len(result.ran)} job(s) run, "
        f"{sum(o.status == 'skipped' for o in result.outcomes)} skipped, "
        f"{sum(o.status == 'failed' for o in result.outcomes)} failed"
    )
    lines.append(
        f"小结：运行 {len(result.ran)} 项作业，"
        f"失败 {sum(o.status == 'failed' for o in result.outcomes)} 项"
    )
    return "\n".join(lines)
