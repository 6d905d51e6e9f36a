"""Availability windows at their edges: which year a moment and a fault belong to, staleness,
open faults, and every figure of WindowFigures exact to the millisecond.

All times are built from `year_bounds_ms` (Asia/Shanghai), so "2025" below is the Shanghai
calendar year: 1 January 00:00 +08:00 is 31 December 16:00 UTC.
"""

from __future__ import annotations

import datetime
from fractions import Fraction

import pytest

from orchestrator.model.outage_records import ObservationRecord, OutageRecord, PathHistory
from orchestrator.rules.availability import (
    DAY_MS,
    SHANGHAI,
    calendar_year_figures,
    clip,
    observed_spans,
    open_outage_start_ms,
    outage_spans,
    rolling_figures,
    seconds,
    totals_ms,
    union_ms,
    year_bounds_ms,
    year_of_ms,
)
from orchestrator.rules.figures import percent as format_percent

HOUR_MS = 3_600_000
START_2025, END_2025 = year_bounds_ms(2025)
START_2026, END_2026 = year_bounds_ms(2026)


def shanghai_ms(*fields: int) -> int:
    return int(datetime.datetime(*fields, tzinfo=SHANGHAI).timestamp()) * 1000


def observed(start: int, end: int, *outages: OutageRecord) -> PathHistory:
    return PathHistory("dc-dr", outages, (ObservationRecord(start, end, end),), stale_ms=48_000)


@pytest.mark.parametrize(
    ("moment", "year"),
    [
        (shanghai_ms(2025, 12, 15, 12, 0), 2025),  # mid-December: a 0.1 % scale error moves it
        (shanghai_ms(2025, 12, 31, 23, 59, 59), 2025),
        (shanghai_ms(2026, 1, 1, 0, 0), 2026),
        (shanghai_ms(2026, 1, 1, 0, 0) - 1, 2025),
        (shanghai_ms(2026, 7, 1, 0, 0), 2026),
    ],
)
def test_year_of_ms_is_the_shanghai_calendar_year(moment: int, year: int) -> None:
    assert year_of_ms(moment) == year


def test_year_bounds_are_shanghai_midnights() -> None:
    assert (START_2026, END_2026) == (shanghai_ms(2026, 1, 1), shanghai_ms(2027, 1, 1))
    assert START_2026 == END_2025
    assert START_2026 == 1_767_196_800_000  # 2025-12-31T16:00:00Z


def test_a_fault_wholly_in_2025_does_not_count_toward_2026() -> None:
    fault = OutageRecord(END_2025 - 5 * HOUR_MS, END_2025 - 2 * HOUR_MS, "probe")  # 3 h
    history = observed(START_2025, END_2026, fault)
    figures_2026 = calendar_year_figures(history, 2026, END_2026)
    assert (figures_2026.downtime_ms, figures_2026.outages) == (0, 0)
    assert (figures_2026.longest_ms, figures_2026.longest_closed_ms) == (0, 0)
    figures_2025 = calendar_year_figures(history, 2025, END_2026)
    assert (figures_2025.downtime_ms, figures_2025.outages) == (3 * HOUR_MS, 1)
    assert figures_2025.longest_ms == figures_2025.longest_closed_ms == 3 * HOUR_MS


def test_a_fault_wholly_in_2026_does_not_count_toward_2025() -> None:
    fault = OutageRecord(START_2026 + 2 * HOUR_MS, START_2026 + 5 * HOUR_MS, "probe")
    history = observed(START_2025, END_2026, fault)
    figures_2025 = calendar_year_figures(history, 2025, END_2026)
    assert (figures_2025.downtime_ms, figures_2025.outages, figures_2025.longest_ms) == (0, 0, 0)
    assert figures_2025.longest_closed_ms == 0


def test_a_fault_ending_exactly_at_new_year_belongs_to_the_old_year_only() -> None:
    fault = OutageRecord(END_2025 - HOUR_MS, END_2025, "probe")
    history = observed(START_2025, END_2026, fault)
    assert calendar_year_figures(history, 2026, END_2026).outages == 0
    assert calendar_year_figures(history, 2026, END_2026).longest_closed_ms == 0
    assert calendar_year_figures(history, 2025, END_2026).outages == 1
    starting = observed(START_2025, END_2026, OutageRecord(END_2025, END_2025 + HOUR_MS, "probe"))
    assert calendar_year_figures(starting, 2025, END_2026).outages == 0
    assert calendar_year_figures(starting, 2025, END_2026).longest_closed_ms == 0
    assert calendar_year_figures(starting, 2026, END_2026).longest_closed_ms == HOUR_MS


