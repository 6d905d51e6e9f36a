"""The outage ledger in a catalog: rounds, merging, and a restart that loses nothing."""

from __future__ import annotations

from pathlib import Path

from orchestrator.model.catalog import Catalog
from orchestrator.model.migrate import upgrade_catalog
from orchestrator.model.outage_records import stale_ms
from orchestrator.model.outages import (
    close_open,
    load_counters,
    load_history,
    load_outage_rows,
)
from orchestrator.model.settings import NetworkPath
from orchestrator.network.monitor import PathMonitor
from orchestrator.rules.availability import calendar_year_figures, year_bounds_ms

STEP = 1_000


def make_catalog(tmp_path: Path) -> Catalog:
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    upgrade_catalog(catalog)
    return catalog


class Script:
    """A prober and clock driven by a string: '.' up, 'x' down, '?' no data."""

    def __init__(self, pattern: str, start_ms: int) -> None:
        self.pattern = pattern
        self.index = -1
        self.start_ms = start_ms

    def clock(self) -> float:
        self.index += 1
        return (self.start_ms + self.index * STEP) / 1000

    def probe(self) -> bool | None:
        mark = self.pattern[self.index]
        return None if mark == "?" else mark == "."


def run(catalog: Catalog, path: NetworkPath, pattern: str, start_ms: int) -> PathMonitor:
    script = Script(pattern, start_ms)
    monitor = PathMonitor(path=path, probers={"local": script.probe})
    for _ in pattern:
        monitor.probe_round(catalog, clock=script.clock)
    return monitor


PATH = NetworkPath(
    name="dc-dr",
    kind="tcp",
    target="127.0.0.1:9",
    interval_seconds=1,
    timeout_seconds=1,
    merge_gap_seconds=3,
)
T0 = year_bounds_ms(2025)[0] + 86_400_000


def test_rounds_write_one_fault_with_first_failure_start(tmp_path: Path) -> None:
    catalog = make_catalog(tmp_path)
    run(catalog, PATH, "..xxx..", T0)
    with catalog.begin() as connection:
        rows = load_outage_rows(connection, "dc-dr")
        counters = load_counters(connection)
    assert [(r.start_ms, r.end_ms, r.closed_by) for r in rows] == [
        (T0 + 2 * STEP, T0 + 5 * STEP, "probe")
    ]
    assert [(c.vantage, c.probes_total, c.failures_total) for c in counters] == [("local", 7, 3)]


def test_short_recovery_merges_in_the_ledger(tmp_path: Path) -> None:
    catalog = make_catalog(tmp_path)
    run(catalog, PATH, ".xx.xx..", T0)  # recovery of 1 s < merge gap 3 s
    with catalog.begin() as connection:
        rows = load_outage_rows(connection, "dc-dr")
    assert [(r.start_ms, r.end_ms, r.merged) for r in rows] == [(T0 + STEP, T0 + 6 * STEP, 1)]


def test_no_data_rounds_are_reported_separately(tmp_path: Path) -> None:
    catalog = make_catalog(tmp_path)
    run(catalog, PATH, "...??...", T0)
    with catalog.begin() as connection:
        history = load_history(connection, "dc-dr", stale_ms(PATH))
    figures = calendar_year_figures(history, 2025, T0 + 7 * STEP)
    assert figures.downtime_ms == 0
    assert figures.no_data_ms == 3 * STEP  # from the probe at 2 s to the next answer at 5 s
    assert len(history.observations) == 2


def test_restart_closes_the_open_fault_at_the_last_observation(tmp_path: Path) -> None:
    catalog = make_catalog(tmp_path)
    run(catalog, PATH, "..xxxx", T0)  # the orchestrator dies while the path is down
    # … and comes back ten minutes later
    closed = close_open(catalog, "restart")
    assert closed == [{"target": "dc-dr", "start_ms": T0 + 2 * STEP, "end_ms": T0 + 5 * STEP}]
    restart_ms = T0 + 600_000
    run(catalog, PATH, "...", restart_ms)
    with catalog.begin() as connection:
        rows = load_outage_rows(connection, "dc-dr")
        history = load_history(connection, "dc-dr", stale_ms(PATH))
    assert [(r.end_ms, r.closed_by) for r in rows] == [(T0 + 5 * STEP, "restart")]
    figures = calendar_year_figures(history, 2025, restart_ms + 2 * STEP)
    assert figures.downtime_ms == 3 * STEP
    assert figures.no_data_ms == restart_ms - (T0 + 5 * STEP)
    assert figures.outages == 1


def test_clean_stop_closes_observations(tmp_path: Path) -> None:
    catalog = make_catalog(tmp_path)
    run(catalog, PATH, "....", T0)
    close_open(catalog, "stop", ["dc-dr"])
    with catalog.begin() as connection:
        history = load_history(connection, "dc-dr", stale_ms(PATH))
    assert [(o.start_ms, o.end_ms) for o in history.observations] == [(T0, T0 + 3 * STEP)]
