"""Judging a calendar year that is over, in full: every rule at the year's last instant
(Asia/Shanghai), with every record known now."""

from __future__ import annotations

from datetime import datetime, timedelta

from orchestrator.errors import InputError
from orchestrator.model.settings import Config
from orchestrator.model.snapshot import Snapshot
from orchestrator.rules.evaluate import evaluate_all
from orchestrator.rules.finding import Finding
from orchestrator.rules.rule import RulePack
from orchestrator.rules.timezone import SHANGHAI
from orchestrator.rules.workdays import WorkdayCalendar


def year_end(year: int) -> datetime:
    """Given a calendar year, return its last instant in Asia/Shanghai (23:59:59.999999 on
    31 December), the time a whole-year judgement is made at."""
    return datetime(year + 1, 1, 1, tzinfo=SHANGHAI) - timedelta(microseconds=1)


def evaluate_year(
    config: Config,
    pack: RulePack,
    calendar: WorkdayCalendar,
    catalog_snapshot: Snapshot,
    year: int,
    now: datetime,
) -> list[Finding]:
    """Given a calendar year that is over, return every finding for the whole year: judged at
    its last instant, with every record known now (a fault that crossed New Year counts in
    the year with its full length; its part inside the year counts towards the downtime).

    Raise InputError naming --year if the year has not ended at `now`.
    """
    end = year_end(year)
    if now <= end:
        raise InputError(
            "command line",
            [
                f"--year {year}: the year is not over (it ends {end:%Y-%m-%d} 24:00 "
                "Asia/Shanghai); judge it so far with `status` or `status --at DATE`"
            ],
        )
    return evaluate_all(config, pack, calendar, catalog_snapshot, end, known_at=now)
