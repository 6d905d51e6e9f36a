"""A live `drctl metrics` whose catalog is moved aside while it runs, scraped by a real
Prometheus evaluating rules.yml and alerting through a real Alertmanager with the example
config: the on-call pager hears of it, every scrape still passes `promtool check metrics`, and
the alert resolves only once the catalog is back."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from orchestrator.model.catalog import sqlite_file
from orchestrator.site import load_site
from tests.fixtures.exporter_catalog import populated_sandbox, scrape, serving
from tests.fixtures.process import free_port, require_binary, running, wait_until
from tests.fixtures.prometheus import (
    EXPORTER_JOB,
    RULES_FILE,
    alertmanager_running,
    example_alertmanager_config,
    prometheus_config,
    prometheus_running,
    rules_with_interval,
    webhook_receiver,
)

ALERT = "DRExporterCatalogUnreadable"


def without_waits(rules: Path) -> Path:
    """Drop every `for:` of the rule file, so an alert fires at its first evaluation."""
    document = yaml.safe_load(rules.read_text(encoding="utf-8"))
    for group in document["groups"]:
        for rule in group["rules"]:
            rule.pop("for", None)
    rules.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return rules


def promtool_findings(exposition: str) -> tuple[int, str]:
    promtool = require_binary("promtool")
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=exposition, capture_output=True, text=True
    )
    return checked.returncode, checked.stdout + checked.stderr


def move(database: Path, suffix_from: str, suffix_to: str) -> None:
    for part in ("", "-wal", "-shm"):
        source = Path(f"{database}{part}{suffix_from}")
        if source.exists():
            os.rename(source, f"{database}{part}{suffix_to}")


@pytest.mark.services
def test_a_catalog_moved_aside_pages_and_resolves_only_when_back(tmp_path: Path) -> None:
    require_binary("prometheus")
    require_binary("prometheus-alertmanager", "alertmanager")
    config = populated_sandbox(tmp_path / "sandbox", time.time())
    database = sqlite_file(load_site(config).config.catalog_url)
    assert database is not None
    address = f"127.0.0.1:{free_port()}"
    argv = [sys.executable, "-m", "orchestrator", "-c", str(config), "metrics", "--listen", address]
    rules = without_waits(rules_with_interval(RULES_FILE, tmp_path / "rules.yml", "1s"))
    with (
        running(
            argv, ready=lambda: serving(address), log_path=tmp_path / "m.log", what="drctl metrics"
        ),
        webhook_receiver() as webhook,
        alertmanager_running(tmp_path / "am", example_alertmanager_config(webhook)) as manager,
        prometheus_running(
            tmp_path / "prom",
            prometheus_config({EXPORTER_JOB: [address]}, [rules], manager.url),
        ) as prometheus,
    ):
        wait_until(lambda: prometheus.targets_up(EXPORTER_JOB), what="first scrape")
        assert not prometheus.firing(ALERT)
        move(database, "", ".aside")
        exposition = scrape(address)
        assert "dr_backup_max_gap_objective_workdays" not in exposition  # nothing from a ghost
        assert promtool_findings(exposition) == (0, "")
        paged = webhook.wait_for_alert("/pager", ALERT, timeout=60)
        assert paged["labels"]["instance"] == address
        assert paged["labels"]["severity"] == "critical"
        assert prometheus.targets_up(EXPORTER_JOB)  # DRExporterDown could not have said it
        move(database, ".aside", "")
        webhook.wait_for_alert("/pager", ALERT, status="resolved", timeout=60)
        assert "dr_backup_max_gap_objective_workdays" in scrape(address)
