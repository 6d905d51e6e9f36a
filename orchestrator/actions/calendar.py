"""The calendar verbs: `drctl calendar working-days` and `calendar is-working-day` (`plan
switchover` counts on the same calendar: actions/switchover_plan.py).

Each returns a JSON-able dict (the CLI prints it, as text or with --json) and, where the answer
is a yes/no, the exit code: 0 yes / compliant, 1 no / not compliant, 2 no calendar data.
"""

from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path

from orchestrator.errors import CalendarDataMissing, ExitCode, InputError
from orchestrator.rules.workdays import WorkdayCalendar

TYPE_CHECKING = False  # not `typing`: `drctl calendar` starts faster (cli/output.py)
if TYPE_CHECKING:
    from typing import Any


def _log(level: str, message: str, *args: object) -> None:
    """Log at level ("debug", "info") through `logging`, if drctl has loaded it: `drctl calendar`
    at the default verbosity does not (cli/main.py), and would print neither line anyway."""
    logging = sys.modules.get("logging")
    if logging is not None:
        getattr(logging.getLogger(__name__), level)(message, *args)


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def load_calendar(overrides_path: Path | None) -> WorkdayCalendar:
    """Given the site's calendar overrides file (dr.yml `calendar.overrides`) or None, return
    the statutory calendar. Raise InputError naming the file and path inside it if invalid."""
    calendar = WorkdayCalendar.from_overrides_file(overrides_path)
    _log("debug", "Working-day calendar: %s", calendar.source_description())
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
    _log("info", "%d working day(s) in (%s, %s]", count, start, end)
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
