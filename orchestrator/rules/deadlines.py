"""The deadlines the rules judge by, as instants: from `due_at` on, `drctl status` says 不符合
unless the awaited record (a full backup, a counted validity check, a passed drill) arrives
first. The evaluators decide with these functions and the exporter publishes them
(dr_*_next_due_timestamp_seconds), so an alert on `time() >= due` and `status` turn at the
same second.

Each due instant is the end of the last compliant day, in Asia/Shanghai: local midnight of the
first late day (for full backups, the site's business-date cut-off hour of the first late
business date). docs/rules.md and docs/metrics.md describe each clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from orchestrator.rules.awaited import counted_checks, passed_drills
from orchestrator.rules.finding import Context, local_day
from orchestrator.rules.timezone import SHANGHAI
from orchestrator.rules.workdays import WorkdayCalendar

FULL_INTERVAL = "backup.full_interval"
VERIFY_INTERVAL = "verify.interval"
DRILL_YEARLY = "drill.yearly"
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Deadline:
    """A rule's clock for one subject: the day it starts from, the first late day, and the
    instants (UTC epoch seconds) from which status is 部分符合 (`warn_at`, when the rule warns)
    and 不符合 (`due_at`)."""

    since: date
    first_late: date
    due_at: float
    warn_at: float | None = None


def start_of(day: date, hour: int = 0) -> float:
    """Given an Asia/Shanghai date (and an hour), return that local instant as epoch seconds."""
    return datetime.combine(day, time(hour), SHANGHAI).timestamp()


def first_late_workday(calendar: WorkdayCalendar, since: date, allowed: int) -> date:
    """Given the calendar, the business date a gap starts from and the allowed working days,
    return the first business date on which the gap exceeds them: the (allowed + 1)-th working
    day after `since`. A day without calendar data counts as a working day, so the deadline
    is never later than the truth and an alert on it never goes silent."""
    return calendar.add_working_days(since, allowed + 1, missing_as_working=True)


def backup_deadline(ctx: Context, system: str, dataset: str) -> Deadline | None:
    """Given a dataset, return when its open gap of working days exceeds the limit (from the
    last full backup's business date, or from the day the catalog's history began when it has
    none); None while the catalog holds no history at all."""
    limit = int(ctx.rule(FULL_INTERVAL).value("max_working_days"))
    last = ctx.last_backup_date(system, dataset)
    if last is not None:
        since = last
    elif ctx.history_start is not None:
        since = local_day(ctx.history_start)
    else:
        return None
    late = first_late_workday(ctx.calendar, since, limit)
    return Deadline(since, late, start_of(late, ctx.config.calendar.business_date_cutoff_hour))


def verification_deadline(ctx: Context, system: str) -> Deadline | None:
    """Given a system, return its validity-check clock: from the local day of its last counted
    check (or of its first backup when it has none), 部分符合 from day warn_days, 不符合 after
    max_days; None while the system has no backup."""
    rule = ctx.rule(VERIFY_INTERVAL)
    limit, warn = int(rule.value("max_days")), int(rule.value("warn_days"))
    first = ctx.first_point_by_system.get(system)
    if first is None:
        return None
    checks = counted_checks(ctx, system)
    since = local_day(checks[-1].finished_at or 0.0) if checks else local_day(first.finished_at)
    late = since + timedelta(days=limit + 1)
    return Deadline(since, late, start_of(late), start_of(since + timedelta(days=warn)))


def drill_deadline(ctx: Context) -> Deadline | None:
    """Return the site's drill clock: from the local day of the last passed drill (or of the
    catalog's first record when none passed), 不符合 after max_days_between days; None while
    the catalog holds no history and no drill."""
    limit = int(ctx.rule(DRILL_YEARLY).value("max_days_between"))
    drills = passed_drills(ctx)
    if drills:
        since = local_day(drills[-1].finished_at or 0.0)
    elif ctx.history_start is not None:
        since = local_day(ctx.history_start)
    else:
        return None
    late = since + timedelta(days=limit + 1)
    return Deadline(since, late, start_of(late))


def calendar_data_end(calendar: WorkdayCalendar, at: float) -> float:
    """Given the calendar and a time, return the instant its data runs out: local midnight of
    1 January of the first year from the current one on that it has no data for."""
    year = local_day(at).year
    while calendar.covers(year):
        year += 1
    return start_of(date(year, 1, 1))
