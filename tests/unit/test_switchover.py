"""Rule switchover.notice (银发[2002]260号 第十条) on the statutory calendar."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

import pytest

from orchestrator.rules.pack import RulePack, apply_site_overrides, load_pack
from orchestrator.rules.status import Status
from orchestrator.rules.switchover import Convention, check_switchover_notice, latest_notice_date
from orchestrator.rules.workday_overrides import parse_overrides
from orchestrator.rules.workdays import WorkdayCalendar, package_years

CHANNEL = "客服热线 95500 与网点柜面"
START, END = date(2025, 10, 13), date(2025, 10, 14)  # Mon-Tue after National Day 2025


@pytest.fixture(scope="module")
def calendar() -> WorkdayCalendar:
    return WorkdayCalendar()


@pytest.fixture(scope="module")
def pack() -> RulePack:
    return load_pack()


def test_strict_notice_on_makeup_sunday_before_national_day_is_compliant(
    calendar: WorkdayCalendar, pack: RulePack
) -> None:
    verdict = check_switchover_notice(
        calendar, START, END, date(2025, 9, 28), "strict", pack, emergency_channel=CHANNEL
    )
    assert verdict.applies is True
    assert verdict.working_days_in_window == 2
    assert verdict.notice_working_days == 5
    assert verdict.required == 5
    assert verdict.status is Status.COMPLIANT
    assert verdict.latest_notice_date == date(2025, 9, 28)
    assert verdict.counted_days == (
        date(2025, 9, 29),
        date(2025, 9, 30),
        date(2025, 10, 9),
        date(2025, 10, 10),
        date(2025, 10, 11),
    )
    assert verdict.convention == "strict"
    assert "第十条" in verdict.explanation_zh and "符合" in verdict.explanation_zh
    assert "Strict counting" in verdict.explanation_en


def test_strict_notice_one_day_later_is_non_compliant(
    calendar: WorkdayCalendar, pack: RulePack
) -> None:
    verdict = check_switchover_notice(
        calendar, START, END, date(2025, 9, 29), "strict", pack, emergency_channel=CHANNEL
    )
    assert verdict.notice_working_days == 4
    assert verdict.status is Status.NON_COMPLIANT
    assert "1 working day(s) short" in verdict.explanation_en


def test_inclusive_counting_accepts_the_notice_day_itself(
    calendar: WorkdayCalendar, pack: RulePack
) -> None:
    verdict = check_switchover_notice(
        calendar, START, END, date(2025, 9, 29), "inclusive", pack, emergency_channel=CHANNEL
    )
    assert verdict.notice_working_days == 5
    assert verdict.status is Status.COMPLIANT
    assert verdict.latest_notice_date == date(2025, 9, 29)
    assert "Inclusive counting" in verdict.explanation_en


def test_window_of_one_working_day_is_not_applicable(
    calendar: WorkdayCalendar, pack: RulePack
) -> None:
    # Fri 2025-10-17 .. Sun 2025-10-19 touches one working day
    verdict = check_switchover_notice(
        calendar, date(2025, 10, 17), date(2025, 10, 19), date(2025, 10, 16), "strict", pack
    )
    assert verdict.applies is False
    assert verdict.working_days_in_window == 1
    assert verdict.status is Status.NOT_APPLICABLE


def test_holiday_window_touching_makeup_days_applies(
    calendar: WorkdayCalendar, pack: RulePack
) -> None:
    # Sat 2024-02-03 .. Mon 2024-02-05 touches two working days: make-up Sunday 02-04 and 02-05
    verdict = check_switchover_notice(
        calendar,
        date(2024, 2, 3),
        date(2024, 2, 5),
        date(2024, 1, 20),
        "strict",
        pack,
        emergency_channel=CHANNEL,
    )
    assert verdict.working_days_in_window == 2
    assert verdict.applies is True


def test_missing_emergency_channel_is_partial(calendar: WorkdayCalendar, pack: RulePack) -> None:
    verdict = check_switchover_notice(calendar, START, END, date(2025, 9, 1), "strict", pack)
    assert verdict.status is Status.PARTIAL
    assert "应急服务途径" in verdict.explanation_zh


def test_notice_after_start_counts_zero(calendar: WorkdayCalendar, pack: RulePack) -> None:
    verdict = check_switchover_notice(
        calendar, START, END, date(2025, 10, 14), "strict", pack, emergency_channel=CHANNEL
    )
    assert verdict.notice_working_days == 0
    assert verdict.status is Status.NON_COMPLIANT


def test_year_without_calendar_data_is_unknown(calendar: WorkdayCalendar, pack: RulePack) -> None:
    verdict = check_switchover_notice(
        calendar, date(2027, 1, 4), date(2027, 1, 6), date(2026, 12, 1), "strict", pack
    )
    assert verdict.status is Status.UNKNOWN
    assert verdict.applies is None
    assert "2027" in verdict.explanation_en


def test_year_with_override_is_judged(pack: RulePack) -> None:
    overrides = parse_overrides(
        {"years": {2027: {"holidays": ["2027-01-01"]}}}, "test.yml", package_years()
    )
    calendar = WorkdayCalendar(overrides)
    verdict = check_switchover_notice(
        calendar,
        date(2027, 1, 4),
        date(2027, 1, 6),
        date(2026, 12, 1),
        "strict",
        pack,
        emergency_channel=CHANNEL,
    )
    assert verdict.status is Status.COMPLIANT
    # Mon 2027-01-04: Fri 01-01 is off, so the 5th working day before is Fri 2026-12-25
    assert verdict.latest_notice_date == date(2026, 12, 24)


def test_stricter_site_notice_requirement_is_used(
    calendar: WorkdayCalendar, pack: RulePack
) -> None:
    site = apply_site_overrides(
        pack, {"switchover.notice": {"min_notice_working_days": 10}}, "dr.yml"
    )
    verdict = check_switchover_notice(
        calendar, START, END, date(2025, 9, 28), "strict", site, emergency_channel=CHANNEL
    )
    assert verdict.required == 10
    assert verdict.status is Status.NON_COMPLIANT


@pytest.mark.parametrize("convention", ["strict", "inclusive"])
def test_latest_notice_date_is_the_boundary(
    calendar: WorkdayCalendar, pack: RulePack, convention: Convention
) -> None:
    start = date(2024, 10, 8)
    latest = latest_notice_date(calendar, start, 5, convention)
    on_time = check_switchover_notice(
        calendar,
        start,
        date(2024, 10, 9),
        latest,
        convention,
        pack,
        emergency_channel=CHANNEL,
    )
    late = check_switchover_notice(
        calendar,
        start,
        date(2024, 10, 9),
        date.fromordinal(latest.toordinal() + 1),
        convention,
        pack,
        emergency_channel=CHANNEL,
    )
    assert on_time.status is Status.COMPLIANT
    assert late.status is Status.NON_COMPLIANT


def test_end_before_start_and_unknown_convention_are_refused(
    calendar: WorkdayCalendar, pack: RulePack
) -> None:
    with pytest.raises(ValueError, match="before it starts"):
        check_switchover_notice(calendar, END, START, date(2025, 9, 1), "strict", pack)
    with pytest.raises(ValueError, match="convention"):
        check_switchover_notice(calendar, START, END, date(2025, 9, 1), cast(Any, "lenient"), pack)
