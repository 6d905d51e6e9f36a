"""The PRC statutory working-day calendar (法定工作日), with weekend make-up days (调休上班).

Data: the `chinesecalendar` package (2004-2026) plus the site's override file (see
`orchestrator.rules.workday_overrides` for its format). A year with neither is *missing*: every
question about it raises CalendarDataMissing, so rules that need it are judged unknown, never
guessed. All dates here are Asia/Shanghai calendar dates; `business_date` turns a UTC timestamp
into one.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import chinese_calendar

from orchestrator.errors import CalendarDataMissing, InputError
from orchestrator.rules.workday_overrides import CalendarOverrides, YearOverride, load_overrides

_ONE_DAY = timedelta(days=1)
_SATURDAY = 5
# Bounds on a plausible statutory year (every year 2004-2026 lies well inside them).
MIN_WORKING_DAYS = 240
MAX_WORKING_DAYS = 256
MAX_WEEKDAY_HOLIDAYS = 30


class DayKind(enum.StrEnum):
    """Why a date is or is not a working day."""

    WORKDAY = "workday"  # Monday-Friday, not a holiday
    MAKEUP_WORKDAY = "makeup_workday"  # a weekend day worked in lieu (调休上班)
    WEEKEND = "weekend"
    HOLIDAY = "holiday"  # a statutory day off (法定节假日 or 调休放假)


def package_years() -> range:
    """Return the years the installed `chinesecalendar` package has data for."""
    holidays = chinese_calendar.constants.holidays
    return range(min(holidays).year, max(holidays).year + 1)


def package_version() -> str:
    """Return the installed `chinesecalendar` version, for evidence: the `Version:` of the
    distribution's METADATA beside the imported package (what importlib.metadata reads,
    without its ~15 ms import on every start: issue 15), else importlib.metadata, else the
    package's own `__version__`."""
    site = Path(chinese_calendar.__file__).parent.parent
    with os.scandir(site) as entries:
        found = [
            entry.path
            for entry in entries
            if entry.name.startswith("chinesecalendar-") and entry.name.endswith(".dist-info")
        ]
    if len(found) == 1:
        with open(os.path.join(found[0], "METADATA"), encoding="utf-8") as metadata:
            for line in metadata:
                if line.startswith("Version:"):
                    return line.removeprefix("Version:").strip()
                if not line.strip():
                    break  # the end of the headers
    import importlib.metadata  # slow to import: only when no single METADATA file is found

    try:
        return importlib.metadata.version("chinesecalendar")
    except importlib.metadata.PackageNotFoundError:
        return str(getattr(chinese_calendar, "__version__", "unknown"))


