"""A planned switchover restores exactly the points it cleared; when one does not match, on a
real sandbox (directory stores, real ansible-runner), it is recorded bad like any mismatch a
restore finds (verification.md §8): the next switchover does not clear it again."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from orchestrator.actions.backup import run_backup
from orchestrator.actions.copy_offsite import run_copy_offsite
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.actions.workload import run_workload
from orchestrator.cli import main
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.integration.test_bad_points import SYSTEM, point_row

SWITCHOVER = """\
name: sandbox-switchover
kind: switchover
title: {zh: 切换, en: switchover}
description: {zh: 切换至灾备中心, en: switch over to the DR site}
system: core-banking
objectives: {rto_seconds: 600}
steps:
  - name: switchover
    action: failover
    from_store: offsite
    to_site: disaster-recovery
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("damage", ["cut", "deleted"])
def test_a_cleared_point_that_does_not_match_is_recorded_bad(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    config_path = prepare_sandbox(tmp_path / "sb")
    config = str(config_path)
    with open_runtime(load_site(config_path)) as runtime:
        run_workload(runtime, SYSTEM, "production", "ledger", postings=40, seed=1)
        points = {o.dataset: o.recovery_point_id for o in run_backup(runtime, SYSTEM)}
        run_copy_offsite(runtime, systems=[SYSTEM])
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    code, out, err = run(
        capsys,
        *("-c", config, "plan", "switchover", "--system", SYSTEM, "--record"),
        *("--start", today, "--end", today, "--notice-date", today),
    )
    assert code == 0, out + err
    scenario = tmp_path / "switchover.yml"
    scenario.write_text(SWITCHOVER, encoding="utf-8")
    ledger = points["ledger"]
    data = config_path.parent / "stores" / "offsite" / SYSTEM / "ledger" / ledger / "data"
    (cut,) = [p for p in data.rglob("*") if p.is_file()]
    if damage == "cut":
        cut.write_bytes(cut.read_bytes()[:-10])
    else:
        cut.unlink()

    code, out, err = run(
        capsys, "-c", config, "--json", "drill", "run", str(scenario), "--confirm", SYSTEM
    )
    assert code == 1, out + err
    assert ("digest mismatch" if damage == "cut" else "missing") in out, out + err
    assert point_row(config_path, ledger).status == "bad"  # no longer counts as a backup
    # The drill's evidence names what did not match, whichever way the point was damaged.
    evidence = Path(json.loads(out)["evidence"]) / "report.json"
    mismatches = json.loads(evidence.read_text(encoding="utf-8"))["mismatches"]
    assert [m["recovery_point"] for m in mismatches] == [ledger], mismatches
    code, out, err = run(capsys, "-c", config, "drill", "run", str(scenario), "--confirm", SYSTEM)
    assert code == 2 and "no verified recovery point" in err, out + err  # never cleared again
