"""The calendar verbs: `drctl calendar working-days`, `calendar is-working-day`, `plan switchover`.

Each returns a JSON-able dict (the CLI prints it, as text or with --json) and, where the answer
is a yes/no, the exit code: 0 yes / compliant, 1 no / not compliant, 2 no calendar data.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from pathlib import Path
from typing import Any

from orchestrator.errors import CalendarDataMissing, ExitCode, InputError
from orchestrator.rules.rule import RulePack
from orchestrator.rules.status import Status
from orchestrator.rules.switchover import (
    CONVENTIONS,
    Convention,
    SwitchoverVerdict,
    check_switchover_notice,
)
from orchestrator.rules.workdays import WorkdayCalendar

logger = logging.getLogger(__name__)

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SWITCHOVER_EXIT = {
    Status.COMPLIANT: ExitCode.OK,
    Status.NOT_APPLICABLE: ExitCode.OK,
    Status.PARTIAL: ExitCode.CHECK_FAILED,
    Status.NON_COMPLIANT: ExitCode.CHECK_FAILED,
    Status.UNKNOWN: ExitCode.USAGE,
}


def load_calendar(overrides_path: Path | None) -> WorkdayCalendar:
    """Given the site's calendar overrides file (dr.yml `calendar.overrides`) or None, return
    the statutory calendar. Raise InputError naming the file and path inside it if invalid."""
    calendar = WorkdayCalendar.from_overrides_file(overrides_path)
    logger.debug("Working-day calendar: %s", calendar.source_description())
    return calendar


def parse_cli_date(text: str, option: str) -> date:
    """Given a command-line value and the option it came from, return the date.

    Raise InputError naming the option if it is not an ISO date (YYYY-MM-DD).
    """
    if _ISO_DATE.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise InputError("command line", [f"{option}: {text!r} is not a date (expected YYYY-MM-DD)"])


def run_working_days(calendar: WorkdayCalendar, start: date, end: date) -> dict[str, Any]:
    """Given the calendar and two dates, return the number of working days in (start, end].

    The count is negative when end is before start. Raise CalendarDataMissing (exit 2) if a
    year in the range has no data.
    """
    count = calendar.working_days_between(start, end)
    logger.info("%d working day(s) in (%s, %s]", count, start, end)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "range": "(from, to]",
        "working_days": count,
        "calendar": calendar.source_description(),
    }


def run_is_working_day(calendar: WorkdayCalendar, day: date) -> tuple[ExitCode, dict[str, Any]]:
    """Given the calendar and a date, return (exit code, result): 0 if it is a statutory
    working day, 1 if not, 2 if the calendar has no data for its year."""
    result: dict[str, Any] = {"date": day.isoformat(), "calendar": calendar.source_description()}
    try:
        kind = calendar.day_kind(day)
    except CalendarDataMissing as missing:
        result.update(working_day=None, kind=None, reason=str(missing))
        return ExitCode.USAGE, result
    working = calendar.is_working_day(day)
    result.update(working_day=working, kind=str(kind))
    return (ExitCode.OK if working else ExitCode.CHECK_FAILED), result


def run_plan_switchover(
    calendar: WorkdayCalendar,
    pack: RulePack,
    start: date,
    end: date,
    notice: date,
    convention: str = "strict",
    emergency_channel: str | None = None,
) -> tuple[ExitCode, dict[str, Any]]:
    """Given the calendar, the rule pack, the planned window, the notice date, the counting
    convention and the declared emergency service channel, return (exit code, verdict dict).

    Exit 0 when compliant or not applicable, 1 when non-compliant or partial (no emergency
    channel), 2 when the calendar lacks a year. Raise InputError for an end before the start
    or an unknown convention.
    """
    problems = []
    if end < start:
        problems.append(f"--end: {end} is before --start {start}")
    if convention not in CONVENTIONS:
        problems.append(f"--convention: {convention!r}: expected one of {', '.join(CONVENTIONS)}")
    if problems:
        raise InputError("drctl plan switchover", problems)
    checked: Convention = "strict" if convention == "strict" else "inclusive"
    verdict = check_switchover_notice(
        calendar, start, end, notice, checked, pack, emergency_channel=emergency_channel
    )
    result = verdict_to_dict(verdict)
    result["calendar"] = calendar.source_description()
    return _SWITCHOVER_EXIT[verdict.status], result


def verdict_to_dict(verdict: SwitchoverVerdict) -> dict[str, Any]:
    """Given a switchover verdict, return it as a JSON-able dict (dates as ISO text)."""
    return {
        "rule": "switchover.notice",
        "status": str(verdict.status),
        "status_zh": verdict.status.label_zh,
        "applies": verdict.applies,
        "start": verdict.start.isoformat(),
        "end": verdict.end.isoformat(),
        "notice_date": verdict.notice.isoformat(),
        "convention": verdict.convention,
        "working_days_in_window": verdict.working_days_in_window,
        "window_working_days": [day.isoformat() for day in verdict.window_days],
        "notice_working_days": verdict.notice_working_days,
        "counted_working_days": [day.isoformat() for day in verdict.counted_days],
        "required": verdict.required,
        "latest_notice_date": _iso(verdict.latest_notice_date),
        "emergency_channel": verdict.emergency_channel,
        "clause": verdict.clause,
        "explanation_zh": verdict.explanation_zh,
        "explanation_en": verdict.explanation_en,
    }


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()