class WorkdayCalendar:
    """The statutory calendar: the package's years, replaced or corrected by site overrides.

    Immutable once built; per-year working-day counts are cached on first use.
    """

    def __init__(self, overrides: CalendarOverrides | None = None) -> None:
        self._overrides = overrides or CalendarOverrides()
        self._package_years = package_years()
        self._package_holidays = frozenset(chinese_calendar.constants.holidays)
        self._package_workdays = frozenset(chinese_calendar.constants.workdays)
        self._prefix_counts: dict[int, tuple[int, ...]] = {}
        self._source: str | None = None

    @classmethod
    def from_overrides_file(cls, path: Path | None) -> WorkdayCalendar:
        """Given the override file's path (or None), return the calendar.

        Raise InputError naming the file and the path inside it if the file is invalid.
        """
        if path is None:
            return cls()
        calendar = cls(load_overrides(path, package_years()))
        problems = calendar.implausible_years()
        if problems:
            raise InputError(str(path), problems)
        return calendar

    def implausible_years(self) -> list[str]:
        """Return a problem for every year the override file gives or corrects that no State
        Council notice could produce: fewer than MIN_WORKING_DAYS or more than
        MAX_WORKING_DAYS working days, more than MAX_WEEKDAY_HOLIDAYS weekdays off, or a
        make-up working day that is not a Saturday or Sunday. The bounds frame every year of
        2004-2026 (248-252 working days, 16-23 weekdays off) with a margin."""
        overrides = self._overrides
        touched = set(overrides.years) | {
            day.year for day in overrides.corrected_holidays | overrides.corrected_workdays
        }
        problems = []
        for year in sorted(touched):
            where = f"years.{year}" if year in overrides.years else f"corrections ({year})"
            working = self.working_days_between(date(year - 1, 12, 31), date(year, 12, 31))
            weekdays_off = sum(
                1
                for day in _days_of(year)
                if day.weekday() < _SATURDAY and self.day_kind(day) == DayKind.HOLIDAY
            )
            if not MIN_WORKING_DAYS <= working <= MAX_WORKING_DAYS:
                problems.append(
                    f"{where}: {working} working days in {year}; a statutory year has "
                    f"{MIN_WORKING_DAYS}-{MAX_WORKING_DAYS} (2004-2026: 248-252)"
                )
            if weekdays_off > MAX_WEEKDAY_HOLIDAYS:
                problems.append(
                    f"{where}: {weekdays_off} weekdays off in {year}; a statutory year has at "
                    f"most {MAX_WEEKDAY_HOLIDAYS} (2004-2026: 16-23)"
                )
        for year, entry in sorted(overrides.years.items()):
            for day in sorted(entry.workdays):
                if day.weekday() < _SATURDAY:
                    problems.append(
                        f"years.{year}.workdays: {day} is a {day:%A}; a make-up working day "
                        "(调休上班) is a Saturday or Sunday"
                    )
        return problems

    def years_covered(self) -> tuple[int, ...]:
        """Return every year this calendar can answer for, ascending."""
        return tuple(sorted(set(self._package_years) | set(self._overrides.years)))

    def covers(self, year: int) -> bool:
        """Given a year, return whether this calendar has data for it."""
        return year in self._overrides.years or year in self._package_years

    def source_description(self) -> str:
        """Return where the data comes from, for evidence: package version, file and its digest
        (read once per calendar: the evaluators name it in every finding of every dataset)."""
        if self._source is None:
            self._source = self._describe()
        return self._source

    def _describe(self) -> str:
        first, last = self._package_years[0], self._package_years[-1]
        text = f"chinesecalendar {package_version()} ({first}-{last})"
        if self._overrides.path is not None:
            years = ", ".join(str(year) for year in sorted(self._overrides.years)) or "none"
            text += (
                f" + overrides {self._overrides.path} (sha256 {self._overrides.sha256};"
                f" years: {years})"
            )
        return text

    def is_working_day(self, day: date) -> bool:
        """Given an Asia/Shanghai calendar date, return whether it is a statutory working day.

        Raise CalendarDataMissing if there is no data for its year, and TypeError for a datetime
        (turn timestamps into dates with `business_date` or an explicit conversion first).
        """
        return self.day_kind(day) in (DayKind.WORKDAY, DayKind.MAKEUP_WORKDAY)

    def day_kind(self, day: date) -> DayKind:
        """Given a date, return what kind of day it is. Raise CalendarDataMissing if no data."""
        if isinstance(day, datetime) or not isinstance(day, date):
            raise TypeError(f"expected a date, got {type(day).__name__}")
        year_override = self._overrides.years.get(day.year)
        if year_override is not None:
            listed_holiday = day in year_override.holidays
            listed_workday = day in year_override.workdays
        elif day.year in self._package_years:
            listed_holiday, listed_workday = self._package_listing(day)
        else:
            raise CalendarDataMissing(day.year)
        weekend = day.weekday() >= _SATURDAY
        if listed_workday:
            return DayKind.MAKEUP_WORKDAY if weekend else DayKind.WORKDAY
        if listed_holiday:
            return DayKind.HOLIDAY
        return DayKind.WEEKEND if weekend else DayKind.WORKDAY

    def working_days_between(self, start: date, end: date) -> int:
        """Given two dates, return the number of working days in the half-open range (start, end].

        The count is signed: `working_days_between(b, a) == -working_days_between(a, b)`, so
        counts add up over any three dates. Raise CalendarDataMissing for the first year in the
        range that has no data (a range starting on 31 December does not need that year).
        """
        if end < start:
            return -self.working_days_between(end, start)
        total = 0
        for year in range(start.year, end.year + 1):
            lower = _day_of_year(start) if year == start.year else 0
            upper = _day_of_year(end) if year == end.year else _days_in_year(year)
            if lower == upper:
                continue
            prefix = self._year_prefix(year)
            total += prefix[upper] - prefix[lower]
        return total

    def working_days_in(self, start: date, end: date) -> Iterator[date]:
        """Given two dates, yield every working day in (start, end], in order.

        Raise CalendarDataMissing on reaching a year without data.
        """
        day = start + _ONE_DAY
        while day <= end:
            if self.is_working_day(day):
                yield day
            day += _ONE_DAY

    def add_working_days(self, day: date, count: int, *, missing_as_working: bool = False) -> date:
        """Given a date and a count, return the count-th working day after it (before it if
        the count is negative); return the date itself for 0.

        `working_days_between(day, add_working_days(day, n)) == n` for n > 0. Raise
        CalendarDataMissing on reaching a year without data, unless missing_as_working: then
        every day of such a year counts as a working day (the earliest answer the truth could
        be, for deadlines that must not go silent).
        """
        step = _ONE_DAY if count >= 0 else -_ONE_DAY
        remaining = abs(count)
        while remaining:
            day += step
            if missing_as_working and not self.covers(day.year):
                remaining -= 1
            elif self.is_working_day(day):
                remaining -= 1
        return day

    def _package_listing(self, day: date) -> tuple[bool, bool]:
        if day in self._overrides.corrected_workdays:
            return False, True
        if day in self._overrides.corrected_holidays:
            return True, False
        return day in self._package_holidays, day in self._package_workdays

    def _year_prefix(self, year: int) -> tuple[int, ...]:
        """Return counts where item i is the number of working days in the year's first i days."""
        cached = self._prefix_counts.get(year)
        if cached is not None:
            return cached
        counts = [0]
        day = date(year, 1, 1)
        while day.year == year:
            counts.append(counts[-1] + int(self.is_working_day(day)))
            day += _ONE_DAY
        prefix = tuple(counts)
        self._prefix_counts[year] = prefix
        return prefix