def test_a_fault_across_new_year_counts_whole_in_both_years_longest() -> None:
    fault = OutageRecord(END_2025 - HOUR_MS, END_2025 + 2 * HOUR_MS, "probe")
    history = observed(START_2025, END_2026, fault)
    for year in (2025, 2026):
        figures = calendar_year_figures(history, year, END_2026)
        assert figures.outages == 1
        assert figures.longest_ms == figures.longest_closed_ms == 3 * HOUR_MS
    assert calendar_year_figures(history, 2025, END_2026).downtime_ms == HOUR_MS
    assert calendar_year_figures(history, 2026, END_2026).downtime_ms == 2 * HOUR_MS


def test_every_figure_of_a_year_in_progress() -> None:
    first = START_2026 + 10 * DAY_MS  # unmonitored before this
    at = START_2026 + 40 * DAY_MS
    gap_start, gap_end = first + 5 * DAY_MS, first + 5 * DAY_MS + HOUR_MS  # no data
    history = PathHistory(
        "dc-dr",
        (
            OutageRecord(first + DAY_MS, first + DAY_MS + 2 * HOUR_MS, "probe"),
            OutageRecord(first + 2 * DAY_MS, first + 2 * DAY_MS + HOUR_MS, "probe"),
            OutageRecord(at - HOUR_MS, None),  # open, observed live up to `at`
        ),
        (
            ObservationRecord(first, gap_start, gap_start),
            ObservationRecord(gap_end, at - 1000, None),
        ),
        stale_ms=48_000,
    )
    figures = calendar_year_figures(history, 2026, at)
    assert figures.window == "calendar_year" and figures.label == "2026"
    assert (figures.start_ms, figures.end_ms) == (START_2026, END_2026)
    assert figures.elapsed_end_ms == at
    assert figures.denominator_ms == 365 * DAY_MS
    assert figures.downtime_ms == 4 * HOUR_MS
    assert figures.no_data_ms == HOUR_MS
    assert figures.unmonitored_ms == 10 * DAY_MS
    assert figures.outages == 3
    assert figures.longest_ms == 2 * HOUR_MS
    assert figures.longest_closed_ms == 2 * HOUR_MS
    assert figures.availability == 1 - Fraction(5 * HOUR_MS, 365 * DAY_MS)
    assert figures.availability_faults_only == 1 - Fraction(4 * HOUR_MS, 365 * DAY_MS)
    assert not figures.complete
    assert calendar_year_figures(history, 2026, END_2026).complete
    assert calendar_year_figures(history, 2026, END_2026 - 1).complete is False
    assert totals_ms(history, at) == (at - first - HOUR_MS, 4 * HOUR_MS)


def test_the_open_fault_is_the_longest_while_it_lasts() -> None:
    at = START_2026 + 3 * DAY_MS
    history = PathHistory(
        "p",
        (
            OutageRecord(START_2026 + DAY_MS, START_2026 + DAY_MS + HOUR_MS, "probe"),
            OutageRecord(at - 3 * HOUR_MS, None),
        ),
        (ObservationRecord(START_2026, at, None),),
        stale_ms=48_000,
    )
    figures = calendar_year_figures(history, 2026, at)
    assert figures.longest_ms == 3 * HOUR_MS
    assert figures.longest_closed_ms == HOUR_MS
    assert open_outage_start_ms(history, at) == at - 3 * HOUR_MS


def test_nothing_after_the_time_of_judgement_counts() -> None:
    at = START_2026 + 10 * DAY_MS
    history = PathHistory(
        "p",
        (
            OutageRecord(at - HOUR_MS, at + HOUR_MS, "probe"),  # closes after `at`
            OutageRecord(at + DAY_MS, at + DAY_MS + HOUR_MS, "probe"),  # starts after `at`
        ),
        (ObservationRecord(START_2026, at + 2 * DAY_MS, at + 2 * DAY_MS),),
        stale_ms=48_000,
    )
    figures = calendar_year_figures(history, 2026, at)
    assert figures.downtime_ms == HOUR_MS  # still open as of `at`: it lasts up to `at`
    assert figures.outages == 1
    assert figures.longest_closed_ms == 0
    assert outage_spans(history, at) == [(at - HOUR_MS, at)]
    assert observed_spans(history, at) == [(START_2026, at)]
    assert open_outage_start_ms(history, at) == at - HOUR_MS
    assert open_outage_start_ms(history, at + HOUR_MS) is None
    assert open_outage_start_ms(history, at - HOUR_MS) == at - HOUR_MS
    assert open_outage_start_ms(history, at - HOUR_MS - 1) is None


def test_a_fault_closed_exactly_at_the_time_of_judgement_is_closed() -> None:
    at = START_2026 + 10 * DAY_MS
    history = PathHistory(
        "p",
        (OutageRecord(at - HOUR_MS, at, "probe"),),
        (ObservationRecord(START_2026, at - 2 * HOUR_MS, None),),  # prober died before the end
        stale_ms=48_000,
    )
    assert outage_spans(history, at) == [(at - HOUR_MS, at)]
    assert calendar_year_figures(history, 2026, at).longest_closed_ms == HOUR_MS
    assert open_outage_start_ms(history, at) is None


