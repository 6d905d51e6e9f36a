"""The network figures across a stop of the prober or a restart of `drctl serve`: the _total
counters never fall (Prometheus reads any fall as a reset), and a fault still on when probing
resumes goes on (a restart is not a recovery)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from exporters.collector import CatalogCollector
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.model.catalog import Catalog
from orchestrator.model.migrate import upgrade_catalog
from orchestrator.model.outages import close_open, load_outage_rows
from orchestrator.network.monitor import PathMonitor
from orchestrator.site import LoadedSite, load_site

NOW = 1_795_000_000.0
INTERVAL = 10  # stale after 3 intervals + the 2 s timeout: 32 s
COUNTERS = ("dr_network_observed_seconds_total", "dr_network_downtime_seconds_total")


@pytest.fixture
def site(tmp_path: Path) -> LoadedSite:
    config_path = prepare_sandbox(tmp_path / "sandbox")
    document = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    path = {"name": "dc-dr", "kind": "tcp", "target": "127.0.0.1:9"}
    document["network"] = {"paths": [{**path, "interval_seconds": INTERVAL, "timeout_seconds": 2}]}
    config_path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return load_site(config_path)


@pytest.fixture
def catalog(site: LoadedSite) -> Iterator[Catalog]:
    """A catalog whose path answered 4 rounds, then failed 8 (a fault open at the last)."""
    catalog = Catalog(site.config.catalog_url)
    upgrade_catalog(catalog)
    answers = iter("....xxxxxxxx")
    path = site.config.model.network.paths[0]
    monitor = PathMonitor(path=path, probers={"local": lambda: next(answers) == "."})
    for round_number in range(12):
        monitor.probe_round(catalog, clock=lambda n=round_number: NOW + INTERVAL * n)
    yield catalog
    catalog.close()


def counters(site: LoadedSite, catalog: Catalog, at: float) -> tuple[float, ...]:
    registry = CollectorRegistry(auto_describe=False)
    model = site.config.model
    registry.register(CatalogCollector(model, site.pack, site.calendar, catalog, clock=lambda: at))
    values = {s.name: s.value for family in registry.collect() for s in family.samples}
    return tuple(values[name] for name in COUNTERS)


def test_the_counters_never_fall_when_the_prober_stops(site: LoadedSite, catalog: Catalog) -> None:
    last = NOW + INTERVAL * 11
    seen = [counters(site, catalog, at) for at in (last, last + 5, last + 32, last + 33)]
    close_open(catalog, "restart")
    seen.append(counters(site, catalog, last + 40))
    for before, after in zip(seen, seen[1:], strict=False):
        assert after[0] >= before[0] and after[1] >= before[1], seen
    assert seen[-1] == (110.0, 70.0)  # up to the last probe round: observed, and down from 40 s


def faults_after_a_restart(site: LoadedSite, catalog: Catalog, first_round: float) -> list[Any]:
    """Close what serve left open as a restart does, probe the still failing path three rounds
    from first_round on with a fresh monitor; return the ledger's faults (start, end) in ms."""
    close_open(catalog, "restart")
    path = site.config.model.network.paths[0]
    after_restart = PathMonitor(path=path, probers={"local": lambda: False})
    for round_number in range(3):
        after_restart.probe_round(catalog, clock=lambda n=round_number: first_round + INTERVAL * n)
    with catalog.begin() as connection:
        return [(row.start_ms, row.end_ms) for row in load_outage_rows(connection, "dc-dr")]


def test_a_fault_goes_on_across_a_restart_of_serve(site: LoadedSite, catalog: Catalog) -> None:
    """The path is down from round 4 (NOW + 40 s) and still is when serve, restarted, probes
    again an interval after its last round: one fault since NOW + 40 s (no success was seen)."""
    last = NOW + INTERVAL * 11
    assert faults_after_a_restart(site, catalog, last + INTERVAL) == [(int(NOW + 40) * 1000, None)]
    registry = CollectorRegistry(auto_describe=False)
    model = site.config.model
    at = last + 4 * INTERVAL
    registry.register(CatalogCollector(model, site.pack, site.calendar, catalog, clock=lambda: at))
    values = {s.name: s.value for family in registry.collect() for s in family.samples}
    assert values["dr_network_outage_start_timestamp_seconds"] == NOW + 40


def test_after_a_gap_longer_than_stale_a_new_fault_opens(
    site: LoadedSite, catalog: Catalog
) -> None:
    """Back after 33 s (> 3 intervals + the timeout) the gap is no data, as the ledger says."""
    last = NOW + INTERVAL * 11
    faults = faults_after_a_restart(site, catalog, last + 33)
    assert faults == [(int(NOW + 40) * 1000, int(last) * 1000), (int(last + 33) * 1000, None)]


def test_a_path_never_probed_claims_no_availability(site: LoadedSite) -> None:
    """Configured but never observed (ICMP not allowed, serve not started): its counters are at
    0, and no availability ratio says 1 (a green 100 % on the dashboard) for it."""
    catalog = Catalog(site.config.catalog_url)
    upgrade_catalog(catalog)
    registry = CollectorRegistry(auto_describe=False)
    model = site.config.model
    registry.register(CatalogCollector(model, site.pack, site.calendar, catalog, clock=lambda: NOW))
    names = {s.name: s.value for family in registry.collect() for s in family.samples}
    catalog.close()
    assert names["dr_network_observed_seconds_total"] == 0
    assert "dr_network_availability_ratio" not in names
    assert "dr_network_outage_longest_seconds" not in names
