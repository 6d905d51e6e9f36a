"""`drctl serve` restarted while a network path is down, with a real Prometheus (rules.yml and
a fast test alert of the escalation's shape) and a real Alertmanager (the example config): the
fault goes on from its own start, one fault in the ledger, and the page is never resolved."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fixtures import prometheus as prom
from tests.fixtures.process import free_port, running, wait_until
from tests.integration.test_network_serve import (
    PATH_NAME,
    TEST_ALERT,
    ledger_faults,
    metrics_ready,
    sample,
    sandbox_config,
)

pytestmark = pytest.mark.services
INTERVAL = 10.0  # stale after 30.5 s: room for a restart (~9 s on a busy 2-core machine)
OUTAGE_START = f'dr_network_outage_start_timestamp_seconds{{target="{PATH_NAME}"}}'


def escalation_within_a_second() -> dict[str, Any]:
    """Return a rule file of one alert, TEST_ALERT: rules.yml's DRNetworkOutage30m (its
    keep_firing_for included) with a 1-second threshold instead of 30 minutes."""
    step = next(
        rule
        for group in yaml.safe_load(prom.RULES_FILE.read_text(encoding="utf-8"))["groups"]
        for rule in group["rules"]
        if rule.get("alert") == "DRNetworkOutage30m"
    )
    assert step["expr"].rstrip().endswith(">= 1800")
    step["expr"] = step["expr"].rstrip().removesuffix("1800") + "1"
    step["alert"] = TEST_ALERT
    return {"groups": [{"name": "dr-network-test", "rules": [step]}]}


def test_a_restart_of_serve_during_a_fault_neither_splits_nor_resolves_it(
    tmp_path: Path,
) -> None:
    config_path = sandbox_config(tmp_path / "sandbox", free_port())  # nothing listens: down
    document = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    document["network"]["paths"][0]["interval_seconds"] = INTERVAL
    config_path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    test_rules = tmp_path / "test-rules.yml"
    test_rules.write_text(yaml.safe_dump(escalation_within_a_second()), encoding="utf-8")
    address = f"127.0.0.1:{free_port()}"
    argv = [sys.executable, "-m", "orchestrator", "-c", str(config_path), "serve"]
    argv += ["--listen", address, "--no-run-due"]

    def serve(log: str) -> object:
        return running(
            argv, ready=lambda: metrics_ready(address), log_path=tmp_path / log, what="serve"
        )

    def outage_start(prometheus: prom.PrometheusServer) -> list[str]:
        return sample(
            prometheus, f'dr_network_outage_start_timestamp_seconds{{target="{PATH_NAME}"}}'
        )

    with (
        prom.webhook_receiver() as webhook,
        prom.alertmanager_running(
            tmp_path / "am", prom.example_alertmanager_config(webhook)
        ) as manager,
        prom.prometheus_running(
            tmp_path / "prom",
            prom.prometheus_config(
                {prom.EXPORTER_JOB: [address]}, [prom.RULES_FILE, test_rules], manager.url
            ),
        ) as prometheus,
    ):
        with serve("serve-1.log"):
            webhook.wait_for_alert("/pager", TEST_ALERT, timeout=60)
            started = outage_start(prometheus)
        with serve("serve-2.log"):
            wait_until(
                lambda: prometheus.targets_up(prom.EXPORTER_JOB) and bool(outage_start(prometheus)),
                timeout=60,
                what="the fault published again after the restart",
            )
            assert outage_start(prometheus) == started
            wait_until(  # three scrapes since: a resolved page would have been delivered
                lambda: bool(sample(prometheus, f"count_over_time({OUTAGE_START}[10s]) >= 3")),
                timeout=60,
                what="three scrapes of the fault after the restart",
            )
            assert webhook.alerts("/pager", status="resolved") == []
            assert prometheus.firing(TEST_ALERT)
    rows = ledger_faults(tmp_path / "sandbox")
    assert [float(row.start_ms) / 1000 for row in rows] == [float(started[0])]