def test_an_open_observation_is_live_up_to_exactly_stale_ms() -> None:
    last = START_2026 + DAY_MS
    history = PathHistory("p", (), (ObservationRecord(START_2026, last, None),), stale_ms=48_000)
    assert observed_spans(history, last + 48_000) == [(START_2026, last + 48_000)]
    assert observed_spans(history, last + 48_001) == [(START_2026, last)]
    closed = PathHistory("p", (), (ObservationRecord(START_2026, last, last),), stale_ms=48_000)
    assert observed_spans(closed, last + 1) == [(START_2026, last)]
    assert observed_spans(closed, START_2026 - 1) == []
    assert observed_spans(closed, START_2026) == [(START_2026, START_2026)]


def test_an_open_fault_of_a_dead_prober_ends_at_its_last_probe() -> None:
    last = START_2026 + DAY_MS
    history = PathHistory(
        "p",
        (OutageRecord(last - HOUR_MS, None), OutageRecord(last + HOUR_MS, None)),
        (ObservationRecord(START_2026, last, None),),
        stale_ms=48_000,
    )
    at = last + 2 * HOUR_MS
    assert outage_spans(history, at) == [(last - HOUR_MS, last), (last + HOUR_MS, last + HOUR_MS)]
    never = PathHistory("p", (OutageRecord(last, None),), (), stale_ms=48_000)
    assert outage_spans(never, at) == [(last, last)]
    assert history.first_observed_ms == START_2026
    assert never.first_observed_ms is None


def test_first_observed_is_the_earliest_observation() -> None:
    history = PathHistory(
        "p",
        (),
        (ObservationRecord(300, 400, 400), ObservationRecord(100, 200, 200)),
        stale_ms=48_000,
    )
    assert history.first_observed_ms == 100


def test_a_year_that_has_not_begun_has_no_elapsed_time() -> None:
    history = observed(START_2025, END_2025)
    figures = calendar_year_figures(history, 2026, END_2025 - DAY_MS)
    assert figures.elapsed_end_ms == START_2026
    assert (figures.downtime_ms, figures.no_data_ms, figures.unmonitored_ms) == (0, 0, 0)
    assert figures.availability == 1


def test_a_never_observed_path_is_unmonitored_throughout() -> None:
    at = START_2026 + 7 * DAY_MS
    figures = calendar_year_figures(PathHistory("p", (), (), 48_000), 2026, at)
    assert figures.unmonitored_ms == 7 * DAY_MS
    assert figures.no_data_ms == 0


def test_the_rolling_window_ends_at_the_time_of_judgement() -> None:
    at = START_2026 + 100 * DAY_MS
    history = observed(
        at - 400 * DAY_MS,
        at,
        OutageRecord(at - 366 * DAY_MS, at - 366 * DAY_MS + HOUR_MS, "probe"),  # too old
        OutageRecord(at - 364 * DAY_MS, at - 364 * DAY_MS + HOUR_MS, "probe"),
    )
    figures = rolling_figures(history, at)
    assert (figures.window, figures.label) == ("365d", "365d")
    assert (figures.start_ms, figures.end_ms) == (at - 365 * DAY_MS, at)
    assert figures.downtime_ms == HOUR_MS and figures.outages == 1
    assert figures.complete
    week = rolling_figures(history, at, days=7)
    assert (week.label, week.denominator_ms, week.downtime_ms) == ("7d", 7 * DAY_MS, 0)


def test_clip_keeps_only_the_parts_inside_the_window() -> None:
    assert clip([(0, 10), (5, 25), (20, 30), (30, 40)], 10, 30) == [(10, 25), (20, 30)]
    assert clip([(10, 10)], 0, 20) == []


def test_union_counts_each_millisecond_once() -> None:
    assert union_ms([]) == 0
    assert union_ms([(5, 5), (7, 3)]) == 0
    assert union_ms([(30, 40), (0, 10), (10, 20)]) == 30
    assert union_ms([(0, 100), (10, 20), (50, 60)]) == 100
    assert union_ms([(0, 10), (11, 12)]) == 11


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [
        (Fraction(1, 2), 4, "50 %"),
        (Fraction(0), 4, "0 %"),
        (Fraction(1, 3), 2, "33.33… %"),
        (Fraction(1, 3), 0, "33… %"),
        (Fraction(123, 100000), 4, "0.123 %"),
        (Fraction(1, 1000000), 4, "0.0001 %"),
        (Fraction(-1, 200), 4, "-0.5 %"),
        (Fraction(2), 4, "200 %"),
    ],
)
def test_format_percent_truncates_and_marks_cut_digits(
    value: Fraction, places: int, text: str
) -> None:
    assert format_percent(value, places) == text


def test_seconds_are_exact() -> None:
    assert seconds(1500) == Fraction(3, 2)
    assert seconds(1) == Fraction(1, 1000)
