"""Retention deleting a copy while a reader reads it, on a real sandbox (directory stores).

`drctl retention` records a copy deleted before it removes its files
(actions/retention_delete.py). Each test interleaves the real deletion between a reader's
first look at a copy and its next read, by wrapping the store method the reader calls next:
the reader then finds the files missing, re-reads the copy's row and judges nothing (no bad
mark, no integrity failure), saying the copy was removed by retention while it was checked.
A missing file of a copy still present stays a failure (exit 1, point bad). Readers covered:
the validity check, the re-check, `verify --all`, copy-offsite's source, a restore's choice.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from orchestrator.actions.backup import run_backup
from orchestrator.actions.copy_offsite import run_copy_offsite
from orchestrator.actions.removed_copies import REMOVED
from orchestrator.actions.restore import run_restore
from orchestrator.actions.retention_delete import DELETED, Deletion, delete_copy
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.actions.verify_plan import build_plan
from orchestrator.actions.workload import run_workload
from orchestrator.cli import main
from orchestrator.integrations.stores.file import FileStore
from orchestrator.model import catalog as cat
from orchestrator.model import schema
from orchestrator.runtime import Runtime, open_runtime
from orchestrator.site import load_site
from tests.integration.test_bad_points import two_days_of_backups
from tests.integration.test_copy_offsite_faults import backed_up
from tests.integration.test_switchover_mismatch import SWITCHOVER, run
from tests.integration.test_verify_sample import (
    SYSTEM,
    a_data_file,
    build_sandbox,
    flip_byte,
    point_dir,
)

MONTH_SECONDS = 30 * 86400


def age(point: Path) -> None:
    """Set every file of a stored point 30 days back: rotation may delete it."""
    moment = cat.now() - MONTH_SECONDS
    for path in [point, *point.rglob("*")]:
        os.utime(path, (moment, moment))


def deletion(runtime: Runtime, store: str, dataset: str, point: str) -> Deletion:
    with runtime.catalog.begin() as connection:
        row = cat.get_recovery_point(connection, point)
    return Deletion(point, SYSTEM, dataset, store, row.business_date, 0.0, 0.0, "rotation: test")


def retention_at_first_look(
    monkeypatch: pytest.MonkeyPatch, config_path: Path, store_name: str, point: Path
) -> list[str]:
    """Age a stored point (`stores/<store>/<system>/<dataset>/<point>`) and wrap
    FileStore.exists so that the first look at one of its data files runs retention's real
    deletion of that copy before it; return the deletion's outcomes."""
    age(point)
    exists = FileStore.exists
    outcomes: list[str] = []

    def deleted_first(store: FileStore, key: str) -> bool:
        if not outcomes and store.name == store_name and f"/{point.name}/data/" in key:
            with open_runtime(load_site(config_path)) as runtime:
                chosen = deletion(runtime, store_name, point.parent.name, point.name)
                outcomes.append(delete_copy(runtime, chosen, "auditor"))
        return exists(store, key)

    monkeypatch.setattr(FileStore, "exists", deleted_first)
    return outcomes


def catalog_state(config_path: Path, point: str, store: str) -> tuple[str, str, list[Any]]:
    """Return (point status, its copy's status in store, its integrity failures)."""
    with open_runtime(load_site(config_path)) as runtime, runtime.catalog.begin() as connection:
        row = cat.get_recovery_point(connection, point)
        status = cat.copy_status(connection, point, store)
        failures = connection.execute(
            select(schema.integrity_failures).where(
                schema.integrity_failures.c.recovery_point_id == point
            )
        ).all()
    return row.status, str(status), list(failures)


