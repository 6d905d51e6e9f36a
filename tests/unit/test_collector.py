"""The catalog collector: a fresh registry over a tmp catalog with a ledger and a backup."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from exporters.collector import CatalogCollector
from exporters.http_server import parse_listen
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.errors import InputError
from orchestrator.model import catalog as cat
from orchestrator.model import schema
from orchestrator.model.catalog import Catalog
from orchestrator.model.migrate import upgrade_catalog
from orchestrator.model.snapshot import read_catalog
from orchestrator.network.monitor import PathMonitor
from orchestrator.rules.evaluate import evaluate_all
from orchestrator.rules.evaluate_network import network_status
from orchestrator.rules.timezone import SHANGHAI
from orchestrator.rules.workdays import package_years
from orchestrator.site import LoadedSite, load_site

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC).timestamp()


@pytest.fixture
def loaded(tmp_path: Path) -> LoadedSite:
    config_path = prepare_sandbox(tmp_path / "sandbox")
    document = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    document["network"] = {
        "paths": [
            {"name": "dc-dr", "kind": "tcp", "target": "127.0.0.1:9", "interval_seconds": 1},
            {"name": "egress", "kind": "tcp", "target": "127.0.0.1:9", "interval_seconds": 1},
        ]
    }
    config_path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return load_site(config_path)


def scrape(config: LoadedSite, catalog: Catalog, at: float) -> dict[tuple, float]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(
        CatalogCollector(
            config.config.model, config.pack, config.calendar, catalog, clock=lambda: at
        )
    )
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in registry.collect()
        for s in family.samples
    }


def test_collector_exports_ledger_backups_and_rule_status(loaded: LoadedSite) -> None:
    catalog = Catalog(loaded.config.catalog_url)
    upgrade_catalog(catalog)
    path = loaded.config.model.network.paths[0]
    pattern = iter("..xxx" + "." * 5)
    ticks = iter(NOW - 10 + i for i in range(10))
    monitor = PathMonitor(path=path, probers={"local": lambda: next(pattern) == "."})
    for _ in range(9):
        monitor.probe_round(catalog, clock=lambda: next(ticks))
    with catalog.begin() as connection:
        cat.record_recovery_point(
            connection,
            {
                "id": "20261124T000000Z-abcdef",
                "system": "core-banking",
                "dataset": "ledger",
                "engine": "sqlite",
                "business_date": "2026-11-23",
                "started_at": NOW - 3600,
                "finished_at": NOW - 3500,
                "source_site": "production",
                "source_host": "h",
                "hash_algorithm": "sha256",
                "manifest_sha256": "0" * 64,
                "total_bytes": 4096,
                "file_count": 1,
                "status": "complete",
            },
        )
    samples = scrape(loaded, catalog, NOW - 1)
    dc = (("target", "dc-dr"),)
    assert samples[("dr_network_downtime_seconds_total", dc)] == 3.0
    # up to the last probe round (NOW - 2), never live up to the scrape: a counter never falls
    assert samples[("dr_network_observed_seconds_total", dc)] == 8.0
    assert samples[("dr_network_probes_total", (("target", "dc-dr"), ("vantage", "local")))] == 9
    assert (
        samples[("dr_network_probe_failures_total", (("target", "dc-dr"), ("vantage", "local")))]
        == 3
    )
    assert samples[("dr_network_up", dc)] == 1.0
    assert ("dr_network_outage_start_timestamp_seconds", dc) not in samples
    assert samples[("dr_network_last_outage_end_timestamp_seconds", dc)] == NOW - 5
    assert samples[("dr_network_outages_total", dc)] == 1
    # the never-probed path has its counters at 0 and no up/down verdict
    egress = (("target", "egress"),)
    assert samples[("dr_network_downtime_seconds_total", egress)] == 0
    assert ("dr_network_up", egress) not in samples
    ledger = (("dataset", "ledger"), ("system", "core-banking"))
    assert samples[("dr_backup_last_success_timestamp_seconds", ledger)] == NOW - 3500
    assert samples[("dr_backup_last_size_bytes", ledger)] == 4096
    assert samples[("dr_backup_open_gap_workdays", ledger)] == 1
    assert samples[("dr_backup_max_gap_objective_workdays", ledger)] == 1
    status = {
        (dict(k[1])["rule"], dict(k[1])["subject"], dict(k[1])["status"]): v
        for k, v in samples.items()
        if k[0] == "dr_rule_status"
    }
    assert status[("network.availability", "dc-dr", "unknown")] == 1  # monitored 8 s this year
    assert status[("network.availability", "dc-dr", "compliant")] == 0
    assert all(
        samples[("dr_scrape_collector_success", (("collector", name),))] == 1
        for name in (
            "backups",
            "offsite",
            "verification",
            "drills",
            "deadlines",
            "network",
            "rules",
        )
    )
    rows = network_status(loaded.config.model, read_catalog(catalog).network, NOW - 1)
    assert [r["path"] for r in rows] == ["dc-dr", "egress"]
    assert rows[0]["calendar_year"]["downtime_seconds"] == 3.0
    assert rows[0]["outages"] == 1
    assert rows[0]["down_since"] is None
    catalog.close()


def record_backup(catalog: Catalog, business_date: str, finished_at: float) -> None:
    with catalog.begin() as connection:
        cat.record_recovery_point(
            connection,
            {
                "id": f"{business_date}-ledger",
                "system": "core-banking",
                "dataset": "ledger",
                "engine": "sqlite",
                "business_date": business_date,
                "started_at": finished_at - 100,
                "finished_at": finished_at,
                "source_site": "production",
                "source_host": "h",
                "hash_algorithm": "sha256",
                "manifest_sha256": "0" * 64,
                "total_bytes": 4096,
                "file_count": 1,
                "status": "complete",
            },
        )


def status_at(loaded: LoadedSite, catalog: Catalog, at: float, rule: str, subject: str) -> str:
    findings = evaluate_all(
        loaded.config.model,
        loaded.pack,
        loaded.calendar,
        read_catalog(catalog),
        datetime.fromtimestamp(at, UTC),
    )
    return str(next(f.status for f in findings if f.rule == rule and f.subject == subject))


def test_exported_backup_deadline_is_the_second_status_turns(loaded: LoadedSite) -> None:
    catalog = Catalog(loaded.config.catalog_url)
    upgrade_catalog(catalog)
    record_backup(catalog, "2026-11-23", NOW - 3500)  # Monday
    samples = scrape(loaded, catalog, NOW)
    ledger = (("dataset", "ledger"), ("system", "core-banking"))
    due = samples[("dr_backup_next_due_timestamp_seconds", ledger)]
    # Wednesday 06:00 Asia/Shanghai, the sandbox's business-date cut-off: two working days on
    assert due == datetime(2026, 11, 25, 6, tzinfo=SHANGHAI).timestamp()
    assert status_at(loaded, catalog, due - 1, "backup.full_interval", "core-banking/ledger") == (
        "compliant"
    )
    assert status_at(loaded, catalog, due, "backup.full_interval", "core-banking/ledger") == (
        "non_compliant"
    )
    assert (
        samples[("dr_calendar_data_end_timestamp_seconds", ())]
        == datetime(2027, 1, 1, tzinfo=SHANGHAI).timestamp()
    )
    catalog.close()


def test_without_calendar_data_the_deadline_is_still_exported(loaded: LoadedSite) -> None:
    if 2027 in package_years():
        pytest.skip("the installed chinesecalendar already has 2027")
    catalog = Catalog(loaded.config.catalog_url)
    upgrade_catalog(catalog)
    record_backup(catalog, "2026-12-31", datetime(2026, 12, 31, 20, tzinfo=SHANGHAI).timestamp())
    moment = datetime(2027, 1, 6, 12, tzinfo=SHANGHAI).timestamp()
    samples = scrape(loaded, catalog, moment)
    ledger = (("dataset", "ledger"), ("system", "core-banking"))
    assert (
        samples[("dr_backup_next_due_timestamp_seconds", ledger)]
        == datetime(2027, 1, 2, 6, tzinfo=SHANGHAI).timestamp()
    )  # 1 and 2 January counted as working days
    assert ("dr_backup_open_gap_workdays", ledger) not in samples
    unknown = (
        ("rule", "backup.full_interval"),
        ("status", "unknown"),
        ("subject", "core-banking/ledger"),
    )
    assert samples[("dr_rule_status", unknown)] == 1
    assert samples[("dr_calendar_data_end_timestamp_seconds", ())] < moment
    catalog.close()


def test_open_fault_exports_its_start(loaded: LoadedSite) -> None:
    catalog = Catalog(loaded.config.catalog_url)
    upgrade_catalog(catalog)
    ticks = iter(NOW - 5 + i for i in range(5))
    monitor = PathMonitor(
        path=loaded.config.model.network.paths[0], probers={"local": lambda: False}
    )
    for _ in range(3):
        monitor.probe_round(catalog, clock=lambda: next(ticks))
    samples = scrape(loaded, catalog, NOW - 3)
    dc = (("target", "dc-dr"),)
    assert samples[("dr_network_outage_start_timestamp_seconds", dc)] == NOW - 5
    assert samples[("dr_network_up", dc)] == 0
    assert samples[("dr_network_downtime_seconds_total", dc)] == 2.0
    catalog.close()


def test_unreadable_catalog_reports_collector_failure(loaded: LoadedSite, tmp_path: Path) -> None:
    catalog = Catalog(loaded.config.catalog_url)
    upgrade_catalog(catalog)
    collector = CatalogCollector(
        loaded.config.model, loaded.pack, loaded.calendar, catalog, clock=lambda: NOW
    )
    catalog.engine.dispose()
    database = tmp_path / "sandbox" / "state" / "catalog.sqlite"
    database.unlink()
    database.mkdir()  # no user, root included, can open a directory as an SQLite database
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    samples = {
        (s.name, s.labels.get("collector")): s.value
        for family in registry.collect()
        for s in family.samples
    }
    assert all(
        samples[("dr_scrape_collector_success", name)] == 0
        for name in ("backups", "offsite", "verification", "drills", "network", "rules")
    )
    assert samples[("dr_exporter_build_info", None)] == 1


def test_listen_address_is_checked() -> None:
    assert parse_listen("127.0.0.1:19260") == ("127.0.0.1", 19260)
    with pytest.raises(InputError, match="--listen"):
        parse_listen("19260")


def test_catalog_signs_are_exported_every_one_and_a_failing_read_fails_only_that_part(
    loaded: LoadedSite,
) -> None:
    catalog = Catalog(loaded.config.catalog_url)
    upgrade_catalog(catalog)
    shown = {
        "empty": "no point",
        "lacks_evidence": None,
        "younger_than_evidence": None,
        "dated_after_now": None,
    }

    def signs() -> dict[str, str | None]:
        if shown is None:
            raise OSError("chain.jsonl: permission denied")
        return shown

    def collect() -> dict[tuple[str, str | None], float]:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(
            CatalogCollector(
                loaded.config.model,
                loaded.pack,
                loaded.calendar,
                catalog,
                clock=lambda: NOW,
                catalog_signs=signs,
            )
        )
        return {
            (s.name, s.labels.get("sign") or s.labels.get("collector")): s.value
            for family in registry.collect()
            for s in family.samples
        }

    samples = collect()
    assert samples[("dr_catalog_warning", "empty")] == 1
    assert samples[("dr_catalog_warning", "lacks_evidence")] == 0
    assert samples[("dr_catalog_warning", "younger_than_evidence")] == 0
    assert samples[("dr_scrape_collector_success", "catalog_history")] == 1
    shown = None  # the chain cannot be read: that part fails, the others still report
    samples = collect()
    assert not any(name == "dr_catalog_warning" for name, _ in samples)
    assert samples[("dr_scrape_collector_success", "catalog_history")] == 0
    assert samples[("dr_scrape_collector_success", "backups")] == 1


@pytest.mark.parametrize(
    ("population_bytes", "sample_bytes", "expected"),
    [(0, 0, 1.0), (1000, 120, 0.12)],
    ids=["a population holding no bytes", "bytes held"],
)
def test_last_sample_ratio_is_the_rules_own_reading(
    loaded: LoadedSite, population_bytes: int, sample_bytes: int, expected: float
) -> None:
    """A counted check of points holding no bytes (empty datasets) sampled all of them by
    bytes, as the plan and the verify.sample rule count it; the scrape exported no bytes ratio
    for it, so a panel or alert on that basis saw nothing where the judge saw 100 %."""
    catalog = Catalog(loaded.config.catalog_url)
    upgrade_catalog(catalog)
    with catalog.begin() as connection:
        connection.execute(
            schema.verifications.insert().values(
                id="v1",
                kind="sample",
                started_at=NOW - 600,
                finished_at=NOW - 60,
                status="passed",
                counted=True,
                population_points=9,
                population_bytes=population_bytes,
                sample_points=1,
                sample_bytes=sample_bytes,
            )
        )
    samples = scrape(loaded, catalog, NOW)
    catalog.close()
    assert samples[("dr_restore_sample_last_ratio", (("basis", "bytes"),))] == expected
    assert samples[("dr_restore_sample_last_ratio", (("basis", "recovery_points"),))] == 1 / 9
