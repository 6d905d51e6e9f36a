"""Restore time against target (R140), end to end: a real sampled validity check (`drctl
verify`) in the sandbox times every restore per dataset, records it, shows it beside the
system's objective in its report, exports it (checked by `promtool check metrics`), fires
DRRestoreOverObjective on exactly the exported series (promtool), and `drctl status` judges
restore.duration — 不符合 against an objective no restore can meet, 符合 against a generous one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from exporters.collector import make_registry
from orchestrator.actions.backup import run_backup
from orchestrator.actions.copy_offsite import run_copy_offsite
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.actions.workload import run_workload
from orchestrator.model.restore_times import restore_timings
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.fixtures.process import require_binary
from tests.fixtures.prometheus import RULES_FILE
from tests.fixtures.prometheus_templates import humanize_duration

SYSTEM = "core-banking"


def drctl(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", "-c", str(config), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
    )


def set_objective(config: Path, seconds: float) -> None:
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    for system in data["systems"]:
        system["restore_time_objective_seconds"] = seconds
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def restore_finding(config: Path) -> dict[str, Any]:
    result = drctl(config, "--json", "status")
    assert result.returncode in (0, 1), result.stderr
    return next(
        f
        for f in json.loads(result.stdout)["findings"]
        if f["rule"] == "restore.duration" and f["subject"] == SYSTEM
    )


def exported(config: Path) -> str:
    site = load_site(config)
    with open_runtime(site) as runtime:
        registry = make_registry(site.config.model, site.pack, site.calendar, runtime.catalog)
        return generate_latest(registry).decode("utf-8")


def restore_series(text: str) -> list[tuple[str, float]]:
    found = []
    for family in text_string_to_metric_families(text):
        if family.name.startswith(("dr_restore_last_duration", "dr_restore_duration_objective")):
            for sample in family.samples:
                labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
                found.append((f"{sample.name}{{{labels}}}", sample.value))
    return found


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A sandbox with a full backup copied off-site and one `drctl verify` run against an
    objective of 0.5 s: (config, the check's report.json)."""
    config = prepare_sandbox(tmp_path_factory.mktemp("restore-time") / "sb")
    with open_runtime(load_site(config)) as runtime:
        run_workload(runtime, SYSTEM, "production", "ledger", postings=50, seed=5)
        run_backup(runtime, SYSTEM)
        run_copy_offsite(runtime, systems=[SYSTEM])
    set_objective(config, 0.5)
    result = drctl(config, "--json", "verify")
    assert result.returncode == 0, result.stdout + result.stderr  # a slow restore is no mismatch
    report = Path(json.loads(result.stdout)["evidence"]) / "report.json"
    return config, json.loads(report.read_text(encoding="utf-8"))


def test_every_sampled_restore_is_timed_and_reported_beside_the_objective(
    checked: tuple[Path, dict[str, Any]],
) -> None:
    config, report = checked
    timed = report["restore_times"]
    sampled = {(p["dataset"], p["id"]) for p in report["recovery_points"]}
    assert {(t["dataset"], t["recovery_point"]) for t in timed} == sampled
    assert {(t["objective_seconds"], t["within_objective"]) for t in timed} == {(0.5, False)}
    steps = [s for s in report["steps"] if s["action"] == "restore-verify"]
    for step in steps:
        assert "(objective ≤ 0.5 s: OVER)" in step["message"]
        assert step["duration_seconds"] in {t["duration_seconds"] for t in timed}
    finding = next(f for f in report["findings"] if f["rule"] == "restore.duration")
    assert (finding["status"], finding["threshold"]) == (
        "non_compliant",
        "every restore of a dataset ≤ 0.5 s",
    )
    with open_runtime(load_site(config)) as runtime, runtime.catalog.begin() as connection:
        rows = list(connection.execute(restore_timings.select()))
    assert sorted((r.dataset, r.kind, r.objective_seconds) for r in rows) == sorted(
        (t["dataset"], "verify", 0.5) for t in timed
    )


def test_exported_durations_fire_the_alert_and_status_judges_against_the_objective(
    checked: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    config, report = checked
    text = exported(config)
    promtool = require_binary("promtool")
    lint = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    series = restore_series(text)
    durations = {t["dataset"]: t["duration_seconds"] for t in report["restore_times"]}
    for dataset, seconds in durations.items():
        labels = f'dataset="{dataset}",kind="verify",system="{SYSTEM}"'
        name = f"dr_restore_last_duration_seconds{{{labels}}}"
        assert dict(series)[name] == pytest.approx(seconds)
    assert dict(series)[f'dr_restore_duration_objective_seconds{{system="{SYSTEM}"}}'] == 0.5
    expected = [
        {
            "exp_labels": {
                "system": SYSTEM,
                "dataset": dataset,
                "kind": "verify",
                "severity": "warning",
                "notify": "ticket",
                "rule": "restore.duration",
            },
            "exp_annotations": {
                "summary": f"Restore of {SYSTEM}/{dataset} took longer than its objective",
                "description": f"The last verify restore of {SYSTEM}/{dataset} took "
                f"{humanize_duration(seconds)}, longer than the system's "
                "restore_time_objective_seconds (R140: "
                "「确保可以在恢复程序规定的时间内完成备份的恢复」).",
                "runbook_url": "https://dr-orchestrator.invalid/docs/runbooks.md"
                "#drrestoreoverobjective",
            },
        }
        for dataset, seconds in sorted(durations.items())
    ]
    document = {
        "rule_files": [str(RULES_FILE)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": n, "values": f"{v!r}x5"} for n, v in series],
                "alert_rule_test": [
                    {
                        "eval_time": "1m",
                        "alertname": "DRRestoreOverObjective",
                        "exp_alerts": expected,
                    }
                ],
            }
        ],
    }
    path = tmp_path / "exported_restore.yml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    fired = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True)
    assert fired.returncode == 0, fired.stdout + fired.stderr
    assert restore_finding(config)["status"] == "non_compliant"
    set_objective(config, 3600)
    assert restore_finding(config)["status"] == "compliant"


def test_the_check_package_states_the_rules_own_findings(
    checked: tuple[Path, dict[str, Any]],
) -> None:
    """Judged once: the package's findings are status's, word for word, for the validity-check
    rules and the restore time of the system it checked."""
    config, report = checked
    set_objective(config, 0.5)  # as when the check ran (another test of the module moves it)
    result = drctl(config, "--json", "status")
    status = {(f["rule"], f["subject"]): f for f in json.loads(result.stdout)["findings"]}
    stated = {(f["rule"], f["subject"]): f for f in report["findings"]}
    assert sorted(stated) == [
        ("restore.duration", SYSTEM),
        ("verify.interval", SYSTEM),
        ("verify.sample", "all"),
    ]
    for key, finding in stated.items():
        for field in ("status", "measured", "threshold", "reason"):
            assert finding[field] == status[key][field], (key, field)
    assert stated[("verify.sample", "all")]["status"] == "compliant"
