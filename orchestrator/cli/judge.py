"""`drctl status`: judge every rule from the catalog (reads only). Kept light: it imports
none of what runs jobs or moves data (`run-due` is cli/run_due.py)."""

from __future__ import annotations

import sys

from orchestrator.actions.catalog_state import catalog_is_empty
from orchestrator.actions.rule_status import collect_status, parse_at
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
        empty = catalog_is_empty(runtime)
    data = report_to_dict(report)
    if empty:
        # A lost catalog must not read as "nothing to judge": say so, loudly, every time.
        warning = (
            f"the catalog ({runtime.config.catalog_url}) holds no recovery point: if it was "
            "lost or replaced, rebuild it from the stores and the evidence with `drctl catalog "
            "rebuild` / 目录中没有任何恢复点：如目录丢失，请用 drctl catalog rebuild 重建"
        )
        print(f"WARNING: {warning}", file=sys.stderr)
        data["warnings"] = [warning]
    call.out.emit(data, render_text(report))
    return ExitCode.CHECK_FAILED if report.failing or report.undetermined else ExitCode.OK
