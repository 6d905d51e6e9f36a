"""The Prometheus collector: reads the catalog at scrape time and does nothing else (no
probing, no store listing), as the exporter guidelines ask. One snapshot per scrape; each part
(backups, offsite, verification, drills, deadlines, network, replication, restore_time, rules,
catalog_history) reports its own success and time in dr_scrape_collector_success /
dr_scrape_collector_duration_seconds.

`make_registry` holds the collector alone; exporters/http_server.py serves it on /metrics. The
collector gets the site's settings, rule pack and calendar as values.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from exporters.catalog_metrics import (
    ScrapeData,
    backup_metrics,
    drill_metrics,
    integrity_metrics,
    offsite_metrics,
    read_figures,
    verification_metrics,
)
from exporters.deadline_metrics import deadline_metrics
from exporters.network_metrics import network_metrics
from exporters.replication_metrics import replication_metrics
from exporters.restore_time_metrics import restore_time_metrics
from orchestrator import __version__
from orchestrator.errors import OrchestratorError
from orchestrator.model import schema
from orchestrator.model.catalog import Catalog, sqlite_file
from orchestrator.model.catalog_errors import catalog_problem, is_catalog_error
from orchestrator.model.migrate import require_current, require_present
from orchestrator.model.outages import load_counters
from orchestrator.model.settings import Config
from orchestrator.rules.evaluate import evaluate_all
from orchestrator.rules.judged import judged_snapshot
from orchestrator.rules.rule import RulePack
from orchestrator.rules.status import Status
from orchestrator.rules.workdays import WorkdayCalendar

logger = logging.getLogger(__name__)
FAILURES = (SQLAlchemyError, OrchestratorError, KeyError, ValueError, OSError)


CatalogSigns = Callable[[], Mapping[str, object]]  # sign -> its warning (truthy) or None


class _Part(Protocol):
    def __call__(self, data: ScrapeData, extra: dict[str, Any]) -> list[Metric]: ...


def _network(data: ScrapeData, extra: dict[str, Any]) -> list[Metric]:
    return network_metrics(
        data.config, data.pack, data.snapshot.network, extra["counters"], data.at
    )


def _catalog(data: ScrapeData, extra: dict[str, Any]) -> list[Metric]:  # noqa: ARG001
    """dr_catalog_warning{sign}: the signs `drctl status` warns of, that the catalog is an
    incomplete account of the site's history (a catalog put back from an older copy would
    otherwise show a point found bad as good, and its alert would resolve). Given by the
    process serving /metrics (actions/catalog_age.py); none without it."""
    signs: CatalogSigns | None = extra.get("catalog_signs")
    if signs is None:
        return []
    family = GaugeMetricFamily(
        "dr_catalog_warning",
        "1 while the catalog shows this sign of an incomplete history (docs/metrics.md)",
        labels=["sign"],
    )
    for sign, shown in sorted(signs().items()):
        family.add_metric([sign], 1.0 if shown else 0.0)
    return [family]


def _rules(data: ScrapeData, extra: dict[str, Any]) -> list[Metric]:
    family = GaugeMetricFamily(
        "dr_rule_status",
        "1 on the current status of rule x subject",
        labels=["rule", "subject", "status"],
    )
    findings = evaluate_all(
        data.config, data.pack, data.calendar, data.snapshot, datetime.fromtimestamp(data.at, UTC)
    )
    for finding in findings:
        for status in Status:
            family.add_metric(
                [finding.rule, finding.subject, str(status)],
                1.0 if finding.status is status else 0.0,
            )
    return [family]


PARTS: dict[str, _Part] = {
    "backups": lambda data, _extra: backup_metrics(data),
    "offsite": lambda data, _extra: offsite_metrics(data),
    "verification": lambda data, _extra: verification_metrics(data),
    "drills": lambda data, _extra: drill_metrics(data),
    "integrity": lambda data, _extra: integrity_metrics(data),
    "deadlines": lambda data, _extra: deadline_metrics(data),
    "network": _network,
    "replication": lambda data, _extra: replication_metrics(data),
    "restore_time": lambda data, _extra: restore_time_metrics(data),
    "rules": _rules,
    "catalog_history": _catalog,
}


class CatalogCollector(Collector):
    """Builds every dr_* family afresh from the catalog on each scrape."""

    def __init__(
        self,
        settings: Config,
        pack: RulePack,
        calendar: WorkdayCalendar,
        catalog: Catalog,
        clock: Callable[[], float] = time.time,
        catalog_signs: CatalogSigns | None = None,
    ) -> None:
        self.settings = settings
        self.pack = pack
        self.calendar = calendar
        self.catalog = catalog
        self.clock = clock
        self.catalog_signs = catalog_signs
        self._file_identity: tuple[int, int, int] | None = None

    def _follow_catalog(self) -> None:
        """Make this scrape read the catalog that is there now, at its current schema: raise
        CatalogSchemaMismatch when a SQLite catalog's file is gone (before anything would create
        it) or its schema is not this drctl's, and drop the pooled connections when another file
        took the path's place (moved aside, rebuilt, put back from a copy) or the file itself
        changed (its ctime: a write, which no one can set back). A pooled connection keeps
        reading the file it opened, and the pages it cached while the file's change counter
        stands still, so without this a long-running exporter went on publishing a moved-aside,
        deleted or overwritten catalog's figures as current. With WAL the main file changes at
        checkpoints only, so the pool is not dropped on every write."""
        file = sqlite_file(self.catalog.url)
        if file is not None:
            require_present(self.catalog.url)
            status = file.stat()
            identity = (status.st_dev, status.st_ino, status.st_ctime_ns)
            if identity != self._file_identity:
                self.catalog.engine.dispose()
                self._file_identity = identity
        require_current(self.catalog)

    def describe(self) -> Iterable[Metric]:
        """Return no descriptions, so registering does not scrape the catalog."""
        return []

    def _read(self) -> tuple[ScrapeData, dict[str, Any]]:
        # The instant judged is the scrape's, read from the clock now (never one fixed at
        # start-up, nor the newest row's), to the microsecond a datetime holds (the rules judge
        # datetime.fromtimestamp(at)): the snapshot and the figures are bounded by exactly it.
        at = datetime.fromtimestamp(self.clock(), UTC).timestamp()
        self._follow_catalog()
        with self.catalog.begin() as connection:
            cutoff = self.settings.calendar.business_date_cutoff_hour
            snapshot = judged_snapshot(connection, self.pack, at, self.calendar, cutoff)
            figures = read_figures(connection, at)
            drills = list(
                connection.execute(select(schema.drills).where(schema.drills.c.started_at <= at))
            )
            counters = load_counters(connection)
        data = ScrapeData(self.settings, self.pack, self.calendar, snapshot, figures, drills, at)
        return data, {"counters": counters, "catalog_signs": self.catalog_signs}

    def collect(self) -> Iterator[Metric]:
        """Yield every family; a part that fails reports success 0 and yields nothing."""
        info = GaugeMetricFamily("dr_exporter_build_info", "Always 1", labels=["version"])
        info.add_metric([__version__], 1.0)
        yield info
        success = GaugeMetricFamily(
            "dr_scrape_collector_success",
            "Whether the collector read its data in this scrape",
            labels=["collector"],
        )
        duration = GaugeMetricFamily(
            "dr_scrape_collector_duration_seconds",
            "Time the collector took in this scrape",
            labels=["collector"],
        )
        started = time.perf_counter()
        try:
            data, extra = self._read()
        except FAILURES as error:
            problem = catalog_problem(error, self.catalog.url) if is_catalog_error(error) else error
            logger.error("scrape: cannot read the catalog: %s", problem)
            for name in PARTS:
                success.add_metric([name], 0.0)
            yield success
            return
        read_seconds = time.perf_counter() - started
        for name, part in PARTS.items():
            begun = time.perf_counter()
            try:
                families = part(data, extra)
            except FAILURES as error:
                logger.error("scrape: collector %s failed: %s", name, error)
                success.add_metric([name], 0.0)
                families = []
            else:
                success.add_metric([name], 1.0)
            duration.add_metric([name], time.perf_counter() - begun + read_seconds)
            yield from families
        yield success
        yield duration


def make_registry(
    settings: Config,
    pack: RulePack,
    calendar: WorkdayCalendar,
    catalog: Catalog,
    catalog_signs: CatalogSigns | None = None,
) -> CollectorRegistry:
    """Return a registry holding only the catalog collector (no process/platform metrics);
    with catalog_signs, it also reports dr_catalog_warning."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(
        CatalogCollector(settings, pack, calendar, catalog, catalog_signs=catalog_signs)
    )
    return registry
