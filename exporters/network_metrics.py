"""Metric families of network availability, from the outage ledger (docs/metrics.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from orchestrator.model.outage_records import PathHistory, stale_ms
from orchestrator.model.settings import Config
from orchestrator.rules.availability import (
    calendar_year_figures,
    observed_spans,
    open_outage_start_ms,
    rolling_figures,
    totals_ms,
    year_of_ms,
)
from orchestrator.rules.rule import RulePack


def _live(history: PathHistory, at_ms: int) -> bool:
    return any(end == at_ms for _, end in observed_spans(history, at_ms))


def network_metrics(
    config: Config,
    pack: RulePack,
    histories: Mapping[str, PathHistory],
    counters: Sequence[Any],
    at: float,
) -> list[Metric]:
    """Given the config, rule pack, ledger histories, probe counter rows and the scrape time,
    return the dr_network_* families. Every configured path gets its counters from 0, so
    `increase()` sees the first fault."""
    target = ["target"]
    up = GaugeMetricFamily(
        "dr_network_up",
        "1 up, 0 down after the vantage vote; absent while the path is not observed",
        labels=target,
    )
    probes = CounterMetricFamily(
        "dr_network_probes", "Probes executed", labels=["target", "vantage"]
    )
    probe_failures = CounterMetricFamily(
        "dr_network_probe_failures", "Probes that failed", labels=["target", "vantage"]
    )
    observed = CounterMetricFamily(
        "dr_network_observed_seconds", "Seconds covered by valid measurements", labels=target
    )
    downtime = CounterMetricFamily(
        "dr_network_downtime_seconds", "Seconds judged down (outage ledger)", labels=target
    )
    outage_start = GaugeMetricFamily(
        "dr_network_outage_start_timestamp_seconds",
        "Start of the current fault (present only while down)",
        labels=target,
    )
    last_end = GaugeMetricFamily(
        "dr_network_last_outage_end_timestamp_seconds",
        "End of the most recent fault",
        labels=target,
    )
    outages = CounterMetricFamily(
        "dr_network_outages", "Faults, after merging short recoveries", labels=target
    )
    availability = GaugeMetricFamily(
        "dr_network_availability_ratio",
        "1 - (fault + no-data time) / whole window (calendar year in Asia/Shanghai, or 365 d), "
        "exact from the ledger, rounded for export",
        labels=["target", "window"],
    )
    longest = GaugeMetricFamily(
        "dr_network_outage_longest_seconds",
        "Longest closed fault in the calendar year",
        labels=["target", "year"],
    )
    objective = GaugeMetricFamily(
        "dr_network_availability_objective_ratio", "Availability objective", labels=target
    )
    max_objective = GaugeMetricFamily(
        "dr_network_max_outage_objective_seconds",
        "A continuous fault must stay below this",
        labels=target,
    )
    at_ms = int(at * 1000)
    year = year_of_ms(at_ms)
    minimum = float(pack["network.availability"].value("min_ratio"))
    limit = float(pack["network.max_outage"].value("max_seconds"))
    counted = {(row.target, row.vantage): row for row in counters}
    for path in config.network.paths:
        known = histories.get(path.name)
        history = PathHistory(
            path.name,
            known.outages if known else (),
            known.observations if known else (),
            stale_ms(path),
        )
        name = [path.name]
        objective.add_metric(name, minimum)
        max_objective.add_metric(name, limit)
        for vantage in path.vantages:
            row = counted.get((path.name, vantage))
            probes.add_metric([path.name, vantage], float(row.probes_total if row else 0))
            probe_failures.add_metric([path.name, vantage], float(row.failures_total if row else 0))
        observed_ms, downtime_ms = totals_ms(history, at_ms)
        observed.add_metric(name, observed_ms / 1000)
        downtime.add_metric(name, downtime_ms / 1000)
        outages.add_metric(name, float(len(history.outages)))
        open_start = open_outage_start_ms(history, at_ms)
        if open_start is not None:
            outage_start.add_metric(name, open_start / 1000)
        if _live(history, at_ms):
            up.add_metric(name, 0.0 if open_start is not None else 1.0)
        ends = [o.end_ms for o in history.outages if o.end_ms is not None and o.end_ms <= at_ms]
        if ends:
            last_end.add_metric(name, max(ends) / 1000)
        figures = calendar_year_figures(history, year, at_ms)
        availability.add_metric([path.name, "calendar_year"], float(figures.availability))
        availability.add_metric(
            [path.name, "365d"], float(rolling_figures(history, at_ms).availability)
        )
        longest.add_metric([path.name, str(year)], figures.longest_closed_ms / 1000)
    return [
        up,
        probes,
        probe_failures,
        observed,
        downtime,
        outage_start,
        last_end,
        outages,
        availability,
        longest,
        objective,
        max_objective,
    ]
