"""A recovery point is its system, dataset and id together, on a real sandbox (directory
stores, real ansible-runner): a good point copied, or its id made a directory, under another
dataset by someone with write access to a store is an intruder or an incomplete point there —
it never gets the catalog's good point of that id marked bad (which, on S3 with Object Lock
where nothing of the original can be changed, would let adding objects destroy every point)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from orchestrator.actions.backup import run_backup
from orchestrator.actions.copy_offsite import run_copy_offsite
from orchestrator.actions.evidence_marks import evidence_bad_points
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.actions.workload import run_workload
from orchestrator.cli import main
from orchestrator.errors import CheckFailed
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.integration.test_bad_points import (
    SYSTEM,
    point_row,
    restore_dataset,
    run_json,
    two_days_of_backups,
)


def test_a_point_id_under_another_dataset_never_marks_the_good_point_bad(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path = prepare_sandbox(tmp_path / "sb")
    with open_runtime(load_site(config_path)) as runtime:
        run_workload(runtime, SYSTEM, "production", "ledger", postings=40, seed=1)
        older = {o.dataset: o.recovery_point_id for o in run_backup(runtime, SYSTEM)}
        newer = {o.dataset: o.recovery_point_id for o in run_backup(runtime, SYSTEM)}
        run_copy_offsite(runtime, systems=[SYSTEM])
    stores = config_path.parent / "stores"
    ledger = newer["ledger"]
    planted = stores / "offsite" / SYSTEM / "config" / ledger
    shutil.copytree(stores / "offsite" / SYSTEM / "ledger" / ledger, planted)  # whole, signed
    (stores / "primary" / SYSTEM / "config" / older["ledger"]).mkdir()  # an id, nothing in it

    code, scan = run_json(capsys, "-c", str(config_path), "verify", "--all")
    assert code == 1
    problems = [(p["store"], p["recovery_point"], p["kind"]) for p in scan["problems"]]
    assert problems == [("offsite", f"{SYSTEM}/config/{ledger}", "intruder")]
    assert point_row(config_path, ledger).status == "complete"
    assert point_row(config_path, older["ledger"]).status == "complete"

    for store in ("offsite", "primary"):
        outcome = restore_dataset(config_path, store, "config")
        (restored,) = outcome.datasets
        assert restored.recovery_point_id == newer["config"] and restored.ok
        assert outcome.failures == ()
    assert point_row(config_path, ledger).status == "complete"
    assert point_row(config_path, older["ledger"]).status == "complete"


def test_a_point_the_evidence_found_bad_is_not_restored_from_a_catalog_put_back(
    tmp_path: Path,
) -> None:
    """An operator puts last night's copy of the catalog back after a disk failure: the bad
    mark a scan made since is gone from it, but not from the evidence, and a restore still
    never uses the point (from the copy that still matches, or given by id)."""
    config_path, older, newer = two_days_of_backups(tmp_path / "sb")
    catalog = config_path.parent / "state" / "catalog.sqlite"
    last_night = tmp_path / "catalog-last-night.sqlite"
    shutil.copyfile(catalog, last_night)
    primary = config_path.parent / "stores" / "primary" / SYSTEM / "ledger" / newer / "data"
    (cut,) = [p for p in primary.rglob("*") if p.is_file()]
    cut.write_bytes(cut.read_bytes()[:-10])
    assert main(["-c", str(config_path), "verify", "--all"]) == 1
    assert point_row(config_path, newer).status == "bad"
    with open_runtime(load_site(config_path)) as runtime:
        # The catalog names the scan's package: its marks are there, the package is not read.
        assert evidence_bad_points(runtime) == {}
    shutil.copyfile(last_night, catalog)
    assert point_row(config_path, newer).status == "complete"  # what the old copy says
    with open_runtime(load_site(config_path)) as runtime:
        assert set(evidence_bad_points(runtime)) == {newer}

    outcome = restore_dataset(config_path, "offsite")
    (restored,) = outcome.datasets
    assert restored.recovery_point_id == older and restored.ok
    (passed,) = restored.passed_over
    assert passed.recovery_point_id == newer and "evidence" in passed.reason
    with pytest.raises(CheckFailed, match="marked bad"):
        restore_dataset(config_path, "offsite", point=newer)
