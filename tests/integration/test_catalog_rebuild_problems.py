"""`catalog rebuild` puts back the bad marks a scan made, and only those: an intruder that
`verify --all` reported (and did not mark, it is no recorded point) stays an intruder, not a
bad point of the dataset. A real sandbox (real ansible-runner, directory stores)."""

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
PLANTED = "29991231T235959Z-planted"


def ledger_row(capsys: pytest.CaptureFixture[str], config_path: Path) -> dict:
    capsys.readouterr()
    main(["-c", str(config_path), "--json", "status"])
    status = json.loads(capsys.readouterr().out)
    return next(d for d in status["datasets"] if d["dataset"] == "ledger")


def test_an_intruder_a_scan_reported_is_not_rebuilt_as_a_bad_point(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path = prepare_sandbox(tmp_path / "sb")
    with open_runtime(load_site(config_path)) as runtime:
        run_workload(runtime, SYSTEM, "production", "ledger", postings=10, seed=1)
        run_backup(runtime, SYSTEM, datasets=["ledger"])
        run_copy_offsite(runtime, systems=[SYSTEM])
    primary = config_path.parent / "stores" / "primary" / SYSTEM / "ledger"
    genuine = next(primary.glob("*/manifest.json")).parent
    shutil.copytree(genuine, primary / PLANTED)
    (primary / PLANTED / "manifest.json.sig").unlink()
    assert main(["-c", str(config_path), "verify", "--all"]) == 1  # the intruder, reported
    before = ledger_row(capsys, config_path)
    assert before["bad_recovery_points"] == []

    (config_path.parent / "state" / "catalog.sqlite").unlink()
    assert main(["-c", str(config_path), "catalog", "upgrade"]) == 0
    assert main(["-c", str(config_path), "catalog", "rebuild"]) == 1  # the intruder, refused
    after = ledger_row(capsys, config_path)
    assert after["bad_recovery_points"] == []
    assert after["last_backup_id"] == before["last_backup_id"] == genuine.name


def test_a_bad_mark_of_a_validity_check_survives_the_rebuild(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A sampled check marks bad what it finds — a file of the wrong size before the restore,
    a table or invariant after it — and a rebuild puts every such mark back: a point found bad
    never becomes a good point again (a fingerprint mismatch leaves the files' digests intact,
    so nothing else would stop a restore of it)."""
    config_path = prepare_sandbox(tmp_path / "sb")
    with open_runtime(load_site(config_path)) as runtime:
        run_workload(runtime, SYSTEM, "production", "ledger", postings=10, seed=1)
        run_backup(runtime, SYSTEM, datasets=["ledger"])
        run_copy_offsite(runtime, systems=[SYSTEM])
    for file in (config_path.parent / "stores").glob(f"*/{SYSTEM}/ledger/*/data/*"):
        with file.open("ab") as handle:
            handle.write(b"appended")
    capsys.readouterr()
    assert main(["-c", str(config_path), "--json", "verify", "--seed", "1"]) == 1
    check = json.loads(capsys.readouterr().out)
    kinds = {(m["recovery_point"], m["kind"]) for m in check["mismatches"]}
    ((point, kind),) = kinds
    assert kind == "size"  # not one of the kinds a scan (verify --all) records
    assert ledger_row(capsys, config_path)["bad_recovery_points"] == [point]

    (config_path.parent / "state" / "catalog.sqlite").unlink()
    assert main(["-c", str(config_path), "catalog", "upgrade"]) == 0
    main(["-c", str(config_path), "catalog", "rebuild"])
    assert ledger_row(capsys, config_path)["bad_recovery_points"] == [point]
