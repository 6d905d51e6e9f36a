"""`drctl calendar …` and `drctl plan switchover`: the statutory working-day calendar."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from orchestrator.actions.calendar import (
    load_calendar,
    parse_cli_date,
    run_is_working_day,
    run_plan_switchover,
    run_working_days,
)
from orchestrator.errors import ExitCode


def _calendar(args: argparse.Namespace) -> Any:
    """Use the site's overrides when a config exists, the package data otherwise."""
    if Path(args.config).is_file():
        from orchestrator.checks import load_checked_config, site_calendar

        return site_calendar(load_checked_config(Path(args.config)))
    return load_calendar(None)


def command_working_days(args: argparse.Namespace) -> int:
    from orchestrator.cli import emit

    result = run_working_days(
        _calendar(args), parse_cli_date(args.start, "FROM"), parse_cli_date(args.end, "TO")
    )
    emit(args, result, str(result["working_days"]))
    return ExitCode.OK


def command_is_working_day(args: argparse.Namespace) -> int:
    from orchestrator.cli import emit

    code, result = run_is_working_day(_calendar(args), parse_cli_date(args.date, "DATE"))
    text = {
        ExitCode.OK: "yes: working day 工作日",
        ExitCode.CHECK_FAILED: "no: day off 休息日",
    }.get(code, f"unknown 无法判定: {result.get('reason')}")
    emit(args, result, f"{args.date}: {text}")
    return code


def command_plan_switchover(args: argparse.Namespace) -> int:
    from orchestrator.checks import load_checked_config, site_pack
    from orchestrator.cli import emit
    from orchestrator.rules.pack import load_pack

    pack = (
        site_pack(load_checked_config(Path(args.config)))
        if Path(args.config).is_file()
        else load_pack()
    )
    code, result = run_plan_switchover(
        _calendar(args),
        pack,
        parse_cli_date(args.start, "--start"),
        parse_cli_date(args.end, "--end"),
        parse_cli_date(args.notice_date, "--notice-date"),
        args.convention,
        args.emergency_channel,
    )
    lines = [f"{key}: {value}" for key, value in result.items()]
    emit(args, result, "\n".join(lines))
    return int(code)


def add_calendar_commands(commands: Any) -> None:
    calendar = commands.add_parser("calendar", help="the PRC statutory working-day calendar")
    sub_commands = calendar.add_subparsers(dest="calendar", required=True)
    sub = sub_commands.add_parser("working-days", help="count working days in (FROM, TO]")
    sub.set_defaults(handler=command_working_days)
    sub.add_argument("start", metavar="FROM")
    sub.add_argument("end", metavar="TO")
    sub = sub_commands.add_parser("is-working-day", help="exit 0 yes, 1 no, 2 no data")
    sub.set_defaults(handler=command_is_working_day)
    sub.add_argument("date", metavar="DATE")
    plan = commands.add_parser("plan", help="plan checks").add_subparsers(
        dest="plan", required=True
    )
    sub = plan.add_parser(
        "switchover", help="第十条: notice ≥ 5 working days before a long switchover"
    )
    sub.set_defaults(handler=command_plan_switchover)
    sub.add_argument("--start", required=True)
    sub.add_argument("--end", required=True)
    sub.add_argument("--notice-date", required=True)
    sub.add_argument("--convention", default="strict", help="strict (default) or inclusive")
    sub.add_argument("--emergency-channel", help="the emergency service channel offered")
