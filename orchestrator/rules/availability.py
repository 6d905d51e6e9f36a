"""Exact availability of a network path from its outage ledger (260号 第五条, requirements A9).

All times are integer epoch milliseconds and every ratio is a `fractions.Fraction`, so
26.28 minutes of fault in a 365-day year is exactly 99.995 % (compliant) and one more second
is not. Definitions (docs/network.md):

- the denominator is the full wall-clock length of the window: the calendar year in
  Asia/Shanghai (365 or 366 days) or the rolling 365 days;
- downtime is the union of the path's faults inside the window, up to `at`;
- "no data" is time after the path was first observed that no valid measurement covers (the
  orchestrator was stopped, a vantage gave no answer); it is reported separately and counted as
  not fault-free (A9 v);
- "unmonitored" is the time in the window before the path was first observed at all.

availability = 1 − (downtime + no data) / denominator, so it only falls during a year and its
value at the year's end is the year's figure. Pure: no I/O.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from zoneinfo import ZoneInfo

from orchestrator.model.outage_records import PathHistory

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY_MS = 86_400_000
ROLLING_DAYS = 365

Span = tuple[int, int]


@dataclass(frozen=True)
class WindowFigures:
    """Availability figures of one path over one window, as of elapsed_end_ms."""

    window: str  # "calendar_year" | "365d"
    label: str  # "2026" | "365d"
    start_ms: int
    end_ms: int
    elapsed_end_ms: int
    denominator_ms: int
    downtime_ms: int
    no_data_ms: int
    unmonitored_ms: int
    outages: int
    longest_ms: int
    longest_closed_ms: int

    @property
    def availability(self) -> Fraction:
        """Return 1 − (downtime + no data) / denominator, exactly."""
        return 1 - Fraction(self.downtime_ms + self.no_data_ms, self.denominator_ms)

    @property
    def availability_faults_only(self) -> Fraction:
        """Return 1 − downtime / denominator, exactly (no-data time not counted)."""
        return 1 - Fraction(self.downtime_ms, self.denominator_ms)

    @property
    def complete(self) -> bool:
        """Return whether the window is over (its figure can no longer change)."""
        return self.elapsed_end_ms >= self.end_ms


def union_ms(spans: Iterable[Span]) -> int:
    """Given (start, end) spans, return the length of their union in ms."""
    total = 0
    current: Span | None = None
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if current is None or start > current[1]:
            if current is not None:
                total += current[1] - current[0]
            current = (start, end)
        else:
            current = (current[0], max(current[1], end))
    if current is not None:
        total += current[1] - current[0]
    return total


def clip(spans: Iterable[Span], low: int, high: int) -> list[Span]:
    """Given spans and a window [low, high), return the non-empty parts inside it."""
    return [(max(s, low), min(e, high)) for s, e in spans if min(e, high) > max(s, low)]


def observed_spans(history: PathHistory, at_ms: int) -> list[Span]:
    """Given a path's history, return the spans covered by valid measurements as of at_ms.

    An open observation whose last probe is at most stale_ms old is live up to at_ms; an older
    one (the prober died) counts only up to its last probe.
    """
    spans = []
    for obs in history.observations:
        if obs.start_ms > at_ms:
            continue
        end = obs.last_ms
        if obs.end_ms is None and at_ms - obs.last_ms <= history.stale_ms:
            end = at_ms
        spans.append((obs.start_ms, min(end, at_ms)))
    return spans


def outage_spans(history: PathHistory, at_ms: int) -> list[Span]:
    """Given a path's history, return its faults as spans as of at_ms; an open fault lasts up
    to the end of the last observation (at_ms while the path is observed live)."""
    observed_end = max((end for _, end in observed_spans(history, at_ms)), default=0)
    spans = []
    for outage in history.outages:
        if outage.start_ms > at_ms:
            continue
        if outage.end_ms is not None and outage.end_ms <= at_ms:
            spans.append((outage.start_ms, outage.end_ms))
        else:
            spans.append((outage.start_ms, max(outage.start_ms, observed_end)))
    return spans


def open_outage_start_ms(history: PathHistory, at_ms: int) -> int | None:
    """Return the start of the fault open at at_ms, None if the path is not down."""
    starts = [
        o.start_ms
        for o in history.outages
        if o.start_ms <= at_ms and (o.end_ms is None or o.end_ms > at_ms)
    ]
    return max(starts, default=None)


def year_bounds_ms(year: int) -> Span:
    """Given a calendar year, return its [start, end) in epoch ms, in Asia/Shanghai."""
    start = datetime.datetime(year, 1, 1, tzinfo=SHANGHAI)
    end = datetime.datetime(year + 1, 1, 1, tzinfo=SHANGHAI)
    return int(start.timestamp()) * 1000, int(end.timestamp()) * 1000


def year_of_ms(at_ms: int) -> int:
    """Given epoch ms, return the calendar year in Asia/Shanghai."""
    return datetime.datetime.fromtimestamp(at_ms / 1000, SHANGHAI).year


def window_figures(
    history: PathHistory, window: str, label: str, bounds: Span, at_ms: int, denominator_ms: int
) -> WindowFigures:
    """Given a path's history, a window [start, end) and a time, return the window's figures
    as of that time (nothing after at_ms counts)."""
    start, end = bounds
    elapsed_end = max(start, min(end, at_ms))
    outages = clip(outage_spans(history, at_ms), start, elapsed_end)
    observed = clip(observed_spans(history, at_ms), start, elapsed_end)
    first = history.first_observed_ms
    monitored_from = elapsed_end if first is None else min(max(start, first), elapsed_end)
    covered = union_ms(clip(outages + observed, monitored_from, elapsed_end))
    in_window = [(s, e) for s, e in outage_spans(history, at_ms) if e > start and s < end]
    closed = [
        o
        for o in history.outages
        if o.end_ms is not None and o.end_ms <= at_ms and o.end_ms > start and o.start_ms < end
    ]
    return WindowFigures(
        window=window,
        label=label,
        start_ms=start,
        end_ms=end,
        elapsed_end_ms=elapsed_end,
        denominator_ms=denominator_ms,
        downtime_ms=union_ms(outages),
        no_data_ms=(elapsed_end - monitored_from) - covered,
        unmonitored_ms=monitored_from - start,
        outages=len(in_window),
        longest_ms=max((e - s for s, e in in_window), default=0),
        longest_closed_ms=max(
            (o.end_ms - o.start_ms for o in closed if o.end_ms is not None), default=0
        ),
    )


def calendar_year_figures(history: PathHistory, year: int, at_ms: int) -> WindowFigures:
    """Return the figures of a calendar year (Asia/Shanghai) as of at_ms; the denominator is
    the whole year (365 or 366 days)."""
    bounds = year_bounds_ms(year)
    return window_figures(history, "calendar_year", str(year), bounds, at_ms, bounds[1] - bounds[0])


def rolling_figures(history: PathHistory, at_ms: int, days: int = ROLLING_DAYS) -> WindowFigures:
    """Return the figures of the `days` days ending at at_ms (denominator: `days` days)."""
    return window_figures(
        history, f"{days}d", f"{days}d", (at_ms - days * DAY_MS, at_ms), at_ms, days * DAY_MS
    )


def totals_ms(history: PathHistory, at_ms: int) -> tuple[int, int]:
    """Return (observed, downtime) in ms over the path's whole history up to at_ms."""
    return (union_ms(observed_spans(history, at_ms)), union_ms(outage_spans(history, at_ms)))


def seconds(ms: int) -> Fraction:
    """Given ms, return exact seconds."""
    return Fraction(ms, 1000)
