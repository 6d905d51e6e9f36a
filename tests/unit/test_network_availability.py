"""Exact availability arithmetic: denominators, the 26.28-minute boundary, no data."""

from __future__ import annotations

from fractions import Fraction

import pytest

from orchestrator.model.outage_records import ObservationRecord, OutageRecord, PathHistory
from orchestrator.rules.availability import (
    DAY_MS,
    calendar_year_figures,
    rolling_figures,
    union_ms,
    year_bounds_ms,
)
from orchestrator.rules.evaluate_network import judge_availability, judge_max_outage
from orchestrator.rules.figures import percent as format_percent
from orchestrator.rules.pack import load_pack
from orchestrator.rules.status import Status

OBJECTIVE = Fraction(99995, 100000)


def whole_year(year: int, outages: tuple[OutageRecord, ...] = ()) -> PathHistory:
    """A path observed without a gap for the whole year, with the given faults."""
    start, end = year_bounds_ms(year)
    return PathHistory("dc-dr", outages, (ObservationRecord(start, end, end),), stale_ms=48_000)


def one_fault(year: int, length_ms: int) -> PathHistory:
    start, _ = year_bounds_ms(year)
    begin = start + 100 * DAY_MS
    return whole_year(year, (OutageRecord(begin, begin + length_ms, "probe"),))


