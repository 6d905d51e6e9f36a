"""Gaps in rules/workdays.py that mutation testing found (issue 16).

The plausibility bounds on an override year are inclusive (a notice with exactly 240 working
days, or exactly 30 weekdays off, is accepted), only Monday-Friday holidays count as weekdays
off, a Saturday is a valid make-up working day, and a weekday listed as one is refused with a
message that says what a make-up day must be. The calendar's source in evidence names every
override year and the installed `chinesecalendar` distribution; a timestamp whose zone gives no
offset is as naive as one without a zone.
"""

from __future__ import annotations

import importlib.metadata
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path

import chinese_calendar
import pytest

from orchestrator.errors import CalendarDataMissing
from orchestrator.rules.workday_overrides import parse_overrides
from orchestrator.rules.workdays import (
    WorkdayCalendar,
    business_date,
    package_version,
    package_years,
)

DAYS_2027 = [date(2027, 1, 1) + timedelta(n) for n in range(365)]
WEEKDAYS_2027 = [day for day in DAYS_2027 if day.weekday() < 5]  # 261 of them
SATURDAYS_2027 = [day for day in DAYS_2027 if day.weekday() == 5]


def problems(holidays: list[date], workdays: list[date]) -> list[str]:
    overrides = parse_overrides(
        {
            "years": {
                2027: {
                    "holidays": [str(day) for day in holidays],
                    "workdays": [str(day) for day in workdays],
                }
            }
        },
        "calendar.yml",
        package_years(),
    )
    return WorkdayCalendar(overrides).implausible_years()


def test_a_year_of_exactly_240_working_days_is_plausible() -> None:
    assert len(WEEKDAYS_2027) == 261
    assert problems(WEEKDAYS_2027[:21], []) == []
    assert problems(WEEKDAYS_2027[:22], []) == [
        "years.2027: 239 working days in 2027; a statutory year has 240-256 (2004-2026: 248-252)"
    ]


def test_exactly_30_weekdays_off_with_saturday_holidays_and_make_up_days_is_plausible() -> None:
    # 30 weekdays off, two Saturdays off (not weekdays: they do not count), nine Saturdays
    # worked in lieu: 261 - 30 + 9 = 240 working days.
    saturdays_off = SATURDAYS_2027[:2]
    saturdays_worked = SATURDAYS_2027[-9:]
    assert problems(WEEKDAYS_2027[:30] + saturdays_off, saturdays_worked) == []
    assert problems(
        WEEKDAYS_2027[:31] + saturdays_off, [*saturdays_worked, SATURDAYS_2027[-10]]
    ) == ["years.2027: 31 weekdays off in 2027; a statutory year has at most 30 (2004-2026: 16-23)"]


def test_a_weekday_make_up_day_is_refused_saying_what_it_must_be() -> None:
    assert problems(WEEKDAYS_2027[:5], [date(2027, 2, 3)]) == [
        "years.2027.workdays: 2027-02-03 is a Wednesday; a make-up working day (调休上班) "
        "is a Saturday or Sunday"
    ]


def test_the_source_names_every_override_year() -> None:
    overrides = parse_overrides(
        {
            "years": {
                2028: {"holidays": ["2028-01-03"]},
                2027: {"holidays": ["2027-01-01"]},
            }
        },
        "calendar.yml",
        package_years(),
    )
    described = WorkdayCalendar(overrides.replace(path="c.yml", sha256="ab" * 32))
    assert described.source_description().endswith("years: 2027, 2028)")


class _NoOffset(tzinfo):
    """A time zone that does not know its offset (utcoffset None): as good as naive."""

    def utcoffset(self, moment: datetime | None) -> timedelta | None:
        return None


def test_a_timestamp_whose_zone_has_no_offset_is_refused() -> None:
    moment = datetime(2026, 11, 23, 2, 0, tzinfo=_NoOffset())
    with pytest.raises(ValueError, match=r"has no time zone; expected UTC"):
        business_date(moment, 6)


def test_the_version_in_evidence_is_the_installed_distribution_s(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The module's own __version__ may lag its distribution metadata; evidence names the
    # distribution that is installed.
    installed = importlib.metadata.version("chinesecalendar")
    monkeypatch.setattr(chinese_calendar, "__version__", "0.0-module", raising=False)
    assert package_version() == installed


def test_the_version_is_read_from_the_metadata_beside_the_imported_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The copy Python imported names its version, whatever else is on the path; the
    # METADATA headers end at the first blank line (a body line is not a header).
    package = tmp_path / "site" / "chinese_calendar" / "__init__.py"
    package.parent.mkdir(parents=True)
    info = tmp_path / "site" / "chinesecalendar-7.7.7.dist-info"
    info.mkdir()
    (tmp_path / "site" / "other-1.0.dist-info").mkdir()  # another distribution's: not ours
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: chinesecalendar\nVersion: 7.7.7\n\nVersion: 0.0.0\n"
    )
    monkeypatch.setattr(chinese_calendar, "__file__", str(package))
    assert package_version() == "7.7.7"
    (info / "METADATA").write_text("Name: chinesecalendar\n\nVersion: 0.0.0\n")
    monkeypatch.setattr(chinese_calendar, "__version__", "1.2.3", raising=False)
    monkeypatch.setattr(importlib.metadata, "version", {"chinesecalendar": "4.5.6"}.__getitem__)
    assert package_version() == "4.5.6"  # no Version header: importlib.metadata decides


def test_without_distribution_metadata_the_module_version_or_unknown_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def not_installed(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    # As from a vendored copy: no dist-info beside the package, none on the path either.
    vendored = tmp_path / "vendor" / "chinese_calendar" / "__init__.py"
    vendored.parent.mkdir(parents=True)
    monkeypatch.setattr(chinese_calendar, "__file__", str(vendored))
    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    monkeypatch.setattr(chinese_calendar, "__version__", "1.2.3", raising=False)
    assert package_version() == "1.2.3"
    monkeypatch.delattr(chinese_calendar, "__version__")
    assert package_version() == "unknown"


def test_a_worked_first_of_january_counts_when_a_range_enters_the_year() -> None:
    overrides = parse_overrides(
        {"years": {2027: {"holidays": ["2027-02-08"]}}}, "calendar.yml", package_years()
    )
    calendar = WorkdayCalendar(overrides)
    assert calendar.is_working_day(date(2027, 1, 1))  # a Friday not listed as a holiday
    assert calendar.working_days_between(date(2026, 12, 31), date(2027, 1, 1)) == 1
    assert calendar.working_days_between(date(2026, 12, 30), date(2027, 1, 4)) == 3


def test_counting_into_a_year_without_data_raises_unless_asked_not_to() -> None:
    calendar = WorkdayCalendar()
    with pytest.raises(CalendarDataMissing, match="2027"):
        calendar.add_working_days(date(2026, 12, 30), 5)
    assert calendar.add_working_days(date(2026, 12, 30), 5, missing_as_working=True) == date(
        2027, 1, 4
    )
