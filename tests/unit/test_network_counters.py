"""The network _total counters never fall: not when the prober stops (a restart, a dead probe
thread), nor when a restart closes what was left open. Prometheus reads any fall as a reset."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from exporters.collector import CatalogCollector
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.model.catalog import Catalog
from orchestrator.model.migrate import upgrade_catalog
from orchestrator.model.outages import close_open
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
