"""`drctl run-due` ends with the worst outcome by the CLI contract (errors.worst_exit_code): a
data mismatch (1) wins over an infrastructure failure (3) in the same pass. On a real sandbox
(real ansible-runner, two directory stores): the ledger's database is missing, so its backup
fails (3), and a point about to be copied off-site was changed in the primary store (1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.actions.backup import run_backup
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.actions.workload import run_workload
from orchestrator.cli import main
from orchestrator.errors import InfrastructureError
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site

SYSTEM = "core-banking"


def test_a_mismatch_and_a_failed_backup_in_one_pass_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path = prepare_sandbox(tmp_path / "sb")
    with open_runtime(load_site(config_path)) as runtime:
        run_workload(runtime, SYSTEM, "production", "ledger", postings=10, seed=1)
        ledger = config_path.parent / "sites" / "production" / "data" / "ledger" / "ledger.db"
        ledger.unlink()  # the ledger's backup now fails, before any data is compared (3)
        with pytest.raises(InfrastructureError, match="ledger"):
            run_backup(runtime, SYSTEM)
    primary = config_path.parent / "stores" / "primary" / SYSTEM / "config"
    file = sorted(p for p in primary.rglob("data/**/*") if p.is_file())[0]
    file.write_bytes(b"\xff" + file.read_bytes()[1:])

    capsys.readouterr()
    code = main(["-c", str(config_path), "--json", "run-due"])
    jobs = {
        (j["kind"], j["status"], j["exit_code"])
        for j in json.loads(capsys.readouterr().out)["jobs"]
    }
    assert ("backup", "failed", 3) in jobs
    assert ("copy_offsite", "failed", 1) in jobs
    assert code == 1