def test_a_sampled_copy_removed_by_retention_during_the_check_is_not_judged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`drctl verify`: the sampled primary copy of a point is deleted by retention after the
    check opened its manifest and before it looked at its files."""
    config_path = build_sandbox(tmp_path / "sb")
    with open_runtime(load_site(config_path)) as runtime:
        planned = build_plan(runtime, "3")
    item = planned.items[0]
    point = config_path.parent / "stores" / item.store / SYSTEM / item.dataset / item.recovery_point
    outcomes = retention_at_first_look(monkeypatch, config_path, item.store, point)
    code = main(["-c", str(config_path), "verify", "--seed", "3"])
    out = capsys.readouterr().out
    assert outcomes == [DELETED]
    assert not point.exists()
    assert f"{item.dataset} {point.name} from {item.store} ({item.source}): {REMOVED}" in out
    assert "MISMATCH" not in out
    assert catalog_state(config_path, point.name, item.store) == ("complete", "deleted", [])
    with open_runtime(load_site(config_path)) as runtime, runtime.catalog.begin() as connection:
        check = connection.execute(schema.verifications.select()).one()
        items = connection.execute(schema.verification_items.select()).all()
    assert check.status == "passed"
    assert {i.status for i in items if i.recovery_point_id == point.name} == {"removed"}
    # What is recorded is what was judged: the removed point is not in the sample's counts.
    assert check.sample_points == len(planned.items) - 1
    assert check.sample_bytes == planned.sample_bytes - item.bytes
    # Counted only if the points it did judge still meet both bars: exit 0 then, else 1.
    assert code == (0 if check.counted else 1)


def test_a_rechecked_copy_removed_by_retention_is_not_judged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`drctl verify --recheck`: of the newer point's two copies, retention deletes the
    off-site one while it is re-checked; the primary copy passes and resolves the incident."""
    config_path = build_sandbox(tmp_path / "sb")
    flip_byte(a_data_file(point_dir(config_path, "primary", "config"))[0])
    assert main(["-c", str(config_path), "verify", "--all"]) == 1  # an open incident
    with open_runtime(load_site(config_path)) as runtime:
        run_backup(runtime, SYSTEM)
        run_copy_offsite(runtime, systems=[SYSTEM])
    newer = point_dir(config_path, "offsite", "config")
    outcomes = retention_at_first_look(monkeypatch, config_path, "offsite", newer)
    capsys.readouterr()
    code = main(["-c", str(config_path), "verify", "--recheck"])
    out = capsys.readouterr().out
    assert outcomes == [DELETED]
    assert f"in offsite: {REMOVED}" in out
    assert code == 0, out
    assert f"resolved {SYSTEM}/config" in out
    assert catalog_state(config_path, newer.name, "offsite") == ("complete", "deleted", [])


def test_verify_all_does_not_judge_a_copy_removed_by_retention_during_the_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`drctl verify --all`: retention deletes a primary copy after the scan authenticated
    its manifest and before it looked at its files."""
    config_path = build_sandbox(tmp_path / "sb")
    point = point_dir(config_path, "primary", "ledger")
    outcomes = retention_at_first_look(monkeypatch, config_path, "primary", point)
    code = main(["-c", str(config_path), "verify", "--all"])
    out = capsys.readouterr().out
    assert outcomes == [DELETED]
    assert code == 0, out
    assert f"removed: {SYSTEM}/ledger/{point.name} in primary: {REMOVED}" in out
    assert "MISMATCH" not in out
    assert catalog_state(config_path, point.name, "primary") == ("complete", "deleted", [])


def test_verify_all_still_fails_a_missing_file_of_a_present_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same interleaving, but the files are removed by something other than retention
    (the copy's row stays present): a failed check, the point bad, its failure recorded."""
    config_path = build_sandbox(tmp_path / "sb")
    point = point_dir(config_path, "primary", "ledger")
    exists = FileStore.exists
    removed: list[str] = []

    def files_gone_first(store: FileStore, key: str) -> bool:
        if not removed and store.name == "primary" and f"/{point.name}/data/" in key:
            removed.append(key)
            FileStore.delete_point(store, SYSTEM, "ledger", point.name)
        return exists(store, key)

    monkeypatch.setattr(FileStore, "exists", files_gone_first)
    code = main(["-c", str(config_path), "verify", "--all"])
    out = capsys.readouterr().out
    assert removed and code == 1
    assert "missing" in out and REMOVED not in out
    status, copy, failures = catalog_state(config_path, point.name, "primary")
    assert (status, copy) == ("bad", "bad")
    assert failures and {f.kind for f in failures} == {"missing"}


