"""The validity check's seed windows: which window a check falls in, and whether a recorded
window is the one its check ran in.

Windows are SEED_WINDOW_DAYS long, counted from PERIOD_EPOCH (a Monday), in Asia/Shanghai dates.
A check's default sample seed is signed over its window's first day (evidence/sample_seed.py),
so the window is computed here once, for the check that draws the sample (model/plan.py) and
for `evidence verify`, which checks that a package's window is the one its check ran in.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

# Seed windows are counted from this Monday, SEED_WINDOW_DAYS long whatever the schedule (the
# schedule decides when checks run; a window only fixes the seed of retries within it).
PERIOD_EPOCH = date(2000, 1, 3)
SEED_WINDOW_DAYS = 28
_SHANGHAI = ZoneInfo("Asia/Shanghai")


def check_date(moment: float) -> date:
    """Return the calendar date of a moment (UTC epoch seconds) in Asia/Shanghai."""
    return datetime.fromtimestamp(moment, UTC).astimezone(_SHANGHAI).date()


def check_period_start(day: date, window_days: int) -> date:
    """Given the check's date (Asia/Shanghai) and a window length, return the first day of the
    window it falls in (windows of window_days from PERIOD_EPOCH)."""
    index = (day - PERIOD_EPOCH).days // window_days
    return PERIOD_EPOCH + timedelta(days=index * window_days)


def window_problem(start: date, window_days: int, started: float, written: float) -> str | None:
    """Given a recorded window (its first day and length), when its check started and when
    its package was written, return why it is not the check's window, or None when it is.

    The plan is drawn just before the check starts, so a check started in the first seconds
    of a window may carry the window before: its last day may be `started`'s day before. The
    start is bounded by the package's own (signed, chained) time: no later, and no more than
    a window before it."""
    if window_days != SEED_WINDOW_DAYS:
        return f"its window is {window_days} days long, not {SEED_WINDOW_DAYS}"
    if check_period_start(start, window_days) != start:
        return (
            f"its window's first day {start.isoformat()} is not a {window_days}-day window "
            f"counted from {PERIOD_EPOCH.isoformat()}"
        )
    if not written - window_days * 86400 <= started <= written:
        return "the check's start is not within a window before its package was written"
    day = check_date(started)
    if not start <= day <= start + timedelta(days=window_days):
        return (
            f"the check started on {day.isoformat()} (Asia/Shanghai), outside its window "
            f"{start.isoformat()} + {window_days} days"
        )
    return None
