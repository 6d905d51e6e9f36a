"""`drctl status`: judge every rule from the catalog (reads only). Kept light: it imports
none of what runs jobs or moves data (`run-due` is cli/run_due.py)."""

from __future__ import annotations

import sys

from orchestrator.actions.catalog_age import catalog_warnings
from orchestrator.actions.rule_status import collect_status, parse_at
from orchestrator.actions.status import unnamed_failures
from orchestrator.actions.status_output import render_text, report_to_dict
from orchestrator.cli.call import Call
from orchestrator.errors import ExitCode, InputError
from orchestrator.runtime import open_runtime


def status(call: Call) -> int:
    at = parse_at(call.args.at)
    if at is not None and call.args.year is not None:
        raise InputError("command line", ["--year and --at: give one of them"])
    with open_runtime(call.site(), writes=False) as runtime:
        report = collect_status(runtime, at, call.args.year)
        warnings = catalog_warnings(runtime) + unnamed_failures(report.datasets)
    data = report_to_dict(report)
    # A lost or replaced catalog must not read as "nothing to judge", nor a bad point of a
    # dataset dr.yml no longer names as none: say so, every time.
    for warning in warnings:
        print(f"WARNING: {warning}", file=sys.stderr)
    if warnings:
        data["warnings"] = warnings
    call.out.emit(data, render_text(report))
    failed = report.failing or report.undetermined or warnings  # or judged on part of the history
    return ExitCode.CHECK_FAILED if failed else ExitCode.OK
