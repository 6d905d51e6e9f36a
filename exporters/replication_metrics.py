"""Metric families of the mirroring SLI (260号 第十一条), from one catalog snapshot per scrape
(names and meanings: docs/metrics.md).

Only configured systems and links are exported; a link that was never probed has no state
series (dr.mirroring is 无法判定 for it, which dr_rule_status carries).
"""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client.core import GaugeMetricFamily, Metric

from exporters.catalog_metrics import ScrapeData
from orchestrator.model.link_probe import STATES, ProbeRow
from orchestrator.rules import evaluate_mirroring as mirroring
from orchestrator.rules.finding import Context

LINK = ["system", "link"]


def _latest_probes(data: ScrapeData) -> dict[tuple[str, str], ProbeRow]:
    latest: dict[tuple[str, str], ProbeRow] = {}
    for probe in data.snapshot.replication_probes:
        if probe.probed_at <= data.at:
            latest[(probe.system, probe.link)] = probe
    return latest


def _families() -> tuple[GaugeMetricFamily, ...]:
    """Return the empty dr_replication_* families: state, lag, lag_bytes, probed, objective,
    healthy."""
    state = GaugeMetricFamily(
        "dr_replication_state",
        "1 on the state the last probe of the link found (streaming, stopped, not_replica, "
        "unreachable)",
        labels=[*LINK, "state"],
    )
    lag = GaugeMetricFamily(
        "dr_replication_lag_seconds",
        "Replay lag of the link's standby/replica at the last probe; absent when the server "
        "could not say (not streaming)",
        labels=LINK,
    )
    lag_bytes = GaugeMetricFamily(
        "dr_replication_lag_bytes",
        "Log received (read) but not yet replayed (executed) at the last probe",
        labels=LINK,
    )
    probed = GaugeMetricFamily(
        "dr_replication_last_probe_timestamp_seconds",
        "When the link was last probed",
        labels=LINK,
    )
    objective = GaugeMetricFamily(
        "dr_replication_lag_objective_seconds",
        "The system's replay-lag objective (replication.lag_objective_seconds in dr.yml)",
        labels=["system"],
    )
    healthy = GaugeMetricFamily(
        "dr_replication_healthy_ratio",
        "Share of the monitored part of the calendar year (Asia/Shanghai) the link was "
        "healthy: streaming within the lag objective",
        labels=LINK,
    )
    return state, lag, lag_bytes, probed, objective, healthy


def replication_metrics(data: ScrapeData) -> list[Metric]:
    """Return the dr_replication_* families."""
    families = _families()
    state, lag, lag_bytes, probed, objective, healthy = families
    latest = _latest_probes(data)
    context = Context(
        data.config, data.pack, data.calendar, data.snapshot, datetime.fromtimestamp(data.at, UTC)
    )
    start = mirroring.year_start(context)
    probes = data.snapshot.replication_probes
    for system in data.config.systems:
        settings = system.replication
        if settings is None:
            continue
        objective.add_metric([system.name], settings.lag_objective_seconds)
        mine = [p for p in probes if p.system == system.name]
        for link in settings.links:
            last = latest.get((system.name, link.name))
            if last is None:
                continue
            labels = [system.name, link.name]
            for name in STATES:
                state.add_metric([*labels, name], 1.0 if last.state == name else 0.0)
            if last.lag_seconds is not None:
                lag.add_metric(labels, last.lag_seconds)
            if last.lag_bytes is not None:
                lag_bytes.add_metric(labels, float(last.lag_bytes))
            probed.add_metric(labels, last.probed_at)
            figures = mirroring.link_figures(mine, link.name, start, data.at, settings)
            if figures.ratio is not None:
                healthy.add_metric(labels, figures.ratio)
    return list(families)
