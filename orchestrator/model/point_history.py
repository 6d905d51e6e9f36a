"""Per-dataset aggregates over recovery points at one instant (`PointHistory`), so that
`drctl status` and a scrape judge without a Python row per point (model/judged_snapshot.py).

Every query counts only complete points finished by `at`, as rules/finding.py's Context does,
with the evaluators' own comparisons:

- how many there are (backup.full_interval's evidence; the rows of each dataset's first
  and newest are read by model/judged_snapshot.py);
- the newest business date by `today`, the newest before 1 January of today's year, the
  oldest this year and how many distinct ones this year (backup.full_interval);
- this year's gaps between consecutive business dates in working days, from the calendar's
  working-day numbers passed in as a VALUES table (`ordinals`: day → working days from
  1 January to that day): the first longest gap and every gap over the limit; the one gap
  crossing 1 January is counted in Python (its first date can lie in any earlier year);
- how many points of any status carry a cipher (encryption.key_escrow).

Plain SQL (GROUP BY, lag() and row_number() windows, a CTE of VALUES) that SQLite and
PostgreSQL both run. Only reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from types import MappingProxyType

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    String,
    and_,
    case,
    column,
    func,
    or_,
    select,
    values,
)

from orchestrator.model import schema
from orchestrator.model.snapshot import DatasetDates, PointHistory

_POINTS = schema.recovery_points.c
DatasetKey = tuple[str, str]  # (system, dataset)
Gap = tuple[date, date, int]


def _complete(at: float) -> ColumnElement[bool]:
    return and_(_POINTS.status == "complete", _POINTS.finished_at <= at)


def _summaries(connection: Connection, at: float, today: date) -> dict[DatasetKey, DatasetDates]:
    """Per dataset: complete points, newest business date by today, newest before 1 January,
    oldest this year by today and how many distinct this year by today (no gaps yet)."""
    day, until, year_start = _POINTS.business_date, today.isoformat(), f"{today.year}-01-01"
    this_year = and_(day >= year_start, day <= until)
    query = (
        select(
            _POINTS.system,
            _POINTS.dataset,
            func.count(),
            func.max(case((day <= until, day))),
            func.max(case((day < year_start, day))),
            func.min(case((this_year, day))),
            func.count(case((this_year, day)).distinct()),
        )
        .where(_complete(at))
        .group_by(_POINTS.system, _POINTS.dataset)
    )
    return {
        (system, dataset): DatasetDates(int(count), _day(last), _day(before), _day(first), int(n))
        for system, dataset, count, last, before, first, n in connection.execute(query)
    }


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _gaps(
    connection: Connection, at: float, today: date, limit: int, ordinals: Mapping[date, int]
) -> dict[DatasetKey, tuple[Gap, ...]]:
    """Per dataset: this year's gaps between consecutive business dates (by today) that are
    the first longest or over `limit`, in date order."""
    calendar = values(column("day", String), column("n", Integer), name="workdays").data(
        [(day.isoformat(), number) for day, number in sorted(ordinals.items())]
    )
    numbers = calendar.cte("workdays")
    # Each point's business date with its working-day number, then the previous date and
    # number in date order; a point sharing its date with the one before it starts no gap.
    dates = (
        select(_POINTS.system, _POINTS.dataset, numbers.c.day, numbers.c.n)
        .join_from(schema.recovery_points, numbers, numbers.c.day == _POINTS.business_date)
        .where(_complete(at))
        .subquery()
    )
    key, day = (dates.c.system, dates.c.dataset), dates.c.day
    pairs = select(
        *key,
        func.lag(day).over(partition_by=key, order_by=day).label("a"),
        day.label("b"),
        (dates.c.n - func.lag(dates.c.n).over(partition_by=key, order_by=day)).label("gap"),
    ).subquery()
    counted = select(pairs).where(pairs.c.a.is_not(None), pairs.c.a != pairs.c.b).subquery()
    ranked = select(
        counted,
        func.row_number()
        .over(
            partition_by=(counted.c.system, counted.c.dataset),
            order_by=(counted.c.gap.desc(), counted.c.a, counted.c.b),
        )
        .label("rank"),
    ).subquery()
    query = select(ranked).where(or_(ranked.c.rank == 1, ranked.c.gap > limit))
    found: dict[DatasetKey, list[Gap]] = {}
    parse = date.fromisoformat
    for row in connection.execute(query):
        gap = (parse(row.a), parse(row.b), int(row.gap))
        found.setdefault((row.system, row.dataset), []).append(gap)
    return {key: tuple(sorted(gaps)) for key, gaps in found.items()}


def _encrypted(connection: Connection) -> int:
    query = select(func.count()).where(_POINTS.cipher.is_not(None), _POINTS.cipher != "")
    return int(connection.execute(query).scalar() or 0)


def read_point_history(
    connection: Connection,
    at: float,
    today: date,
    limit: int,
    ordinals: Mapping[date, int] | None,
) -> PointHistory:
    """Given a connection, the instant judged, its business date, backup.full_interval's
    limit (working days) and the calendar's working-day numbers of today's year up to today
    (None when the calendar has no data for that year: no gap is counted), return the
    per-dataset aggregates the module describes."""
    gaps = _gaps(connection, at, today, limit, ordinals) if ordinals is not None else {}
    datasets = {
        key: replace(summary, gaps=gaps.get(key, ()))
        for key, summary in _summaries(connection, at, today).items()
    }
    return PointHistory(
        at, today, limit, ordinals is not None, _encrypted(connection), MappingProxyType(datasets)
    )
