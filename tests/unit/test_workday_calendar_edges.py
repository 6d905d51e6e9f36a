"""WorkdayCalendar at its edges: which years it covers, how it names its sources, the kind of
every day, and counting across years in both directions."""

from __future__ import annotations

import importlib.metadata
from datetime import UTC, date, datetime, timedelta

import pytest

from orchestrator.errors import CalendarDataMissing
from orchestrator.rules.workday_overrides import parse_overrides
from orchestrator.rules.workdays import (
    DayKind,
    WorkdayCalendar,
    business_date,
    package_version,
    package_years,
)

YEARS = package_years()
OVERRIDE_2027 = parse_overrides(
    {"years": {2027: {"holidays": ["2027-01-01"], "workdays": ["2027-01-02"]}}}, "o.yml", YEARS
)


def test_package_years_and_version() -> None:
    assert (YEARS.start, YEARS.stop) == (2004, 2027)
    assert package_version() == importlib.metadata.version("chinesecalendar")


def test_covers_package_years_and_override_years_only() -> None:
    plain = WorkdayCalendar()
    assert plain.covers(2004) and plain.covers(2026)
    assert not plain.covers(2003) and not plain.covers(2027)
    extended = WorkdayCalendar(OVERRIDE_2027)
    assert extended.covers(2027) and extended.covers(2026)
    assert not extended.covers(2028)
    assert extended.years_covered() == (*range(2004, 2027), 2027)
    assert plain.years_covered() == tuple(range(2004, 2027))


def test_source_description_names_package_file_digest_and_years() -> None:
    version = package_version()
    assert WorkdayCalendar().source_description() == f"chinesecalendar {version} (2004-2026)"
    loaded = parse_overrides({"corrections": {"holidays": ["2026-12-31"]}}, "o.yml", YEARS)

    with_file = WorkdayCalendar(loaded.replace(path="/etc/dr/calendar.yml", sha256="ab" * 32))
    assert with_file.source_description() == (
        f"chinesecalendar {version} (2004-2026) + overrides /etc/dr/calendar.yml "
        f"(sha256 {'ab' * 32}; years: none)"
    )
    with_years = WorkdayCalendar(OVERRIDE_2027.replace(path="c.yml", sha256="cd" * 32))
    assert with_years.source_description().endswith(f"(sha256 {'cd' * 32}; years: 2027)")


@pytest.mark.parametrize(
    ("day", "kind"),
    [
        (date(2024, 2, 12), DayKind.HOLIDAY),  # Monday in the Spring Festival
        (date(2024, 2, 4), DayKind.MAKEUP_WORKDAY),  # Sunday worked for the festival
        (date(2024, 2, 5), DayKind.WORKDAY),  # Monday
        (date(2024, 2, 3), DayKind.WEEKEND),  # Saturday
        (date(2024, 2, 10), DayKind.HOLIDAY),  # Saturday inside the festival
        (date(2027, 1, 1), DayKind.HOLIDAY),  # override year: listed
        (date(2027, 1, 2), DayKind.MAKEUP_WORKDAY),  # override year: a listed Saturday
        (date(2027, 1, 3), DayKind.WEEKEND),  # override year: an unlisted Sunday
        (date(2027, 1, 4), DayKind.WORKDAY),  # override year: an unlisted Monday
    ],
)
def test_day_kinds(day: date, kind: DayKind) -> None:
    calendar = WorkdayCalendar(OVERRIDE_2027)
    assert calendar.day_kind(day) is kind
    assert calendar.is_working_day(day) is (kind in (DayKind.WORKDAY, DayKind.MAKEUP_WORKDAY))


def test_a_listed_weekday_workday_is_a_plain_workday() -> None:
    overrides = parse_overrides(
        {"years": {2027: {"holidays": ["2027-01-01"], "workdays": ["2027-01-05"]}}}, "o", YEARS
    )
    assert WorkdayCalendar(overrides).day_kind(date(2027, 1, 5)) is DayKind.WORKDAY


def test_corrections_win_over_the_package() -> None:
    overrides = parse_overrides(
        {"corrections": {"holidays": ["2024-02-05"], "workdays": ["2024-02-10"]}}, "o", YEARS
    )
    calendar = WorkdayCalendar(overrides)
    assert calendar.day_kind(date(2024, 2, 5)) is DayKind.HOLIDAY
    assert calendar.day_kind(date(2024, 2, 10)) is DayKind.MAKEUP_WORKDAY


