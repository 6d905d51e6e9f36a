"""The validity check's schedule windows: which window a check falls in, and whether a recorded
window is one.

Windows are `schedule_days` long, counted from PERIOD_EPOCH (a Monday), in Asia/Shanghai dates.
A check's default sample seed is signed over its window's first day (evidence/sample_seed.py),
so the window is computed here once, for the check that draws the sample (model/plan.py) and
for `evidence verify`, which checks that a package's window is the one its check ran in.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

# Check periods are counted in schedule_days windows from this Monday.
PERIOD_EPOCH = date(2000, 1, 3)
_SHANGHAI = ZoneInfo("Asia/Shanghai")


def check_date(moment: float) -> date:
    """Return the calendar date of a moment (UTC epoch seconds) in Asia/Shanghai."""
    return datetime.fromtimestamp(moment, UTC).astimezone(_SHANGHAI).date()


def check_period_start(day: date, schedule_days: int) -> date:
    """Given the check's date (Asia/Shanghai) and the schedule cadence, return the first day
    of the schedule window it falls in (windows of schedule_days from PERIOD_EPOCH)."""
    index = (day - PERIOD_EPOCH).days // schedule_days
    return PERIOD_EPOCH + timedelta(days=index * schedule_days)


def window_problem(start: date, schedule_days: int, started: float) -> str | None:
    """Given a recorded window (its first day and length) and when its check started, return
    why it is not the check's window, or None when it is.

    The plan is drawn just before the check starts, so a check started in the first seconds
    of a window may carry the window before: its last day may be `started`'s day before."""
    if schedule_days < 1:
        return f"its window is {schedule_days} days long"
    if check_period_start(start, schedule_days) != start:
        return (
            f"its window's first day {start.isoformat()} is not a {schedule_days}-day window "
            f"counted from {PERIOD_EPOCH.isoformat()}"
        )
    day = check_date(started)
    if not start <= day <= start + timedelta(days=schedule_days):
        return (
            f"the check started on {day.isoformat()} (Asia/Shanghai), outside its window "
            f"{start.isoformat()} + {schedule_days} days"
        )
    return None
