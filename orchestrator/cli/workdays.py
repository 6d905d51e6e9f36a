"""`drctl calendar working-days|is-working-day`: the statutory working-day calendar. They work
without a site; with one (-c) they use its overrides and its stricter rule pack (`drctl plan
switchover`, which counts on the same calendar, is cli/switchover.py). Kept light: a calendar
question loads neither the catalog nor the rule pack."""

from __future__ import annotations

from orchestrator.actions.calendar import (
    load_calendar,
    parse_cli_date,
    run_is_working_day,
    run_working_days,
)
from orchestrator.cli.call import Call
from orchestrator.errors import ExitCode

TYPE_CHECKING = False  # not `typing`, which costs a calendar question more than it answers
if TYPE_CHECKING:
    from orchestrator.rules.rule import RulePack
    from orchestrator.rules.workdays import WorkdayCalendar


def site_or_shipped(call: Call) -> tuple[WorkdayCalendar, RulePack | None]:
    """Return the site's calendar and pack when its config exists, else the package calendar
    and no pack (the shipped one is read only if needed)."""
    if call.uses_site_config:
        site = call.site()
        return site.calendar, site.pack
    return load_calendar(None), None


def working_days(call: Call) -> int:
    calendar, _pack = site_or_shipped(call)
    start = parse_cli_date(call.args.start, "FROM")
    end = parse_cli_date(call.args.end, "TO")
    result = run_working_days(calendar, start, end)
    call.out.emit(result, str(result["working_days"]))
    return ExitCode.OK


def is_working_day(call: Call) -> int:
    calendar, _pack = site_or_shipped(call)
    code, result = run_is_working_day(calendar, parse_cli_date(call.args.date, "DATE"))
    text = {
        ExitCode.OK: "yes: working day 工作日",
        ExitCode.CHECK_FAILED: "no: day off 休息日",
    }.get(code, f"unknown 无法判定: {result.get('reason')}")
    call.out.emit(result, f"{call.args.date}: {text}")
    return code
