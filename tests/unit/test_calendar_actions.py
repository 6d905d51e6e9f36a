"""The calendar verbs behind `drctl calendar …` and `drctl plan switchover`."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from orchestrator.actions.calendar import (
    load_calendar,
    parse_cli_date,
    run_is_working_day,
    run_working_days,
)
from orchestrator.actions.switchover_plan import run_plan_switchover
from orchestrator.errors import CalendarDataMissing, ExitCode, InputError
from orchestrator.rules.pack import load_pack
from orchestrator.rules.workdays import WorkdayCalendar


@pytest.fixture(scope="module")
def calendar() -> WorkdayCalendar:
    return load_calendar(None)


def test_run_working_days_counts_the_half_open_range(calendar: WorkdayCalendar) -> None:
    result = run_working_days(calendar, date(2024, 2, 9), date(2024, 2, 18))
    assert result["working_days"] == 1
    assert result["range"] == "(from, to]"
    assert json.loads(json.dumps(result)) == result


def test_run_working_days_without_data_raises_exit_2(calendar: WorkdayCalendar) -> None:
    with pytest.raises(
        CalendarDataMissing, match="no working-day calendar data for 2027"
    ) as raised:
        run_working_days(calendar, date(2026, 12, 1), date(2027, 1, 5))
    assert raised.value.exit_code == ExitCode.USAGE


@pytest.mark.parametrize(
    ("day", "code", "working"),
    [
        (date(2025, 9, 28), ExitCode.OK, True),  # make-up Sunday
        (date(2025, 10, 1), ExitCode.CHECK_FAILED, False),
        (date(2027, 1, 4), ExitCode.USAGE, None),
    ],
)
def test_run_is_working_day_exit_codes(
    calendar: WorkdayCalendar, day: date, code: ExitCode, working: bool | None
) -> None:
    exit_code, result = run_is_working_day(calendar, day)
    assert exit_code == code
    assert result["working_day"] is working
    json.dumps(result)


def test_run_plan_switchover_reports_the_count(calendar: WorkdayCalendar) -> None:
    code, result = run_plan_switchover(
        calendar, load_pack(), date(2025, 10, 13), date(2025, 10, 14), date(2025, 9, 29)
    )
    assert code == ExitCode.CHECK_FAILED
    assert result["status"] == "non_compliant"
    assert result["status_zh"] == "不符合"
    assert result["convention"] == "strict"
    assert result["latest_notice_date"] == "2025-09-28"
    assert result["notice_working_days"] == 4
    json.dumps(result, ensure_ascii=False)


def test_run_plan_switchover_refuses_bad_arguments(calendar: WorkdayCalendar) -> None:
    with pytest.raises(InputError, match=r"--end: .* is before --start") as raised:
        run_plan_switchover(
            calendar,
            load_pack(),
            date(2025, 10, 14),
            date(2025, 10, 13),
            date(2025, 9, 1),
            convention="lenient",
        )
    assert len(raised.value.problems) == 2


def test_parse_cli_date_names_the_option() -> None:
    assert parse_cli_date("2025-10-13", "--start") == date(2025, 10, 13)
    with pytest.raises(InputError, match=r"--start: '2025-02-30' is not a date") as raised:
        parse_cli_date("2025-02-30", "--start")
    assert raised.value.problems == ["--start: '2025-02-30' is not a date (expected YYYY-MM-DD)"]


def test_load_calendar_reads_the_overrides_file(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yml"
    path.write_text(
        "years:\n  2027:\n    holidays: [2027-01-01, 2027-02-08, 2027-02-09, 2027-02-10,"
        " 2027-02-11, 2027-02-12]\n",
        encoding="utf-8",
    )
    code, result = run_is_working_day(load_calendar(path), date(2027, 1, 4))
    assert code == ExitCode.OK
    assert str(path) in result["calendar"]