def test_copy_offsite_does_not_judge_a_source_removed_by_retention(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """`copy-offsite`: retention deletes the primary copy of a point after copy-offsite
    opened its manifest and before it read its files; the other points are still copied.
    Retention takes a primary copy only from a point verified at another site: here a copy at
    a third site (a tape vault), which is not the system's off-site store copy-offsite fills."""
    config_path, points = backed_up(tmp_path / "sb")
    point = point_dir(config_path, "primary", "ledger")
    assert point.name == points["ledger"]
    with open_runtime(load_site(config_path)) as runtime, runtime.catalog.begin() as connection:
        moment = cat.now()
        cat.record_copy(
            connection, point.name, "vault", "vault", written_at=moment, verified_at=moment
        )
    outcomes = retention_at_first_look(monkeypatch, config_path, "primary", point)
    caplog.set_level(logging.WARNING)
    with open_runtime(load_site(config_path)) as runtime:
        copied = run_copy_offsite(runtime, systems=[SYSTEM])  # no CheckFailed: nothing bad
    assert outcomes == [DELETED]
    assert {o.dataset for o in copied} == set(points) - {"ledger"}
    assert f"{SYSTEM}/ledger/{point.name} in primary: {REMOVED}" in caplog.text
    assert catalog_state(config_path, point.name, "primary") == ("complete", "deleted", [])
    with open_runtime(load_site(config_path)) as runtime, runtime.catalog.begin() as connection:
        assert cat.copy_status(connection, point.name, "offsite") is None


def test_copy_offsite_still_fails_a_missing_source_file_of_a_present_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path, points = backed_up(tmp_path / "sb")
    point = point_dir(config_path, "primary", "ledger")
    file, _relative = a_data_file(point)
    file.unlink()
    with open_runtime(load_site(config_path)) as runtime, pytest.raises(Exception) as raised:
        run_copy_offsite(runtime, systems=[SYSTEM])
    assert "missing" in str(raised.value)
    status, copy, failures = catalog_state(config_path, point.name, "primary")
    assert (status, copy) == ("bad", "bad") and failures


def test_a_restore_passes_over_a_point_removed_by_retention_while_it_read_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restore choosing the newest good point: retention deletes the newer point's copy
    after the restore opened its manifest; it is passed over, not judged, and the restore
    falls back to the older point."""
    config_path, older, newer = two_days_of_backups(tmp_path / "sb")
    point = config_path.parent / "stores" / "primary" / SYSTEM / "ledger" / newer
    outcomes = retention_at_first_look(monkeypatch, config_path, "primary", point)
    with open_runtime(load_site(config_path)) as runtime:
        outcome = run_restore(
            runtime,
            SYSTEM,
            store_name="primary",
            site_name="disaster-recovery",
            datasets=["ledger"],
        )
    assert outcomes == [DELETED]
    (restored,) = outcome.datasets
    assert restored.recovery_point_id == older and restored.ok
    (passed,) = restored.passed_over
    assert (passed.recovery_point_id, passed.reason, passed.mismatch) == (newer, REMOVED, False)
    assert outcome.mismatches_found == ()
    assert catalog_state(config_path, newer, "primary") == ("complete", "deleted", [])


def test_a_switchover_whose_cleared_copy_retention_removes_mid_restore_is_not_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A restore of a given point (a switchover's cleared point): retention deletes the copy
    after the restore opened its manifest. Nothing was judged: the drill is aborted (exit 3),
    saying the copy was removed by retention while it was read, never a failed check (exit 1)
    with a `missing` file; the point is not marked bad and the evidence names no mismatch."""
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
    point = config_path.parent / "stores" / "offsite" / SYSTEM / "ledger" / points["ledger"]
    outcomes = retention_at_first_look(monkeypatch, config_path, "offsite", point)
    code, out, err = run(
        capsys, "-c", config, "--json", "drill", "run", str(scenario), "--confirm", SYSTEM
    )
    assert outcomes == [DELETED]
    assert code == 3, out + err
    assert REMOVED in out + err, out + err
    assert catalog_state(config_path, point.name, "offsite") == ("complete", "deleted", [])
    report = json.loads(out)
    assert report["outcome"] == "aborted", report
    evidence = Path(report["evidence"]) / "report.json"
    assert json.loads(evidence.read_text(encoding="utf-8"))["mismatches"] == []
