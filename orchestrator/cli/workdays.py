"""`drctl calendar working-days|is-working-day` and `drctl plan switchover`: the statutory
working-day calendar. They work without a site; with one (-c) they use its overrides and its
stricter rule pack."""

from __future__ import annotations

import argparse
from typing import Any

from orchestrator.actions.calendar import (
    load_calendar,
    parse_cli_date,
    run_is_working_day,
    run_working_days,
)
from orchestrator.actions.switchover import record_plan
from orchestrator.actions.switchover_plan import run_plan_switchover
from orchestrator.cli.call import Call
from orchestrator.errors import ExitCode, InputError
from orchestrator.rules.pack import load_pack
from orchestrator.rules.rule import RulePack
from orchestrator.rules.workdays import WorkdayCalendar
from orchestrator.runtime import open_runtime


def _site_or_shipped(call: Call) -> tuple[WorkdayCalendar, RulePack | None]:
    """Return the site's calendar and pack when its config exists, else the package calendar
    and no pack (the shipped one is read only if needed)."""
    if call.config_path.is_file():
        site = call.site()
        return site.calendar, site.pack
    return load_calendar(None), None


def add_range_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("start", metavar="FROM", help="first day, not counted (YYYY-MM-DD)")
    parser.add_argument("end", metavar="TO", help="last day, counted (YYYY-MM-DD)")


def working_days(call: Call) -> int:
    calendar, _pack = _site_or_shipped(call)
    start = parse_cli_date(call.args.start, "FROM")
    end = parse_cli_date(call.args.end, "TO")
    result = run_working_days(calendar, start, end)
    call.out.emit(result, str(result["working_days"]))
    return ExitCode.OK


def add_day_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("date", metavar="DATE", help="the day to look up (YYYY-MM-DD)")


def is_working_day(call: Call) -> int:
    calendar, _pack = _site_or_shipped(call)
    code, result = run_is_working_day(calendar, parse_cli_date(call.args.date, "DATE"))
    text = {
        ExitCode.OK: "yes: working day 工作日",
        ExitCode.CHECK_FAILED: "no: day off 休息日",
    }.get(code, f"unknown 无法判定: {result.get('reason')}")
    call.out.emit(result, f"{call.args.date}: {text}")
    return code


def add_switchover_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--start", required=True, help="first day of the switchover (YYYY-MM-DD)")
    parser.add_argument("--end", required=True, help="last day of the switchover (YYYY-MM-DD)")
    parser.add_argument(
        "--notice-date", required=True, help="day customers were notified (YYYY-MM-DD)"
    )
    parser.add_argument("--convention", default="strict", help="strict (default) or inclusive")
    parser.add_argument("--emergency-channel", help="the emergency service channel offered")
    parser.add_argument("--system", help="the system to switch over (needed with --record)")
    parser.add_argument(
        "--record",
        action="store_true",
        help="store the checked plan in the catalog; a switchover scenario runs only inside "
        "the window of a recorded plan that passed",
    )


def plan_switchover(call: Call) -> int:
    calendar, pack = _site_or_shipped(call)
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
