"""`drctl catalog rebuild` ends with the worst outcome by the CLI contract: an unsigned point
refused in one store (1) wins over another store not reachable (3). A real sandbox (real
ansible-runner, directory stores): the off-site store's root is gone, an intruder sits in the
primary store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from orchestrator.actions.backup import run_backup
from orchestrator.actions.copy_offsite import run_copy_offsite
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.actions.workload import run_workload
from orchestrator.cli import main
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site

SYSTEM = "core-banking"


def test_an_intruder_and_an_unreachable_store_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path = prepare_sandbox(tmp_path / "sb")
    with open_runtime(load_site(config_path)) as runtime:
        run_workload(runtime, SYSTEM, "production", "ledger", postings=10, seed=1)
        run_backup(runtime, SYSTEM, datasets=["ledger"])
        run_copy_offsite(runtime, systems=[SYSTEM])
    stores = config_path.parent / "stores"
    genuine = next(stores.glob(f"primary/{SYSTEM}/ledger/*/manifest.json")).parent
    planted = genuine.with_name("29991231T235959Z-planted")
    shutil.copytree(genuine, planted)
    (planted / "manifest.json.sig").unlink()
    (stores / "offsite").rename(stores / "offsite-gone")

    capsys.readouterr()
    code = main(["-c", str(config_path), "--json", "catalog", "rebuild", "--dry-run"])
    outcome = json.loads(capsys.readouterr().out)
    assert [line.split(":")[0] for line in outcome["unreachable"]] == ["offsite"]
    assert any("29991231T235959Z-planted" in line for line in outcome["not_recovered"])
    assert code == 1
