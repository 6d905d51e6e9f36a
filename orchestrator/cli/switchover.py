"""`drctl plan switchover`: 第十条's notice of at least 5 working days before a long
switchover, counted on the statutory calendar (the site's, when -c names one); with --record
the checked plan is stored in the catalog."""

from __future__ import annotations

from typing import Any

from orchestrator.actions.calendar import parse_cli_date
from orchestrator.actions.switchover import record_plan
from orchestrator.actions.switchover_plan import run_plan_switchover
from orchestrator.cli.call import Call
from orchestrator.cli.workdays import site_or_shipped
from orchestrator.errors import ExitCode, InputError
from orchestrator.rules.pack import load_pack
from orchestrator.runtime import open_runtime


def plan_switchover(call: Call) -> int:
    calendar, pack = site_or_shipped(call)
    code, result = run_plan_switchover(
        calendar,
        pack or load_pack(),
        parse_cli_date(call.args.start, "--start"),
        parse_cli_date(call.args.end, "--end"),
        parse_cli_date(call.args.notice_date, "--notice-date"),
        call.args.convention,
        call.args.emergency_channel,
    )
    if call.args.record and code != ExitCode.USAGE:  # exit 2 writes nothing
        result["recorded_plan"] = record(call, result)
    call.out.emit(result, "\n".join(f"{key}: {value}" for key, value in result.items()))
    return int(code)


def record(call: Call, result: dict[str, Any]) -> str:
    """Store the checked plan in the site's catalog (a switchover needs a passing one)."""
    if not call.args.system:
        raise InputError("command line", ["--record: needs --system (the system it switches)"])
    site = call.site()
    systems = [system.name for system in site.config.model.systems]
    if call.args.system not in systems:
        raise InputError(
            "command line",
            [
                f"--system: no system named {call.args.system!r}; expected one of "
                f"{', '.join(systems)}"
            ],
        )
    with open_runtime(site) as runtime:
        return record_plan(runtime, call.args.system, result)
