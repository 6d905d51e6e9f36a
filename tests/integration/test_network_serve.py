"""THE network test with real daemons: `drctl serve` probing a TCP listener we control, a real
Prometheus scraping it with exporters/prometheus/rules.yml and a fast test alert loaded, and a
real Alertmanager (the example config) delivering to a webhook.

Break the path (close the listener): the fault alert fires in Prometheus and reaches the pager
webhook; heal it: the alert resolves. The ledger then holds exactly one fault whose bounds are
within one probe interval of the break and the heal. The real 30-minute escalation cannot be
waited for, so a test rule with the same expression shape and a 1-second threshold drives the
delivery path; the real rules must load and evaluate without error beside it.
"""

from __future__ import annotations

import socketserver
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.model.catalog import Catalog
from orchestrator.model.outages import load_outage_rows
from tests.fixtures.process import free_port, running, wait_until
from tests.fixtures.prometheus import (
    EXPORTER_JOB,
    RULES_FILE,
    PrometheusServer,
    alertmanager_running,
    example_alertmanager_config,
    prometheus_config,
    prometheus_running,
    webhook_receiver,
)

pytestmark = pytest.mark.services
PATH_NAME = "dc-dr-link"
INTERVAL = 1.0
SLACK = 0.5  # scheduling jitter of a probe thread on a busy 2-core machine
TEST_ALERT = "DRTestNetworkFault"
TEST_RULES = {
    "groups": [
        {
            "name": "dr-network-test",
            "rules": [
                {
                    "alert": TEST_ALERT,
                    "expr": "time() - max by (target) "
                    "(dr_network_outage_start_timestamp_seconds) >= 1",
                    "labels": {
                        "severity": "critical",
                        "notify": "pager",
                        "rule": "network.max_outage",
                    },
                    "annotations": {
                        "summary": "test: {{ $labels.target }} is down",
                        "runbook_url": "https://dr-orchestrator.invalid/docs/runbooks.md",
                    },
                }
            ],
        }
    ],
}


class _Accept(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        """Accept and close: the path works."""


class Listener:
    """A TCP listener on a fixed port that the test can stop (break) and start (heal)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._server: socketserver.ThreadingTCPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), _Accept)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = None


@contextmanager
def listening(port: int) -> Iterator[Listener]:
    listener = Listener(port)
    listener.start()
    try:
        yield listener
    finally:
        if listener._server is not None:
            listener.stop()


def sandbox_config(base: Path, target_port: int) -> Path:
    """A private sandbox config with one TCP network path probed every second."""
    config_path = prepare_sandbox(base)
    document = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    document["network"] = {
        "paths": [
            {
                "name": PATH_NAME,
                "kind": "tcp",
                "target": f"127.0.0.1:{target_port}",
                "interval_seconds": INTERVAL,
                "timeout_seconds": 0.5,
                "failures_to_open": 2,
            }
        ]
    }
    config_path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return config_path


def metrics_ready(address: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{address}/metrics", timeout=2) as response:
            return int(response.status) == 200 and b"dr_network_probes_total" in response.read()
    except OSError:
        return False


def sample(prometheus: PrometheusServer, expr: str) -> list[str]:
    answer = prometheus.query(expr)
    assert answer["status"] == "success", answer
    return [item["value"][1] for item in answer["data"]["result"]]


def ledger_faults(sandbox: Path) -> list[Any]:
    """Return the sandbox ledger's fault rows of PATH_NAME, oldest first."""
    catalog = Catalog(f"sqlite:///{sandbox / 'state' / 'catalog.sqlite'}")
    try:
        with catalog.begin() as connection:
            return load_outage_rows(connection, PATH_NAME)
    finally:
        catalog.close()


def test_outage_alert_fires_delivers_resolves_and_ledger_has_one_fault(tmp_path: Path) -> None:
    target_port = free_port()
    metrics_address = f"127.0.0.1:{free_port()}"
    test_rules = tmp_path / "test-rules.yml"
    test_rules.write_text(yaml.safe_dump(TEST_RULES), encoding="utf-8")
    with listening(target_port) as listener:
        config_path = sandbox_config(tmp_path / "sandbox", target_port)
        drctl = [
            sys.executable,
            "-m",
            "orchestrator",
            "-c",
            str(config_path),
            "-v",
            "serve",
            "--listen",
            metrics_address,
            "--no-run-due",
        ]
        with (
            webhook_receiver() as receiver,
            alertmanager_running(tmp_path / "am", example_alertmanager_config(receiver)) as am,
            running(
                drctl,
                ready=lambda: metrics_ready(metrics_address),
                log_path=tmp_path / "serve.log",
                what="drctl serve",
                timeout=60,
            ),
            prometheus_running(
                tmp_path / "prom",
                prometheus_config(
                    {EXPORTER_JOB: [metrics_address]},
                    rule_files=[RULES_FILE, test_rules],
                    alertmanager_url=am.url,
                ),
            ) as prometheus,
        ):
            wait_until(
                lambda: prometheus.targets_up(EXPORTER_JOB),
                timeout=30,
                what="Prometheus scraping drctl serve",
            )
            wait_until(
                lambda: sample(prometheus, f'dr_network_up{{target="{PATH_NAME}"}}') == ["1"],
                timeout=30,
                what="the path seen up",
            )
            groups = urllib.request.urlopen(f"{prometheus.url}/api/v1/rules", timeout=5).read()
            loaded = yaml.safe_load(groups)["data"]["groups"]
            real = {g["name"] for g in yaml.safe_load(RULES_FILE.read_text())["groups"]}
            assert real <= {g["name"] for g in loaded}

            broken_at = time.time()
            listener.stop()
            wait_until(
                lambda: bool(prometheus.firing(TEST_ALERT)),
                timeout=30,
                what=f"{TEST_ALERT} firing in Prometheus",
            )
            delivered = receiver.wait_for_alert("/pager", TEST_ALERT, timeout=30)
            assert delivered["labels"]["target"] == PATH_NAME
            assert sample(prometheus, f'dr_network_up{{target="{PATH_NAME}"}}') == ["0"]

            healed_at = time.time()
            listener.start()
            receiver.wait_for_alert("/pager", TEST_ALERT, status="resolved", timeout=30)
            assert not prometheus.firing(TEST_ALERT)
            # every rule of the real file evaluated against live data without error
            bad = [
                (g["name"], r["name"], r.get("lastError"))
                for g in yaml.safe_load(
                    urllib.request.urlopen(f"{prometheus.url}/api/v1/rules", timeout=5).read()
                )["data"]["groups"]
                for r in g["rules"]
                if r.get("health") == "err"
            ]
            assert bad == []
            downtime = sample(
                prometheus, f'dr_network_downtime_seconds_total{{target="{PATH_NAME}"}}'
            )
            assert float(downtime[0]) > 0

    rows = ledger_faults(tmp_path / "sandbox")
    assert len(rows) == 1, rows
    fault = rows[0]
    start, end = fault.start_ms / 1000, fault.end_ms / 1000
    assert broken_at - SLACK <= start <= broken_at + INTERVAL + SLACK
    assert healed_at - SLACK <= end <= healed_at + INTERVAL + SLACK
    assert fault.closed_by == "probe"
