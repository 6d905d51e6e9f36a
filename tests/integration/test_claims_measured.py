"""drctl never claims more than it measured, on a real sandbox (ansible-runner, SQLite catalog,
directory stores): a check killed (SIGKILL, a real process) after its items were recorded and
before its verdict and evidence were committed is no verification in `status` or /metrics
(docs/crash-safety.md: status never claims a check that is not committed); a drill of one system
is no drill of another."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.cli import main
from tests.fixtures.catalog_scrape import scrape
from tests.integration.test_verify_sample import SYSTEM, build_sandbox

# drctl, killed with SIGKILL by itself the moment a validity check starts writing its package:
# its items and bad marks are committed, its verdict and evidence are not.
KILLED_AT_PACKAGE = """\
import os, signal, sys
from orchestrator.actions import verify_sample
from orchestrator.cli import main

def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

verify_sample.write_site_package = killed
sys.exit(main(sys.argv[1:]))
"""


def killed_before_its_package(config_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", KILLED_AT_PACKAGE, "-c", str(config_path), "verify"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == -9, done.stdout + done.stderr


def test_a_check_killed_before_its_evidence_is_no_verification_in_status_or_metrics(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path = build_sandbox(tmp_path / "sb")
    killed_before_its_package(config_path)
    capsys.readouterr()
    main(["-c", str(config_path), "--json", "status"])
    rows = json.loads(capsys.readouterr().out)["datasets"]
    assert [row["last_verification"] for row in rows] == [None] * len(rows), rows
    samples = scrape(config_path)
    verified = [
        labels
        for (name, labels), value in samples.items()
        if name == "dr_restore_verification_last_success_timestamp_seconds"
        or (name == "dr_restore_sample_coverage_ratio" and value)
    ]
    assert verified == [], verified
    # The next check commits its verdict with its evidence: then its points are verified.
    assert main(["-c", str(config_path), "verify"]) == 0
    capsys.readouterr()
    main(["-c", str(config_path), "--json", "status"])
    rows = json.loads(capsys.readouterr().out)["datasets"]
    assert any(row["last_verification"] for row in rows if row["system"] == SYSTEM), rows


def test_a_drill_of_one_system_is_no_drill_of_another_in_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sandbox drill (of core-banking) passes; a second system is then configured. Its
    datasets have never been drilled: status's "last drill" is the last passed drill of the
    dataset's own system, so theirs is none."""
    config_path = prepare_sandbox(tmp_path / "sb")
    assert main(["-c", str(config_path), "drill", "run"]) == 0
    document = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    [system] = document["systems"]
    document["systems"].append({**system, "name": "payments"})
    config_path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    capsys.readouterr()
    main(["-c", str(config_path), "--json", "status"])
    rows = json.loads(capsys.readouterr().out)["datasets"]
    drilled = {row["system"]: row["last_drill"] is not None for row in rows}
    assert drilled == {SYSTEM: True, "payments": False}, rows


def test_status_at_a_past_moment_claims_no_verification_made_after_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`status --at <yesterday>` after today's backup and check: nothing was backed up or
    verified by then, so no dataset shows a verification (it showed today's, with a negative
    age)."""
    config_path = build_sandbox(tmp_path / "sb")
    assert main(["-c", str(config_path), "verify"]) == 0
    yesterday = (datetime.now(ZoneInfo("Asia/Shanghai")).date() - timedelta(days=1)).isoformat()
    capsys.readouterr()
    main(["-c", str(config_path), "--json", "status", "--at", yesterday])
    rows = json.loads(capsys.readouterr().out)["datasets"]
    assert [row["last_verification"] for row in rows] == [None] * len(rows), rows
