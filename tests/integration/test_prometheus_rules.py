"""The alerting feed against the real tools: promtool, amtool, Prometheus and Alertmanager.

Static checks (promtool check/test, amtool check-config and routes), the exposition of a live
`drctl metrics` through `promtool check metrics`, and a live stack: Prometheus scrapes a
synthetic /metrics endpoint, evaluates rules.yml, runs every rule and dashboard expression, and
sends alerts to an Alertmanager running the example config, which delivers to a webhook.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporters import alert_rules as rules_file
from exporters.grafana import dashboard
from tests.fixtures.exporter_catalog import populated_sandbox, probe_paths, scrape, serving
from tests.fixtures.process import free_port, require_binary, running, wait_until
from tests.fixtures.prometheus import (
    EXPORTER_JOB,
    RULES_DIR,
    RULES_FILE,
    AlertmanagerServer,
    PrometheusServer,
    WebhookReceiver,
    alertmanager_running,
    example_alertmanager_config,
    metrics_endpoint,
    prometheus_config,
    prometheus_running,
    rules_with_interval,
    webhook_receiver,
)

REPO = RULES_DIR.parents[1]
UNIT_TEST_FILES = (
    RULES_DIR / "rules_test.yml",
    RULES_DIR / "rules_test_long_windows.yml",
    RULES_DIR / "rules_test_deadlines.yml",
    RULES_DIR / "rules_test_replication.yml",
)
RUNBOOKS = REPO / "docs" / "runbooks.md"
METRICS_DOC = REPO / "docs" / "metrics.md"
SEVERITIES = {"critical", "warning", "info"}
RECEIVERS = {"pager": {"pager"}, "ticket": {"ticket"}, "pager-and-ticket": {"pager", "ticket"}}
RULE_IDS = {  # DESIGN §1
    "backup.full_interval", "backup.rotation", "verify.interval", "verify.sample",
    "offsite.copy", "network.availability", "network.max_outage", "logs.operation_retention",
    "logs.accounting_retention", "backup.content", "switchover.notice", "dr.bidirectional",
    "drill.yearly", "power.ups", "dr.mirroring", "restore.duration",
}  # fmt: skip


def rule_groups() -> list[dict[str, Any]]:
    return list(yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))["groups"])


def alert_rules() -> list[dict[str, Any]]:
    return [rule for group in rule_groups() for rule in group["rules"] if "alert" in rule]


def rule_expressions() -> list[str]:
    return [rule["expr"] for group in rule_groups() for rule in group["rules"]]


def dashboard_expressions(document: dict[str, Any]) -> list[str]:
    return [
        target["expr"]
        for panel in document["panels"]
        for target in panel.get("targets", [])
        if "expr" in target
    ]


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=900, cwd=RULES_DIR)


# --- static checks --------------------------------------------------------------------------


def test_promtool_check_rules_accepts_the_rule_file() -> None:
    promtool = require_binary("promtool")
    result = run(promtool, "check", "rules", str(RULES_FILE))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rule_expressions())} rules found" in result.stdout


def test_promtool_unit_tests_pass() -> None:
    promtool = require_binary("promtool")
    result = run(promtool, "test", "rules", *map(str, UNIT_TEST_FILES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(UNIT_TEST_FILES), result.stdout


def test_promtool_check_config_accepts_the_example() -> None:
    promtool = require_binary("promtool")
    result = run(promtool, "check", "config", "prometheus.example.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_amtool_check_config_accepts_the_example() -> None:
    amtool = require_binary("amtool")
    result = run(amtool, "check-config", "alertmanager.example.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 receivers" in result.stdout


def test_every_alert_is_unit_tested_firing_and_not_firing() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for path in UNIT_TEST_FILES:
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            for case in group.get("alert_rule_test", []):
                (firing if case.get("exp_alerts") else quiet).add(case["alertname"])
    names = {rule["alert"] for rule in alert_rules()}
    assert names - firing == set(), "alerts without a firing test"
    assert names - quiet == set(), "alerts without a not-firing test"
    assert (firing | quiet) - names == set(), "tests for alerts that do not exist"


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_alert_has_severity_rule_id_summary_and_runbook(rule: dict[str, Any]) -> None:
    labels, annotations = rule["labels"], rule["annotations"]
    assert labels["severity"] in SEVERITIES
    assert labels["notify"] in RECEIVERS
    assert labels.get("rule", "network.availability") in RULE_IDS
    assert annotations["summary"].strip() and annotations["description"].strip()
    assert annotations["runbook_url"] == rules_file.runbook_url(rule["alert"])
    assert annotations["runbook_url"].endswith("#" + rule["alert"].lower())
    sections = dict(
        re.findall(r"^## (\S+)\n\n(.*)$", RUNBOOKS.read_text(encoding="utf-8"), re.MULTILINE)
    )
    assert rule["alert"] in sections, f"docs/runbooks.md has no section '## {rule['alert']}'"
    stated = f"Severity {labels['severity']} · notify {labels['notify']} ·"
    assert sections[rule["alert"]].startswith(stated), "docs/runbooks.md states other labels"


def routed_to(*labels: str) -> set[str]:
    """Return the receivers the example Alertmanager config picks for an alert's labels."""
    amtool = require_binary("amtool")
    result = run(
        amtool, "config", "routes", "test", "--config.file=alertmanager.example.yml", *labels
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return set(result.stdout.strip().split(","))


@pytest.mark.parametrize("notify", sorted(RECEIVERS))
def test_alertmanager_routes_on_notify_and_never_on_severity(notify: str) -> None:
    for severity in sorted(SEVERITIES):
        assert routed_to(f"notify={notify}", f"severity={severity}") == RECEIVERS[notify]
    # severity alone routes nowhere special: the catch-all ticket queue
    assert routed_to("severity=critical") == {"ticket"}


def test_rules_render_with_another_runbook_base(tmp_path: Path) -> None:
    base = "https://wiki.bank.example/dr-orchestrator/runbooks.md"
    rendered = rules_file.render(base)
    shipped, mine = yaml.safe_load(RULES_FILE.read_text()), yaml.safe_load(rendered)
    links = {
        rule["alert"]: rule["annotations"].pop("runbook_url")
        for group in mine["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    assert links == {name: f"{base}#{name.lower()}" for name in links}
    assert len(links) == len(alert_rules())
    for group in shipped["groups"]:
        for rule in group["rules"]:
            rule.get("annotations", {}).pop("runbook_url", None)
    assert mine == shipped  # nothing but the links changed
    output = tmp_path / "dr-orchestrator.yml"
    assert rules_file.main(["--runbook-base", base, "--output", str(output)]) == 0
    assert output.read_text(encoding="utf-8") == rendered
    promtool = require_binary("promtool")
    assert run(promtool, "check", "rules", str(output)).returncode == 0


@pytest.mark.parametrize(
    "base",
    [
        "wiki.bank.example/runbooks.md",
        "https://wiki/runbooks.md#top",
        "ftp://wiki/x",
        'https://a/"',
    ],
)
def test_a_bad_runbook_base_is_refused_with_exit_2(base: str, tmp_path: Path) -> None:
    with pytest.raises(rules_file.InputError, match="--runbook-base"):
        rules_file.render(base)
    output = tmp_path / "rules.yml"
    assert rules_file.main(["--runbook-base", base, "--output", str(output)]) == 2
    assert not output.exists()


def test_every_metric_used_by_rules_and_dashboard_is_documented() -> None:
    used = set(re.findall(r"\bdr_[a-z_]+", RULES_FILE.read_text(encoding="utf-8")))
    used |= set(re.findall(r"\bdr_[a-z_]+", dashboard.DASHBOARD_JSON.read_text(encoding="utf-8")))
    documented = set(
        re.findall(r"^\| `(dr_[a-z_]+)", METRICS_DOC.read_text(encoding="utf-8"), re.MULTILINE)
    )
    assert used - documented == set()


def test_dashboard_json_is_what_the_generator_writes() -> None:
    committed = dashboard.DASHBOARD_JSON.read_text(encoding="utf-8")
    assert committed == dashboard.render(), (
        "exporters/grafana/dashboard.json is stale: "
        "run python -m exporters.grafana.dashboard --write"
    )
    document = json.loads(committed)
    assert document["uid"] == dashboard.UID
    variables = {item["name"]: item for item in document["templating"]["list"]}
    assert set(variables) == {"datasource", "job", "instance"}
    assert variables["job"]["query"] == "label_values(dr_exporter_build_info, job)"
    assert 'job="' not in committed  # no hard-coded job name anywhere


@pytest.mark.parametrize("expr", dashboard_expressions(json.loads(dashboard.render())))
def test_every_dashboard_selector_is_scoped_by_job_and_instance(expr: str) -> None:
    selectors = re.findall(r"\b(dr_[a-z_]+|dr:[a-z_:0-9]+|up)\b(\{[^}]*\})?", expr)
    assert selectors
    for name, matchers in selectors:
        assert not name.startswith("dr:"), f"{name}: recording rules drop job and instance"
        assert 'job=~"$job"' in matchers and 'instance=~"$instance"' in matchers, name


# --- the exposition of a live `drctl metrics` ------------------------------------------------


def documented_metrics() -> set[str]:
    return set(re.findall(r"^\| `(dr_[a-z_]+)", METRICS_DOC.read_text(encoding="utf-8"), re.M))


def test_live_scrape_of_drctl_metrics_passes_promtool_check_metrics(tmp_path: Path) -> None:
    """`drctl metrics` on a catalog with a row of every kind: every documented family has a
    sample (an empty family is not linted), and `promtool check metrics` finds nothing."""
    promtool = require_binary("promtool")
    config = populated_sandbox(tmp_path / "sandbox", time.time(), probe=False)
    address = f"127.0.0.1:{free_port()}"
    argv = [sys.executable, "-m", "orchestrator", "-c", str(config), "metrics", "--listen", address]
    with running(
        argv,
        ready=lambda: serving(address),
        log_path=tmp_path / "metrics.log",
        what="drctl metrics",
        timeout=60,
    ):
        probe_paths(config, time.time())  # live network figures need fresh probe rounds
        exposition = scrape(address)
    sampled = {
        re.split(r"[{ ]", line)[0] for line in exposition.splitlines() if line and line[0] != "#"
    }
    assert documented_metrics() - sampled == set(), "documented families without a sample"
    assert sampled - documented_metrics() == set(), "exported families not in docs/metrics.md"
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=exposition, capture_output=True, text=True
    )
    assert (checked.returncode, checked.stdout + checked.stderr) == (0, "")


# --- live Prometheus + Alertmanager ---------------------------------------------------------


def synthetic_metrics() -> str:
    """Exposition text as the collector would publish it, relative to now.

    Path dc-dr has been down for 3 h (2 h breach, critical); core/ledger's off-site copy lags
    2 h behind a 1 h objective (page); backup.full_interval is non_compliant for core/ledger
    (ticket).
    """
    now = time.time()
    return f"""\
dr_network_up{{target="dc-dr"}} 0
dr_network_outage_start_timestamp_seconds{{target="dc-dr"}} {now - 3 * 3600:.0f}
dr_network_observed_seconds_total{{target="dc-dr"}} 86400
dr_network_downtime_seconds_total{{target="dc-dr"}} 10800
dr_network_availability_ratio{{target="dc-dr",window="365d"}} 0.99965
dr_network_availability_ratio{{target="dc-dr",window="calendar_year"}} 0.99965
dr_network_availability_objective_ratio{{target="dc-dr"}} 0.99995
dr_network_max_outage_objective_seconds{{target="dc-dr"}} 7200
dr_network_outage_longest_seconds{{target="dc-dr",year="2026"}} 600
dr_network_outages_total{{target="dc-dr"}} 2
dr_backup_last_success_timestamp_seconds{{system="core",dataset="ledger"}} {now - 3600:.0f}
dr_backup_open_gap_workdays{{system="core",dataset="ledger"}} 0
dr_backup_max_gap_objective_workdays{{system="core",dataset="ledger"}} 1
dr_offsite_newest_copy_timestamp_seconds{{system="core",dataset="ledger",site="dr"}} \
{now - 3 * 3600:.0f}
dr_offsite_max_lag_objective_seconds{{system="core",dataset="ledger"}} 3600
dr_restore_verification_last_check_timestamp_seconds {now - 86400:.0f}
dr_restore_sample_last_ratio{{basis="bytes"}} 0.12
dr_restore_sample_last_ratio{{basis="recovery_points"}} 0.11
dr_drill_last_success_timestamp_seconds{{scenario="dc-failover"}} {now - 30 * 86400:.0f}
dr_rule_status{{rule="backup.full_interval",subject="core/ledger",status="non_compliant"}} 1
dr_rule_status{{rule="backup.full_interval",subject="core/ledger",status="compliant"}} 0
dr_exporter_build_info{{version="0.1.0"}} 1
dr_scrape_collector_success{{collector="catalog"}} 1
"""


@dataclass(frozen=True)
class Stack:
    prometheus: PrometheusServer
    alertmanager: AlertmanagerServer
    webhook: WebhookReceiver


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require_binary("prometheus")
    require_binary("prometheus-alertmanager", "alertmanager")
    root = tmp_path_factory.mktemp("prometheus-stack")
    rules = rules_with_interval(RULES_FILE, root / "rules.yml", "1s")
    with (
        metrics_endpoint(synthetic_metrics) as source,
        webhook_receiver() as webhook,
        alertmanager_running(root / "am", example_alertmanager_config(webhook)) as alertmanager,
        prometheus_running(
            root / "prom",
            prometheus_config({EXPORTER_JOB: [source.address]}, [rules], alertmanager.url),
        ) as prometheus,
    ):
        wait_until(lambda: prometheus.targets_up(EXPORTER_JOB), what="first scrape")
        yield Stack(prometheus, alertmanager, webhook)


@pytest.mark.services
def test_every_rule_expression_evaluates(stack: Stack) -> None:
    failures = {}
    for expr in rule_expressions():
        answer = stack.prometheus.query(expr)
        if answer.get("status") != "success":
            failures[expr] = answer.get("error")
    assert failures == {}


def series(answer: dict[str, Any]) -> list[dict[str, str]]:
    """Return the label sets of an instant query's answer, sorted."""
    return sorted((r["metric"] for r in answer["data"]["result"]), key=json.dumps)


def with_variables(expr: str, job: str, instance: str = ".+") -> str:
    """Return expr as Grafana sends it for one job and instance (or "All": .+)."""
    return expr.replace("$job", job).replace("$instance", instance)


@pytest.mark.services
def test_every_dashboard_expression_evaluates(stack: Stack) -> None:
    document = json.loads(dashboard.render())
    expressions = dashboard_expressions(document)
    assert len(expressions) > 30
    variables = {item["name"]: item["query"] for item in document["templating"]["list"]}
    # label_values(metric, label) is Grafana's; `group by (label) (metric)` asks the same
    jobs = stack.prometheus.query("group by (job) (dr_exporter_build_info)")["data"]["result"]
    assert [r["metric"]["job"] for r in jobs] == [EXPORTER_JOB]
    assert variables["instance"].startswith("label_values(dr_exporter_build_info{")
    failures, answered = {}, 0
    for expr in expressions:
        everything = stack.prometheus.query(with_variables(expr, ".+"))
        if everything.get("status") != "success":
            failures[expr] = everything.get("error")
            continue
        this_job = stack.prometheus.query(with_variables(expr, EXPORTER_JOB))
        other_job = stack.prometheus.query(with_variables(expr, "no-such-job"))
        assert series(this_job) == series(everything), expr
        # a job without data answers nothing: never a green 0 (`or vector(0)`) for a blind feed
        assert other_job["data"]["result"] == [], f"answers for a job without data: {expr}"
        if everything["data"]["result"]:
            answered += 1
    assert failures == {}
    assert answered >= 15  # the synthetic feed answers most panels (17 of 35)
    wait_until(
        lambda: bool(
            stack.prometheus.query("dr:network_error_budget_remaining:ratio")["data"]["result"]
        ),
        what="budget recording rule",
    )
    budget = stack.prometheus.query('dr:network_error_budget_remaining:ratio{window="365d"}')
    assert float(budget["data"]["result"][0]["value"][1]) == pytest.approx(-6.0)


@pytest.mark.services
def test_alerts_are_routed_by_severity_and_escalation_is_inhibited(stack: Stack) -> None:
    webhook = stack.webhook
    breach = webhook.wait_for_alert("/pager", "DRNetworkOutage2hBreached")
    assert breach["labels"]["target"] == "dc-dr"
    assert breach["labels"]["severity"] == "critical"
    assert breach["annotations"]["runbook_url"].endswith("#drnetworkoutage2hbreached")
    webhook.wait_for_alert("/ticket", "DRNetworkOutage2hBreached")
    webhook.wait_for_alert("/pager", "DROffsiteCopyLagging")
    webhook.wait_for_alert("/ticket", "DRRuleNonCompliant")

    def names(path: str) -> set[str]:
        return {alert["labels"]["alertname"] for alert in webhook.alerts(path)}

    assert "DRRuleNonCompliant" not in names("/pager")
    assert "DROffsiteCopyLagging" not in names("/ticket")

    # The 90-minute step fires in Prometheus but the 2 h breach inhibits it in Alertmanager;
    # likewise "budget exhausted" inhibits "budget low".
    assert stack.prometheus.firing("DRNetworkOutage90m")

    def suppressed_90m() -> bool:
        return any(
            alert["labels"]["alertname"] == "DRNetworkOutage90m"
            and alert["status"]["state"] == "suppressed"
            and alert["status"]["inhibitedBy"]
            for alert in stack.alertmanager.alerts()
        )

    wait_until(suppressed_90m, what="DRNetworkOutage90m suppressed in Alertmanager")
    inhibited = {"DRNetworkOutage90m", "DRNetworkOutage60m", "DRNetworkOutage30m"}
    assert stack.prometheus.firing("DRNetworkAnnualBudgetLow")
    assert (inhibited | {"DRNetworkAnnualBudgetLow"}).isdisjoint(names("/pager") | names("/ticket"))
