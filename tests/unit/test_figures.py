"""The one number formatter of findings: truncated, never rounded, never scientific."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.model.outage_records import ObservationRecord, OutageRecord, PathHistory
from orchestrator.rules import figures
from orchestrator.rules.availability import calendar_year_figures, year_bounds_ms
from orchestrator.rules.evaluate_network import judge_availability
from orchestrator.rules.pack import load_pack
from orchestrator.rules.status import Status
from tests.fixtures.catalog_rows import check, local, one, point, snapshot

PACK = load_pack()


def test_a_failing_sample_is_never_shown_at_the_limit() -> None:
    assert figures.percent(Fraction(999999, 10000000)) == "9.9999… %"
    assert figures.percent(Fraction(1, 10)) == "10 %"
    history = [point("ledger", date(2024, 1, 2))]
    snap = snapshot(history, verifications=[check(date(2024, 3, 1), sample=(999999, 10**7, 1, 10))])
    finding = one("verify.sample", snap, local(date(2024, 3, 2)), "all")
    assert finding.status is Status.NON_COMPLIANT
    assert "bytes 9.9999… % (999999/10000000)" in finding.measured
    assert "10.0" not in finding.measured


def test_faults_one_millisecond_over_the_budget_print_over_it() -> None:
    start, end = year_bounds_ms(2026)
    history = PathHistory(
        "p",
        (OutageRecord(start + 1000, start + 1000 + 1_576_801, "probe"),),
        (ObservationRecord(start, end, end),),
        stale_ms=48_000,
    )
    verdict = judge_availability(
        PACK["network.availability"], calendar_year_figures(history, 2026, end)
    )
    assert verdict.status is Status.NON_COMPLIANT
    assert "faults 1576.801 s" in verdict.measured
    assert verdict.reason == "faults exceed the year's budget of 1576.8 s"


def test_no_scientific_notation() -> None:
    assert figures.seconds(15_638_400.0) == "15638400 s"
    assert figures.seconds(1.56384e07) == "15638400 s"
    assert figures.fixed(1e-07, 3) == "0…"
    assert figures.number(Fraction(1, 10**12)) == "0.000000000001"
    assert figures.hours(Decimal("2.50")) == "2.5 h"


def test_floats_are_read_by_their_shortest_form() -> None:
    assert figures.fixed(0.29, 2) == "0.29"  # not 0.28 from the binary value below 0.29
    assert figures.fixed(0.1 + 0.2, 3) == "0.3…"  # 0.30000000000000004 is above 0.3


def test_exact_numbers_keep_their_p_over_q_form() -> None:
    assert figures.number(Fraction(99995, 100000)) == "0.99995"
    assert figures.number(Fraction(1, 3)) == "1/3"
    assert figures.number(7) == "7"


def test_nan_is_refused() -> None:
    with pytest.raises(ValueError, match="not a finite number"):
        figures.fixed(float("nan"), 2)


@settings(deadline=None, max_examples=300)
@given(
    st.fractions(min_value=-(10**9), max_value=10**9, max_denominator=10**9),
    st.integers(min_value=0, max_value=8),
)
def test_shown_figure_is_truncated_towards_zero_and_marked(value: Fraction, places: int) -> None:
    text = figures.fixed(value, places)
    assert "e" not in text and "E" not in text
    shown = Fraction(text.removesuffix(figures.ELLIPSIS) or "0")
    assert abs(shown) <= abs(value)
    assert abs(value) - abs(shown) < Fraction(1, 10**places)
    assert text.endswith(figures.ELLIPSIS) == (shown != value)
