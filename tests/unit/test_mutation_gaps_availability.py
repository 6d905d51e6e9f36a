"""Gaps in rules/availability.py that mutation testing found (issue 16).

- The figures do not depend on the order of the ledger's records: a history built in another
  order (a merge, a restore of the catalog) gives the same year.
- A fault that opens exactly at the time of judgement is already an outage (count 1, 0 ms):
  the path is down at that instant, and the metric and the evidence must say so.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from orchestrator.model.outage_records import ObservationRecord, OutageRecord, PathHistory
from orchestrator.rules.availability import calendar_year_figures, open_outage_start_ms

SHANGHAI = ZoneInfo("Asia/Shanghai")
MINUTE = 60_000


def shanghai_ms(*fields: int) -> int:
    return int(datetime.datetime(*fields, tzinfo=SHANGHAI).timestamp()) * 1000


def test_the_order_of_the_records_does_not_change_the_figures() -> None:
    start = shanghai_ms(2026, 1, 1)
    at = shanghai_ms(2026, 3, 1)
    observations = (
        ObservationRecord(start, shanghai_ms(2026, 1, 20), shanghai_ms(2026, 1, 20)),
        ObservationRecord(shanghai_ms(2026, 1, 21), at - MINUTE),
        # a stretch that starts after the time of judgement: it does not count yet
        ObservationRecord(at + MINUTE, at + 2 * MINUTE),
    )
    outages = (
        OutageRecord(shanghai_ms(2026, 1, 5), shanghai_ms(2026, 1, 5) + 3 * MINUTE),
        OutageRecord(shanghai_ms(2026, 2, 1), shanghai_ms(2026, 2, 1) + 7 * MINUTE),
        OutageRecord(at + MINUTE, None),  # opens after the time of judgement
    )
    ordered = PathHistory("dc-link", outages, observations, stale_ms=5 * MINUTE)
    shuffled = PathHistory(
        "dc-link", tuple(reversed(outages)), tuple(reversed(observations)), stale_ms=5 * MINUTE
    )
    figures = calendar_year_figures(ordered, 2026, at)
    assert (figures.downtime_ms, figures.outages, figures.longest_ms) == (
        10 * MINUTE,
        2,
        7 * MINUTE,
    )
    assert figures.no_data_ms == shanghai_ms(2026, 1, 21) - shanghai_ms(2026, 1, 20)
    assert calendar_year_figures(shuffled, 2026, at) == figures


def test_a_fault_opening_at_the_time_of_judgement_is_an_outage_already() -> None:
    start = shanghai_ms(2026, 1, 1)
    at = shanghai_ms(2026, 6, 1)
    history = PathHistory(
        "dc-link", (OutageRecord(at, None),), (ObservationRecord(start, at),), stale_ms=MINUTE
    )
    figures = calendar_year_figures(history, 2026, at)
    assert (figures.outages, figures.downtime_ms, figures.longest_ms) == (1, 0, 0)
    assert open_outage_start_ms(history, at) == at
