"""Metric families of network availability, from the outage ledger (docs/metrics.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from orchestrator.model.outage_records import PathHistory
from orchestrator.model.settings import Config
from orchestrator.rules.availability import (
    calendar_year_figures,
    observed_spans,
    open_outage_start_ms,
    rolling_figures,
    totals_ms,
    year_of_ms,
)
from orchestrator.rules.evaluate_network import configured_history
from orchestrator.rules.rule import RulePack


def _live(history: PathHistory, at_ms: int) -> bool:
    return any(end == at_ms for _, end in observed_spans(history, at_ms))


Families = dict[str, GaugeMetricFamily | CounterMetricFamily]
TARGET = ["target"]


def _network_families() -> Families:
    """Return the dr_network_* families, empty, in exposition order."""
    return {
        "up": GaugeMetricFamily(
            "dr_network_up",
            "1 up, 0 down after the vantage vote; absent while the path is not observed",
            labels=TARGET,
        ),
        "probes": CounterMetricFamily(
            "dr_network_probes", "Probes executed", labels=["target", "vantage"]
        ),
        "probe_failures": CounterMetricFamily(
            "dr_network_probe_failures", "Probes that failed", labels=["target", "vantage"]
        ),
        "observed": CounterMetricFamily(
            "dr_network_observed_seconds", "Seconds covered by valid measurements", labels=TARGET
        ),
        "downtime": CounterMetricFamily(
            "dr_network_downtime_seconds", "Seconds judged down (outage ledger)", labels=TARGET
        ),
        "outage_start": GaugeMetricFamily(
            "dr_network_outage_start_timestamp_seconds",
            "Start of the current fault (present only while down)",
            labels=TARGET,
        ),
        "last_end": GaugeMetricFamily(
            "dr_network_last_outage_end_timestamp_seconds",
            "End of the most recent fault",
            labels=TARGET,
        ),
        "outages": CounterMetricFamily(
            "dr_network_outages", "Faults, after merging short recoveries", labels=TARGET
        ),
        "availability": GaugeMetricFamily(
            "dr_network_availability_ratio",
            "1 - (fault + no-data time) / whole window (calendar year in Asia/Shanghai, or "
            "365 d), exact from the ledger, rounded for export",
            labels=["target", "window"],
        ),
        "longest": GaugeMetricFamily(
            "dr_network_outage_longest_seconds",
            "Longest closed fault in the calendar year",
            labels=["target", "year"],
        ),
        "objective": GaugeMetricFamily(
            "dr_network_availability_objective_ratio", "Availability objective", labels=TARGET
        ),
        "max_objective": GaugeMetricFamily(
            "dr_network_max_outage_objective_seconds",
            "A continuous fault must stay below this",
            labels=TARGET,
        ),
    }


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
    families = _network_families()
    at_ms = int(at * 1000)
    minimum = float(pack["network.availability"].value("min_ratio"))
    limit = float(pack["network.max_outage"].value("max_seconds"))
    counted = {(row.target, row.vantage): row for row in counters}
    for path in config.network.paths:
        families["objective"].add_metric([path.name], minimum)
        families["max_objective"].add_metric([path.name], limit)
        for vantage in path.vantages:
            row = counted.get((path.name, vantage))
            labels = [path.name, vantage]
            families["probes"].add_metric(labels, float(row.probes_total if row else 0))
            families["probe_failures"].add_metric(labels, float(row.failures_total if row else 0))
        history = configured_history(path, histories.get(path.name))
        _add_ledger(families, history, at_ms)
    return list(families.values())


def _to_last_probe(history: PathHistory) -> PathHistory:
    """Return the history with every open observation counted only up to its last probe
    round, for the _total counters. Counted live up to the scrape, as the gauges are, a counter
    fell back by up to stale_ms once the prober stopped (a restart, a dead probe thread), and
    Prometheus reads any fall as a reset: every increase() window over it, up to the 3-day and
    365-day ones, took the whole lifetime total as new time, which hid the burn rates."""
    return replace(history, stale_ms=-1)


def _add_ledger(families: Families, history: PathHistory, at_ms: int) -> None:
    """Add one path's ledger samples: observed and down time, faults, up, availability."""
    name = [history.target]
    observed_ms, downtime_ms = totals_ms(_to_last_probe(history), at_ms)
    families["observed"].add_metric(name, observed_ms / 1000)
    families["downtime"].add_metric(name, downtime_ms / 1000)
    families["outages"].add_metric(name, float(len(history.outages)))
    open_start = open_outage_start_ms(history, at_ms)
    if open_start is not None:
        families["outage_start"].add_metric(name, open_start / 1000)
    if _live(history, at_ms):
        families["up"].add_metric(name, 0.0 if open_start is not None else 1.0)
    ends = [o.end_ms for o in history.outages if o.end_ms is not None and o.end_ms <= at_ms]
    if ends:
        families["last_end"].add_metric(name, max(ends) / 1000)
    first = history.first_observed_ms
    if first is None or first > at_ms:
        return  # never observed: no availability to claim (not 1), no longest fault (not 0)
    year = year_of_ms(at_ms)
    figures = calendar_year_figures(history, year, at_ms)
    availability = families["availability"]
    availability.add_metric([history.target, "calendar_year"], float(figures.availability))
    rolling = rolling_figures(history, at_ms).availability
    availability.add_metric([history.target, "365d"], float(rolling))
    families["longest"].add_metric([history.target, str(year)], figures.longest_closed_ms / 1000)
