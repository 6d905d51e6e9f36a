"""Probe rounds of one path: ask every vantage, vote, and write the round to the ledger."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from orchestrator.model.catalog import Catalog
from orchestrator.model.outage_records import stale_ms
from orchestrator.model.outages import load_outage_rows, record_round
from orchestrator.model.settings import Network, NetworkPath
from orchestrator.network.probers import make_probers
from orchestrator.network.probes import Prober, icmp_allowed
from orchestrator.network.tracker import Event, PathTracker

logger = logging.getLogger(__name__)


@dataclass
class PathMonitor:
    """The probers and fault state of one path."""

    path: NetworkPath
    probers: Mapping[str, Prober]
    tracker: PathTracker = field(init=False)
    recalled: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.tracker = PathTracker(
            tuple(self.probers), self.path.failures_to_open, int(self.path.merge_gap_seconds * 1000)
        )

    def _recall(self, catalog: Catalog) -> None:
        """Before the first round, carry on from the path's newest fault in the ledger: a fresh
        tracker forgot it, and a path still down after a restart of `drctl serve` opened a new
        fault, so a continuous fault was split in two (neither reaching 2 h) and its alerts
        resolved at the restart."""
        with catalog.begin() as connection:
            rows = load_outage_rows(connection, self.path.name)
        if rows:
            newest = rows[-1]
            end = None if newest.end_ms is None else int(newest.end_ms)
            unseen = stale_ms(self.path) if newest.closed_by in ("stop", "restart") else 0
            self.tracker.recall(int(newest.start_ms), end, unseen)
        self.recalled = True

    def probe_round(self, catalog: Catalog, clock: Callable[[], float] = time.time) -> list[Event]:
        """Probe from every vantage at once, feed the vote, record the round; return the
        fault events it caused. A round where some vantage gave no data records no vote."""
        if not self.recalled:
            self._recall(catalog)
        at_ms = int(clock() * 1000)
        results = self._ask_all()
        events: list[Event] = []
        if all(ok is not None for ok in results.values()):
            events = self.tracker.observe(at_ms, {v: bool(ok) for v, ok in results.items()})
        record_round(catalog, self.path.name, at_ms, results, events, stale_ms(self.path))
        for event in events:
            logger.warning("network path %s: %s", self.path.name, event)
        return events

    def _ask_all(self) -> dict[str, bool | None]:
        if len(self.probers) == 1:
            return {vantage: prober() for vantage, prober in self.probers.items()}
        with ThreadPoolExecutor(max_workers=len(self.probers)) as pool:
            futures = {vantage: pool.submit(prober) for vantage, prober in self.probers.items()}
            return {vantage: future.result() for vantage, future in futures.items()}


def build_monitors(
    network: Network,
    source: str,
    extra_probers: Mapping[str, Mapping[str, Prober]] | None = None,
) -> list[PathMonitor]:
    """Given the network settings and the config file they came from (for errors), return a
    monitor per network path. Paths of kind icmp are skipped
    (with a warning) when this node may not ping. extra_probers: {path: {vantage: prober}}.
    Raise InputError for a path this node cannot probe."""
    monitors = []
    icmp_ok: bool | None = None
    for index, path in enumerate(network.paths):
        if path.kind == "icmp":
            icmp_ok = icmp_allowed() if icmp_ok is None else icmp_ok
            if not icmp_ok:
                logger.warning(
                    "network path %s: ICMP is not permitted here; not probed "
                    "(its time counts as no data)",
                    path.name,
                )
                continue
        probers = make_probers(
            path,
            network.prometheus_url,
            source,
            f"network.paths[{index}]",
            (extra_probers or {}).get(path.name),
        )
        monitors.append(PathMonitor(path=path, probers=probers))
    return monitors
