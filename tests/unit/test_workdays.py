"""The statutory working-day calendar, against the State Council holiday notices for 2024-2026."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.errors import CalendarDataMissing, InputError
from orchestrator.rules.workday_overrides import load_overrides, parse_overrides
from orchestrator.rules.workdays import DayKind, WorkdayCalendar, business_date, package_years

# Weekend make-up working days (调休上班) from the official notices; 2026 as carried by
# chinesecalendar 1.11.0 (国办发明电〔2025〕7号).
MAKEUP_DAYS = {
    2024: [
        "2024-02-04",
        "2024-02-18",
        "2024-04-07",
        "2024-04-28",
        "2024-05-11",
        "2024-09-14",
        "2024-09-29",
        "2024-10-12",
    ],
    2025: ["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"],
    2026: ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"],
}
ALL_MAKEUP_DAYS = [day for days in MAKEUP_DAYS.values() for day in days]

# A made-up 2027 for tests only: NOT the official 2027 schedule (not published when written).
TEST_2027 = {
    "years": {
        2027: {
            "source": "test data",
            "holidays": [
                "2027-01-01",
                "2027-02-08",
                "2027-02-09",
                "2027-02-10",
                "2027-02-11",
                "2027-02-12",
            ],
            "workdays": ["2027-02-07"],
        }
    }
}


def d(text: str) -> date:
    return date.fromisoformat(text)


@pytest.fixture(scope="module")
def calendar() -> WorkdayCalendar:
    return WorkdayCalendar()


@pytest.fixture(scope="module")
def calendar_2027() -> WorkdayCalendar:
    return WorkdayCalendar(parse_overrides(TEST_2027, "test.yml", package_years()))


@pytest.mark.parametrize("day", ALL_MAKEUP_DAYS)
def test_is_working_day_true_on_weekend_makeup_days(calendar: WorkdayCalendar, day: str) -> None:
    assert d(day).weekday() >= 5
    assert calendar.is_working_day(d(day))
    assert calendar.day_kind(d(day)) is DayKind.MAKEUP_WORKDAY


@pytest.mark.parametrize("year", sorted(MAKEUP_DAYS))
def test_makeup_days_are_exactly_the_official_ones(calendar: WorkdayCalendar, year: int) -> None:
    day, found = date(year, 1, 1), []
    while day.year == year:
        if day.weekday() >= 5 and calendar.is_working_day(day):
            found.append(day.isoformat())
        day += timedelta(days=1)
    assert found == MAKEUP_DAYS[year]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # Spring Festival 2024: 02-10..02-17 off, Sun 02-18 worked
        ("2024-02-09", "2024-02-18", 1),
        ("2024-02-08", "2024-02-19", 3),
        ("2024-02-03", "2024-02-05", 2),  # Sun 02-04 worked, Mon 02-05
        # National Day 2024: 10-01..10-07 off, Sun 09-29 and Sat 10-12 worked
        ("2024-09-28", "2024-10-08", 3),
        ("2024-10-07", "2024-10-13", 5),
        # Spring Festival 2025: 01-28..02-04 off, Sun 01-26 and Sat 02-08 worked
        ("2025-01-25", "2025-01-27", 2),
        ("2025-01-27", "2025-02-05", 1),
        ("2025-02-07", "2025-02-10", 2),
        # National Day 2025: 10-01..10-08 off, Sun 09-28 and Sat 10-11 worked
        ("2025-09-30", "2025-10-09", 1),
        ("2025-09-27", "2025-10-12", 6),
        # Spring Festival 2026: 02-15..02-23 off, Sat 02-14 and Sat 02-28 worked
        ("2026-02-13", "2026-02-24", 2),
        ("2026-02-27", "2026-03-01", 1),
        # National Day 2026: 10-01..10-07 off, Sun 09-20 and Sat 10-10 worked
        ("2026-09-19", "2026-09-21", 2),
        ("2026-09-30", "2026-10-08", 1),
        ("2026-10-09", "2026-10-11", 1),
        # across a year end
        ("2024-12-31", "2025-01-02", 1),
    ],
)
def test_working_days_between_counts_statutory_days(
    calendar: WorkdayCalendar, start: str, end: str, expected: int
) -> None:
    assert calendar.working_days_between(d(start), d(end)) == expected


@pytest.mark.parametrize(
    ("day", "kind"),
    [
        ("2025-10-01", DayKind.HOLIDAY),
        ("2025-10-04", DayKind.HOLIDAY),  # a Saturday inside the holiday
        ("2025-10-18", DayKind.WEEKEND),
        ("2025-10-13", DayKind.WORKDAY),
        ("2025-09-28", DayKind.MAKEUP_WORKDAY),
    ],
)
def test_day_kind_names_the_reason(calendar: WorkdayCalendar, day: str, kind: DayKind) -> None:
    assert calendar.day_kind(d(day)) is kind


def test_is_working_day_refuses_a_datetime(calendar: WorkdayCalendar) -> None:
    with pytest.raises(TypeError, match="expected a date, got datetime"):
        calendar.is_working_day(datetime(2025, 1, 2, tzinfo=UTC))


def test_is_working_day_2027_without_override_raises_calendar_data_missing(
    calendar: WorkdayCalendar,
) -> None:
    with pytest.raises(
        CalendarDataMissing, match="no working-day calendar data for 2027"
    ) as raised:
        calendar.is_working_day(d("2027-01-04"))
    assert raised.value.year == 2027
    assert 2027 not in calendar.years_covered()


def test_working_days_between_into_a_missing_year_raises(calendar: WorkdayCalendar) -> None:
    with pytest.raises(
        CalendarDataMissing, match="no working-day calendar data for 2027"
    ) as raised:
        calendar.working_days_between(d("2026-12-30"), d("2027-01-02"))
    assert raised.value.year == 2027


def test_working_days_between_from_december_31_needs_no_data_for_that_year(
    calendar: WorkdayCalendar,
) -> None:
    assert calendar.working_days_between(d("2003-12-31"), d("2004-01-02")) == 1


def test_calendar_with_2027_override_answers_for_2027(calendar_2027: WorkdayCalendar) -> None:
    assert not calendar_2027.is_working_day(d("2027-01-01"))
    assert calendar_2027.is_working_day(d("2027-01-04"))
    assert calendar_2027.is_working_day(d("2027-02-07"))  # listed Sunday
    assert not calendar_2027.is_working_day(d("2027-02-06"))  # unlisted Saturday
    assert not calendar_2027.is_working_day(d("2027-02-10"))
    assert calendar_2027.working_days_between(d("2026-12-31"), d("2027-01-04")) == 1
    assert calendar_2027.working_days_between(d("2027-02-05"), d("2027-02-15")) == 2
    assert 2027 in calendar_2027.years_covered()
    with pytest.raises(CalendarDataMissing, match="no working-day calendar data for 2028"):
        calendar_2027.is_working_day(d("2028-01-03"))


def test_override_year_replaces_the_package_for_that_year() -> None:
    overrides = parse_overrides(
        {"years": {2026: {"holidays": ["2026-01-01"]}}}, "o.yml", package_years()
    )
    calendar = WorkdayCalendar(overrides)
    assert calendar.is_working_day(d("2026-02-16"))  # a package holiday, not in the override
    assert not calendar.is_working_day(d("2026-02-14"))  # a package make-up Saturday
    assert calendar.is_working_day(d("2025-02-08"))  # other years still come from the package


def test_corrections_fix_single_dates_in_package_years() -> None:
    overrides = parse_overrides(
        {"corrections": {"holidays": ["2026-12-31"], "workdays": ["2026-12-26"]}},
        "o.yml",
        package_years(),
    )
    calendar = WorkdayCalendar(overrides)
    assert not calendar.is_working_day(d("2026-12-31"))
    assert calendar.is_working_day(d("2026-12-26"))
    assert calendar.is_working_day(d("2026-12-30"))


def test_load_overrides_reads_yaml_dates_and_records_its_digest(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yml"
    path.write_text(
        "years:\n  2027:\n    holidays: [2027-01-01, 2027-02-08, 2027-02-09, 2027-02-10,"
        " 2027-02-11, 2027-02-12]\n    workdays: [2027-02-07]\n",
        encoding="utf-8",
    )
    calendar = WorkdayCalendar.from_overrides_file(path)
    assert calendar.is_working_day(d("2027-02-07"))
    description = calendar.source_description()
    assert "chinesecalendar" in description
    assert str(path) in description
    assert hashlib.sha256(path.read_bytes()).hexdigest() in description


def test_load_overrides_reports_bad_date_with_file_and_path(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yml"
    path.write_text(
        "years:\n  2027:\n    holidays: [2027-01-01, 2027-02-08, 2027-02-09, 2027-02-30]\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"years\.2027\.holidays\[3\]") as raised:
        load_overrides(path, package_years())
    assert raised.value.source == str(path)
    assert raised.value.problems == [
        "years.2027.holidays[3]: '2027-02-30' is not a date (expected YYYY-MM-DD)"
    ]


def test_load_overrides_reports_invalid_yaml(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yml"
    path.write_text("years: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError, match="not valid YAML") as raised:
        load_overrides(path, package_years())
    assert "not valid YAML" in raised.value.problems[0]


def test_load_overrides_reports_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read") as raised:
        load_overrides(tmp_path / "absent.yml", package_years())
    assert "cannot read" in raised.value.problems[0]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (
            {"years": {2027: {"holidays": ["2028-01-01"]}}},
            "years.2027.holidays[0]: 2028-01-01 is not in 2027",
        ),
        (
            {"years": {2027: {"holidays": ["2027-01-01"], "workdays": ["2027-01-01"]}}},
            "years.2027: 2027-01-01 is listed both as a holiday and as a working day",
        ),
        (
            {"years": {2027: {"holidays": ["2027-01-01"], "makeup": []}}},
            "years.2027.makeup: unknown key; expected one of holidays, source, workdays",
        ),
        (
            {"years": {2027: {"workdays": ["2027-02-07"]}}},
            "years.2027.holidays: missing; list the year's days off",
        ),
        (
            {"years": {2027: {"holidays": []}}},
            "years.2027.holidays: empty; every holiday notice lists days off",
        ),
        (
            {"years": {"twenty": {"holidays": ["2027-01-01"]}}},
            "years.twenty: expected a year between 1900 and 2199",
        ),
        (
            {"years": {2027: {"holidays": "2027-01-01"}}},
            "years.2027.holidays: expected a list of dates (YYYY-MM-DD), got str",
        ),
        ({"year": {}}, "year: unknown key; expected one of corrections, years"),
        (
            {"corrections": {"holidays": ["2030-01-01"]}},
            "corrections.holidays[0]: 2030-01-01 is in 2030, which the chinesecalendar package "
            "does not cover; give the whole year under years.2030",
        ),
        (
            {
                "years": {2027: {"holidays": ["2027-01-01"]}},
                "corrections": {"workdays": ["2027-02-07"]},
            },
            "corrections.workdays[0]: 2027-02-07 is in 2027, which is given under years.2027; "
            "list it there",
        ),
        (
            {"corrections": {"holidays": ["2026-12-31"], "workdays": ["2026-12-31"]}},
            "corrections: 2026-12-31 is listed both as a holiday and as a working day",
        ),
        (
            {"years": {2027: {"holidays": [20270101]}}},
            "years.2027.holidays[0]: 20270101 is not a date (expected YYYY-MM-DD)",
        ),
    ],
)
def test_parse_overrides_refuses_bad_input_naming_the_path(data: object, problem: str) -> None:
    with pytest.raises(InputError, match=re.escape(problem)) as raised:
        parse_overrides(data, "site/calendar.yml", package_years())
    assert raised.value.source == "site/calendar.yml"
    assert raised.value.problems == [problem]


def test_parse_overrides_reports_every_problem_at_once() -> None:
    data = {
        "years": {2027: {"holidays": ["2027-13-01", "2026-05-01"], "workdays": ["x"]}},
        "extra": 1,
    }
    with pytest.raises(InputError, match=r"c\.yml: 4 error\(s\)") as raised:
        parse_overrides(data, "c.yml", package_years())
    assert len(raised.value.problems) == 4


@pytest.mark.parametrize(
    ("finished_utc", "cutoff", "expected"),
    [
        (datetime(2024, 2, 9, 18, 0, tzinfo=UTC), 6, "2024-02-09"),  # 02:00 local
        (datetime(2024, 2, 9, 18, 0, tzinfo=UTC), 0, "2024-02-10"),
        (datetime(2024, 2, 9, 22, 0, tzinfo=UTC), 6, "2024-02-10"),  # 06:00 local
        (datetime(2024, 2, 9, 15, 59, tzinfo=UTC), 0, "2024-02-09"),  # 23:59 local
    ],
)
def test_business_date_uses_shanghai_time_and_cutoff(
    finished_utc: datetime, cutoff: int, expected: str
) -> None:
    assert business_date(finished_utc, cutoff) == d(expected)


def test_business_date_refuses_naive_timestamps_and_bad_cutoff() -> None:
    with pytest.raises(ValueError, match="time zone"):
        business_date(datetime(2024, 2, 9, 18, 0), 6)
    with pytest.raises(ValueError, match="cut-off"):
        business_date(datetime(2024, 2, 9, 18, 0, tzinfo=UTC), 24)


# Properties over the package's years.

package_dates = st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 12, 31))
near_offsets = st.integers(min_value=-60, max_value=60)


@given(package_dates, package_dates, package_dates)
def test_working_days_between_is_additive(a: date, b: date, c: date) -> None:
    calendar = WorkdayCalendar()
    assert calendar.working_days_between(a, b) + calendar.working_days_between(
        b, c
    ) == calendar.working_days_between(a, c)


@given(package_dates)
def test_working_days_between_a_date_and_itself_is_zero(a: date) -> None:
    assert WorkdayCalendar().working_days_between(a, a) == 0


@given(package_dates, package_dates, package_dates)
def test_working_days_between_is_monotone(a: date, b: date, c: date) -> None:
    a, b, c = sorted((a, b, c))
    calendar = WorkdayCalendar()
    assert 0 <= calendar.working_days_between(a, b) <= calendar.working_days_between(a, c)


@settings(max_examples=60)
@given(st.dates(min_value=date(2004, 3, 1), max_value=date(2026, 10, 1)), near_offsets)
def test_working_days_between_matches_day_by_day_count(start: date, offset: int) -> None:
    calendar = WorkdayCalendar()
    end = start + timedelta(days=abs(offset))
    naive = sum(
        calendar.is_working_day(start + timedelta(days=n)) for n in range(1, abs(offset) + 1)
    )
    assert calendar.working_days_between(start, end) == naive


@settings(max_examples=60)
@given(
    st.dates(min_value=date(2004, 3, 1), max_value=date(2026, 10, 1)),
    st.integers(min_value=1, max_value=20),
)
def test_add_working_days_lands_on_a_working_day_that_far_ahead(start: date, count: int) -> None:
    calendar = WorkdayCalendar()
    later = calendar.add_working_days(start, count)
    earlier = calendar.add_working_days(start, -count)
    assert calendar.is_working_day(later) and calendar.is_working_day(earlier)
    assert calendar.working_days_between(start, later) == count
    assert calendar.working_days_between(start, later - timedelta(days=1)) == count - 1
    day_before = timedelta(days=1)
    assert calendar.working_days_between(earlier - day_before, start - day_before) == count


def test_load_overrides_refuses_a_year_of_holidays(tmp_path: Path) -> None:
    weekdays = [
        day for day in (date(2027, 1, 1) + timedelta(n) for n in range(365)) if day.weekday() < 5
    ]
    path = tmp_path / "calendar.yml"
    path.write_text(
        "years:\n  2027:\n    holidays: [" + ", ".join(map(str, weekdays)) + "]\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"years\.2027: 0 working days in 2027") as raised:
        WorkdayCalendar.from_overrides_file(path)
    assert raised.value.source == str(path)
    assert any("261 weekdays off" in problem for problem in raised.value.problems)


def test_load_overrides_refuses_corrections_that_empty_a_package_year(tmp_path: Path) -> None:
    days = [date(2026, 3, 2) + timedelta(n) for n in range(70)]
    path = tmp_path / "calendar.yml"
    path.write_text(
        "corrections:\n  holidays: [" + ", ".join(map(str, days)) + "]\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match=r"corrections \(2026\): \d+ working days in 2026"):
        WorkdayCalendar.from_overrides_file(path)


def test_load_overrides_refuses_a_weekday_listed_as_make_up_day(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yml"
    path.write_text(
        "years:\n  2027:\n    holidays: [2027-01-01, 2027-02-08, 2027-02-09, 2027-02-10,"
        " 2027-02-11, 2027-02-12]\n    workdays: [2027-02-03]\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"years\.2027\.workdays: 2027-02-03 is a Wednesday"):
        WorkdayCalendar.from_overrides_file(path)