@pytest.mark.parametrize(("year", "days"), [(2025, 365), (2024, 366), (2100, 365), (2000, 366)])
def test_denominator_is_the_whole_shanghai_year(year: int, days: int) -> None:
    start, end = year_bounds_ms(year)
    assert end - start == days * DAY_MS
    # 1 January 00:00 in Asia/Shanghai is 31 December 16:00 UTC
    assert (start // 1000) % 86400 == 16 * 3600


def test_budget_boundary_in_a_365_day_year() -> None:
    budget_ms = 1_576_800  # 26.28 min = 31 536 000 s × 0.00005
    _, end = year_bounds_ms(2025)
    at_budget = calendar_year_figures(one_fault(2025, budget_ms), 2025, end)
    assert at_budget.availability == OBJECTIVE
    over = calendar_year_figures(one_fault(2025, budget_ms + 1000), 2025, end)
    assert over.availability < OBJECTIVE
    assert format_percent(over.availability) == "99.9949… %"
    rule = load_pack()["network.availability"]
    assert judge_availability(rule, at_budget).status is Status.COMPLIANT
    assert judge_availability(rule, over).status is Status.NON_COMPLIANT


def test_budget_boundary_in_a_leap_year() -> None:
    budget_ms = 1_581_120  # 26.352 min = 31 622 400 s × 0.00005
    _, end = year_bounds_ms(2024)
    assert calendar_year_figures(one_fault(2024, budget_ms), 2024, end).availability == OBJECTIVE
    # the 365-day budget would already break a 365-day year but not a leap year
    assert calendar_year_figures(one_fault(2024, 1_576_801), 2024, end).availability > OBJECTIVE
    assert calendar_year_figures(one_fault(2024, budget_ms + 1), 2024, end).availability < OBJECTIVE


def test_fault_across_new_year_is_split_between_years() -> None:
    _, end_2025 = year_bounds_ms(2025)
    start_2025, _ = year_bounds_ms(2025)
    start_2026, end_2026 = year_bounds_ms(2026)
    history = PathHistory(
        "p",
        (OutageRecord(end_2025 - 600_000, end_2025 + 300_000, "probe"),),
        (ObservationRecord(start_2025, end_2026, end_2026),),
        stale_ms=48_000,
    )
    assert calendar_year_figures(history, 2025, end_2026).downtime_ms == 600_000
    assert calendar_year_figures(history, 2026, end_2026).downtime_ms == 300_000
    assert calendar_year_figures(history, 2026, end_2026).longest_ms == 900_000


def test_unobserved_time_is_no_data_and_never_up() -> None:
    start, end = year_bounds_ms(2025)
    gap = 40 * 60_000  # 40 minutes with the orchestrator stopped
    middle = start + 200 * DAY_MS
    history = PathHistory(
        "p",
        (),
        (ObservationRecord(start, middle, middle), ObservationRecord(middle + gap, end, end)),
        stale_ms=48_000,
    )
    figures = calendar_year_figures(history, 2025, end)
    assert (figures.downtime_ms, figures.no_data_ms, figures.unmonitored_ms) == (0, gap, 0)
    assert figures.availability_faults_only == 1
    assert figures.availability == 1 - Fraction(gap, 365 * DAY_MS)
    rule = load_pack()["network.availability"]
    assert judge_availability(rule, figures).status is Status.UNKNOWN


def test_time_before_the_first_observation_is_unmonitored() -> None:
    start, end = year_bounds_ms(2025)
    history = PathHistory("p", (), (ObservationRecord(end - DAY_MS, end, end),), stale_ms=48_000)
    figures = calendar_year_figures(history, 2025, end)
    assert figures.unmonitored_ms == 364 * DAY_MS
    assert figures.no_data_ms == 0
    assert judge_max_outage(load_pack()["network.max_outage"], figures).status is Status.UNKNOWN


def test_never_observed_is_unknown() -> None:
    _, end = year_bounds_ms(2025)
    figures = calendar_year_figures(PathHistory("p", (), (), 48_000), 2025, end)
    pack = load_pack()
    assert judge_availability(pack["network.availability"], figures).status is Status.UNKNOWN
    assert judge_max_outage(pack["network.max_outage"], figures).status is Status.UNKNOWN


def test_max_outage_is_strictly_below_two_hours() -> None:
    _, end = year_bounds_ms(2025)
    rule = load_pack()["network.max_outage"]
    below = calendar_year_figures(one_fault(2025, 7_199_999), 2025, end)
    at_limit = calendar_year_figures(one_fault(2025, 7_200_000), 2025, end)
    assert below.longest_ms == 7_199_999
    assert judge_max_outage(rule, below).status is Status.COMPLIANT
    assert judge_max_outage(rule, at_limit).status is Status.NON_COMPLIANT


def test_open_fault_lasts_while_the_path_is_observed_live() -> None:
    start, _ = year_bounds_ms(2025)
    now = start + 10 * DAY_MS
    history = PathHistory(
        "p",
        (OutageRecord(now - 90_000, None),),
        (ObservationRecord(start, now - 5_000, None),),
        stale_ms=48_000,
    )
    figures = calendar_year_figures(history, 2025, now)
    assert figures.downtime_ms == 90_000
    assert figures.no_data_ms == 0
    # the prober died long ago: the fault and the observation stop at the last probe
    later = now + DAY_MS
    stale = calendar_year_figures(history, 2025, later)
    assert stale.downtime_ms == 85_000
    assert stale.no_data_ms == DAY_MS + 5_000


def test_rolling_window_has_a_365_day_denominator() -> None:
    start, _ = year_bounds_ms(2024)
    at = start + 400 * DAY_MS
    history = PathHistory(
        "p",
        (OutageRecord(at - 10 * DAY_MS, at - 10 * DAY_MS + 60_000, "probe"),),
        (ObservationRecord(start, at, at),),
        stale_ms=48_000,
    )
    figures = rolling_figures(history, at)
    assert figures.denominator_ms == 365 * DAY_MS
    assert figures.availability == 1 - Fraction(60_000, 365 * DAY_MS)


def test_union_merges_overlaps() -> None:
    assert union_ms([(0, 10), (5, 20), (30, 40), (40, 41)]) == 31


def test_percent_is_truncated_never_rounded_up() -> None:
    assert format_percent(Fraction(99995, 100000)) == "99.995 %"
    assert format_percent(Fraction(999949999, 1000000000)) == "99.9949… %"
    assert format_percent(Fraction(1)) == "100 %"
