"""The snapshot `drctl status` and a /metrics scrape judge now: points and copies bounded by
what is held at the instant judged, the rest of their history as aggregates
(model/judged_snapshot.py), with the bounds the rule pack's thresholds set. Only reads."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection

from orchestrator.model.judged_snapshot import read_judged
from orchestrator.model.snapshot import Snapshot
from orchestrator.rules.finding import DAY_SECONDS
from orchestrator.rules.rule import RulePack
from orchestrator.rules.workdays import WorkdayCalendar, business_date

ROTATION = "backup.rotation"
FULL_INTERVAL = "backup.full_interval"


def judged_snapshot(
    connection: Connection,
    pack: RulePack,
    at: float,
    calendar: WorkdayCalendar,
    cutoff_hour: int,
) -> Snapshot:
    """Given an open connection, the rule pack, the instant to judge (epoch seconds, as
    Context.at_ts), the calendar and the site's business-date cut-off hour, return the
    bounded snapshot: copies deleted sooner than rotation's min_days after being written are
    kept as rows, dropped points are counted for every other rule's min_days (the content
    retention rules), and this year's gaps between full backups are counted in working days
    by the calendar against backup.full_interval's limit."""
    early = int(pack.get(ROTATION).value("min_days")) * DAY_SECONDS if ROTATION in pack else 0
    windows = {
        int(rule.value("min_days")) * DAY_SECONDS
        for rule in pack
        if rule.id != ROTATION and "min_days" in rule.thresholds
    }
    limit = int(pack.get(FULL_INTERVAL).value("max_working_days")) if FULL_INTERVAL in pack else 0
    today = business_date(datetime.fromtimestamp(at, UTC), cutoff_hour)
    dates = (today, limit, working_day_numbers(calendar, today))
    return read_judged(connection, at, early, sorted(windows), dates)


def working_day_numbers(calendar: WorkdayCalendar, today: date) -> dict[date, int] | None:
    """Given the calendar and a date, return every day of its year up to it → the working
    days from 1 January to that day, both included (so two days' difference is
    calendar.working_days_between); None when the calendar has no data for that year."""
    if not calendar.covers(today.year):
        return None
    numbers: dict[date, int] = {}
    day, count = date(today.year, 1, 1), 0
    while day <= today:
        count += calendar.is_working_day(day)
        numbers[day] = count
        day += timedelta(days=1)
    return numbers