def business_date(finished_at_utc: datetime, cutoff_hour: int) -> date:
    """Given when a job finished (timezone-aware) and the site's cut-off hour, return its
    business date: the Asia/Shanghai date, or the day before if it finished before the
    cut-off hour local time (an end-of-day job that ran past midnight).

    Raise ValueError for a naive timestamp or a cut-off hour outside 0-23.
    """
    if finished_at_utc.tzinfo is None or finished_at_utc.utcoffset() is None:
        raise ValueError(f"timestamp {finished_at_utc.isoformat()} has no time zone; expected UTC")
    if not 0 <= cutoff_hour <= 23:
        raise ValueError(f"cut-off hour {cutoff_hour} is outside 0-23")
    from orchestrator.rules.timezone import SHANGHAI  # here: `drctl calendar` needs no zone

    local = finished_at_utc.astimezone(SHANGHAI)
    if local.hour < cutoff_hour:
        return local.date() - _ONE_DAY
    return local.date()


def _days_of(year: int) -> Iterator[date]:
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day += _ONE_DAY


def _day_of_year(day: date) -> int:
    return day.timetuple().tm_yday


def _days_in_year(year: int) -> int:
    return _day_of_year(date(year, 12, 31))


__all__ = [
    "DayKind",
    "WorkdayCalendar",
    "YearOverride",
    "business_date",
    "package_version",
    "package_years",
]
