"""The calendar override file at its edges: what is kept, what is refused, and that every
problem names the file and the path inside it."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from pathlib import Path

import pytest

from orchestrator.errors import InputError
from orchestrator.rules.workday_overrides import (
    CalendarOverrides,
    YearOverride,
    load_overrides,
    parse_overrides,
)
from orchestrator.rules.workdays import package_years

YEARS = package_years()


def refused(data: object, source: str = "site/calendar.yml") -> list[str]:
    with pytest.raises(InputError, match=r"site/calendar\.yml: \d+ error") as raised:
        parse_overrides(data, source, YEARS)
    assert raised.value.source == source
    return raised.value.problems


def test_a_file_that_cannot_be_read_names_itself(tmp_path: Path) -> None:
    path = tmp_path / "absent.yml"
    with pytest.raises(InputError, match="cannot read the calendar overrides file: ") as raised:
        load_overrides(path, YEARS)
    assert raised.value.source == str(path)
    assert raised.value.problems[0].startswith("cannot read the calendar overrides file: [Errno 2]")


def test_a_file_that_is_not_yaml_names_itself(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yml"
    path.write_text("years: {2027: [\n", encoding="utf-8")
    with pytest.raises(InputError, match="not valid YAML: ") as raised:
        load_overrides(path, YEARS)
    assert raised.value.source == str(path)
    assert raised.value.problems[0].startswith("not valid YAML: while parsing")


def test_a_loaded_file_keeps_years_corrections_path_and_digest(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yml"
    path.write_text(
        "years:\n"
        "  2027:\n"
        "    source: 国办发明电〔2026〕1号\n"
        "    holidays: [2027-01-01]\n"
        "    workdays: [2027-02-07]\n"
        "corrections:\n"
        "  holidays: [2026-12-31]\n"
        "  workdays: [2026-12-26]\n",
        encoding="utf-8",
    )
    loaded = load_overrides(path, YEARS)
    assert loaded == CalendarOverrides(
        years={
            2027: YearOverride(
                2027,
                frozenset({date(2027, 1, 1)}),
                frozenset({date(2027, 2, 7)}),
                "国办发明电〔2026〕1号",
            )
        },
        corrected_holidays=frozenset({date(2026, 12, 31)}),
        corrected_workdays=frozenset({date(2026, 12, 26)}),
        path=str(path),
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
    )
    assert loaded.years == {2027: loaded.years[2027]}  # years is not part of the dataclass hash


def test_load_checks_corrections_against_the_package_years(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yml"
    path.write_text("corrections:\n  holidays: [2026-10-09]\n", encoding="utf-8")
    assert load_overrides(path, range(2004, 2027)).corrected_holidays == {date(2026, 10, 9)}
    with pytest.raises(InputError, match="does not cover"):
        load_overrides(path, range(2004, 2026))


def test_an_empty_file_means_no_overrides() -> None:
    assert parse_overrides(None, "c.yml", YEARS) == CalendarOverrides()
    assert parse_overrides({}, "c.yml", YEARS) == CalendarOverrides()
    assert parse_overrides({"years": None, "corrections": None}, "c.yml", YEARS) == (
        CalendarOverrides()
    )


@pytest.mark.parametrize(("data", "kind"), [([], "list"), ("2027", "str"), (7, "int")])
def test_the_top_level_must_be_a_mapping(data: object, kind: str) -> None:
    assert refused(data) == [f"(top level): expected a mapping, got {kind}"]


def test_years_and_corrections_must_be_mappings() -> None:
    assert refused({"years": [2027], "corrections": ["2026-12-31"]}) == [
        "years: expected a mapping of year to its days, got list",
        "corrections: expected holidays and workdays, got list",
    ]


@pytest.mark.parametrize("key", [1900, 2199, "2027"])
def test_year_keys_in_range_are_accepted(key: object) -> None:
    year = int(str(key))
    parsed = parse_overrides({"years": {key: {"holidays": [f"{year:04d}-01-01"]}}}, "c.yml", YEARS)
    assert list(parsed.years) == [year]
    assert parsed.years[year].holidays == {date(year, 1, 1)}


@pytest.mark.parametrize("key", [1899, 2200, True, "27a", "-2027", 2027.0, None])
def test_year_keys_out_of_range_or_not_years_are_refused(key: object) -> None:
    assert refused({"years": {key: {"holidays": ["2027-01-01"]}}}) == [
        f"years.{key}: expected a year between 1900 and 2199"
    ]


def test_each_problem_of_a_year_leaves_the_next_years_checked() -> None:
    data = {
        "years": {
            "bad": {},
            2027: {"holidays": ["2027-01-01"]},
            "2027": {"holidays": ["2027-01-02"]},
            2028: "holidays",
            2029: {"holidays": ["2029-01-01"], "source": 12},
            2030: {"holidays": ["2030-13-01"]},
        }
    }
    assert refused(data) == [
        "years.bad: expected a year between 1900 and 2199",
        "years.2027: listed twice",
        "years.2028: expected a mapping with holidays and workdays",
        "years.2029.source: expected text, got int",
        "years.2030.holidays[0]: '2030-13-01' is not a date (expected YYYY-MM-DD)",
    ]


def test_a_year_without_a_source_and_one_with_it() -> None:
    parsed = parse_overrides(
        {
            "years": {
                2027: {"holidays": ["2027-01-01"]},
                2028: {"holidays": ["2028-01-01"], "source": "国办发明电〔2027〕1号"},
            }
        },
        "c.yml",
        YEARS,
    )
    assert parsed.years[2027].source is None
    assert parsed.years[2028].source == "国办发明电〔2027〕1号"
    assert parsed.years[2027].workdays == frozenset()


def test_dates_given_as_date_objects_count_and_datetimes_do_not() -> None:
    parsed = parse_overrides(
        {"years": {2027: {"holidays": [date(2027, 1, 1)], "workdays": [date(2027, 2, 7)]}}},
        "c.yml",
        YEARS,
    )
    assert parsed.years[2027].holidays == {date(2027, 1, 1)}
    assert parsed.years[2027].workdays == {date(2027, 2, 7)}
    assert refused({"years": {2027: {"holidays": [datetime(2027, 1, 1, 8, 0)]}}}) == [
        "years.2027.holidays[0]: datetime.datetime(2027, 1, 1, 8, 0) is not a date "
        "(expected YYYY-MM-DD)"
    ]


@pytest.mark.parametrize("text", ["2027-1-01", "2027-01-01T00:00", " 2027-01-01", "27-01-01"])
def test_only_plain_iso_dates_are_read(text: str) -> None:
    assert refused({"years": {2027: {"holidays": ["2027-01-02", text]}}}) == [
        f"years.2027.holidays[1]: {text!r} is not a date (expected YYYY-MM-DD)"
    ]


def test_corrections_name_unknown_keys_and_keep_both_lists() -> None:
    assert refused({"corrections": {"holidays": [], "extra": []}}) == [
        "corrections.extra: unknown key; expected one of holidays, workdays"
    ]
    parsed = parse_overrides(
        {"corrections": {"holidays": ["2025-05-06"], "workdays": ["2025-05-10", "2024-05-11"]}},
        "c.yml",
        YEARS,
    )
    assert parsed.corrected_holidays == {date(2025, 5, 6)}
    assert parsed.corrected_workdays == {date(2025, 5, 10), date(2024, 5, 11)}
    assert parsed.years == {}


def test_every_correction_outside_the_package_is_named_by_its_index() -> None:
    assert refused({"corrections": {"holidays": ["2026-01-01", "2003-12-31", "2040-01-01"]}}) == [
        "corrections.holidays[1]: 2003-12-31 is in 2003, which the chinesecalendar package "
        "does not cover; give the whole year under years.2003",
        "corrections.holidays[2]: 2040-01-01 is in 2040, which the chinesecalendar package "
        "does not cover; give the whole year under years.2040",
    ]


def test_days_in_both_lists_are_named_in_date_order() -> None:
    data = {
        "years": {
            2027: {
                "holidays": ["2027-02-07", "2027-01-31", "2027-01-01"],
                "workdays": ["2027-02-07", "2027-01-31"],
            }
        }
    }
    assert refused(data) == [
        "years.2027: 2027-01-31 is listed both as a holiday and as a working day",
        "years.2027: 2027-02-07 is listed both as a holiday and as a working day",
    ]


def test_a_year_with_holidays_set_to_nothing_is_empty() -> None:
    assert refused({"years": {2027: {"holidays": None}}}) == [
        "years.2027.holidays: empty; every holiday notice lists days off"
    ]


def test_the_override_records_behave_as_frozen_records() -> None:
    """YearOverride and CalendarOverrides are plain records (no dataclasses on `drctl calendar`'s
    start): each field as given, equal and hashed by value (the years map left out of the
    hash), shown field by field, immutable, copied with changes by replace()."""
    day, other = date(2027, 10, 1), date(2027, 10, 9)
    year = YearOverride(2027, frozenset({day}), frozenset({other}), "c.yml")
    assert (year.year, year.holidays, year.workdays, year.source) == (
        2027,
        frozenset({day}),
        frozenset({other}),
        "c.yml",
    )
    assert repr(year) == (
        "YearOverride(year=2027, holidays=frozenset({datetime.date(2027, 10, 1)}), "
        "workdays=frozenset({datetime.date(2027, 10, 9)}), source='c.yml')"
    )
    same = YearOverride(2027, frozenset({day}), frozenset({other}), "c.yml")
    assert same == year and hash(same) == hash(year) and {year: 1}[same] == 1
    changed = year.replace(source=None)
    assert changed != year and changed.source is None and changed.year == 2027
    assert hash(changed) != hash(year)
    with pytest.raises(AttributeError, match="YearOverride is immutable: cannot set year"):
        year.year = 2028  # type: ignore[misc]
    overrides = CalendarOverrides(years={2027: year}, corrected_holidays=frozenset({day}))
    twin = CalendarOverrides(years={2027: same}, corrected_holidays=frozenset({day}))
    assert overrides == twin and hash(overrides) == hash(twin)  # a dict inside, still hashed
    assert hash(overrides) != hash(CalendarOverrides())
    assert repr(CalendarOverrides()) == (
        "CalendarOverrides(years={}, corrected_holidays=frozenset(), "
        "corrected_workdays=frozenset(), path=None, sha256=None)"
    )