@pytest.mark.parametrize("value", ["2024-02-05", 20240205, None])
def test_day_kind_refuses_what_is_not_a_date(value: object) -> None:
    with pytest.raises(TypeError, match=f"expected a date, got {type(value).__name__}"):
        WorkdayCalendar().day_kind(value)  # type: ignore[arg-type]


def test_a_year_without_data_is_named() -> None:
    with pytest.raises(CalendarDataMissing, match="2003") as raised:
        WorkdayCalendar().day_kind(date(2003, 12, 31))
    assert raised.value.year == 2003


def test_counting_is_half_open_signed_and_crosses_years() -> None:
    calendar = WorkdayCalendar(OVERRIDE_2027)
    assert calendar.working_days_between(date(2024, 2, 5), date(2024, 2, 5)) == 0
    assert calendar.working_days_between(date(2024, 2, 5), date(2024, 2, 6)) == 1
    assert calendar.working_days_between(date(2024, 2, 6), date(2024, 2, 5)) == -1
    # 2024-12-31 (Tue) → 2025-01-02 (Thu): 1 January is a holiday, 2 January a working day
    assert calendar.working_days_between(date(2024, 12, 31), date(2025, 1, 2)) == 1
    whole_2025 = calendar.working_days_between(date(2024, 12, 31), date(2025, 12, 31))
    assert whole_2025 == sum(
        calendar.is_working_day(date(2025, 1, 1) + timedelta(days=n)) for n in range(365)
    )
    assert calendar.working_days_between(date(2026, 12, 31), date(2027, 1, 4)) == 2
    assert calendar.working_days_between(date(2027, 1, 4), date(2026, 12, 31)) == -2


def test_working_days_in_lists_the_days_that_count() -> None:
    calendar = WorkdayCalendar()
    assert list(calendar.working_days_in(date(2024, 2, 2), date(2024, 2, 8))) == [
        date(2024, 2, 4),
        date(2024, 2, 5),
        date(2024, 2, 6),
        date(2024, 2, 7),
        date(2024, 2, 8),
    ]
    assert list(calendar.working_days_in(date(2024, 2, 8), date(2024, 2, 8))) == []


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        (date(2024, 2, 8), 0, date(2024, 2, 8)),
        (date(2024, 2, 9), 1, date(2024, 2, 18)),  # across the Spring Festival
        (date(2024, 2, 18), -1, date(2024, 2, 9)),
        (date(2024, 2, 2), 2, date(2024, 2, 5)),  # Sunday 4th is a make-up day
        (date(2024, 2, 5), -2, date(2024, 2, 2)),
    ],
)
def test_add_working_days_both_ways(start: date, count: int, expected: date) -> None:
    calendar = WorkdayCalendar()
    assert calendar.add_working_days(start, count) == expected
    if count > 0:
        assert calendar.working_days_between(start, expected) == count


def test_business_date_cut_off_edges() -> None:
    # 05:59:59 local is the previous business date, 06:00 the same date
    assert business_date(datetime(2024, 3, 5, 21, 59, 59, tzinfo=UTC), 6) == date(2024, 3, 5)
    assert business_date(datetime(2024, 3, 5, 22, 0, tzinfo=UTC), 6) == date(2024, 3, 6)
    assert business_date(datetime(2024, 3, 5, 16, 0, tzinfo=UTC), 23) == date(2024, 3, 5)
    assert business_date(datetime(2024, 3, 5, 14, 59, tzinfo=UTC), 23) == date(2024, 3, 4)
    with pytest.raises(ValueError, match="cut-off hour 24 is outside 0-23"):
        business_date(datetime(2024, 3, 5, tzinfo=UTC), 24)
    with pytest.raises(ValueError, match="cut-off hour -1 is outside 0-23"):
        business_date(datetime(2024, 3, 5, tzinfo=UTC), -1)
    with pytest.raises(ValueError, match=r"timestamp 2024-03-05T00:00:00 has no time zone"):
        business_date(datetime(2024, 3, 5), 6)
