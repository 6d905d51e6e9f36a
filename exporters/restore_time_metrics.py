"""Metric families of restore times against their objectives (R140), from one catalog
snapshot per scrape (names and meanings: docs/metrics.md)."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily, Metric

from exporters.catalog_metrics import ScrapeData
from orchestrator.model.restore_times import RestoreTiming


def restore_time_metrics(data: ScrapeData) -> list[Metric]:
    """Return the dr_restore_last_duration_seconds and objective families."""
    duration = GaugeMetricFamily(
        "dr_restore_last_duration_seconds",
        "Duration of the last timed restore of the dataset, by kind (verify: a sampled "
        "validity check; failover, failback: a drill step)",
        labels=["system", "dataset", "kind"],
    )
    finished = GaugeMetricFamily(
        "dr_restore_last_timestamp_seconds",
        "When the last timed restore of the dataset, by kind, finished",
        labels=["system", "dataset", "kind"],
    )
    objective = GaugeMetricFamily(
        "dr_restore_duration_objective_seconds",
        "The system's restore-time objective (restore_time_objective_seconds in dr.yml)",
        labels=["system"],
    )
    systems = {system.name: system for system in data.config.systems}
    latest: dict[tuple[str, str, str], RestoreTiming] = {}
    for timing in data.snapshot.restore_timings:
        if timing.system in systems and timing.finished_at <= data.at:
            latest[(timing.system, timing.dataset, timing.kind)] = timing
    for key, timing in sorted(latest.items()):
        duration.add_metric(list(key), timing.duration_seconds)
        finished.add_metric(list(key), timing.finished_at)
    for system in data.config.systems:
        if system.restore_time_objective_seconds is not None:
            objective.add_metric([system.name], system.restore_time_objective_seconds)
    return [duration, finished, objective]
