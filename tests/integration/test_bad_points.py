"""A corrupt newest point on a real sandbox (real ansible-runner, SQLite ledger, two directory
stores): it stops counting, restores fall back, status and /metrics say so, evidence names it.

Each test builds its own sandbox: bad marks are for good, so no state may leak between tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orchestrator.actions.backup import run_backup
from orchestrator.actions.copy_offsite import run_copy_offsite
from orchestrator.actions.restore import RestoreOutcome, run_restore
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.actions.workload import run_workload
from orchestrator.cli import main
from orchestrator.errors import CheckFailed
from orchestrator.model import catalog as cat
from orchestrator.model import integrity
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.fixtures.catalog_scrape import scrape

SYSTEM = "core-banking"


def two_days_of_backups(base: Path) -> tuple[Path, str, str]:
    """Build a sandbox with two full backups of every dataset, both copied off-site; return
    the config and the ledger's older and newer point ids."""
    config_path = prepare_sandbox(base)
    with open_runtime(load_site(config_path)) as runtime:
        run_workload(runtime, SYSTEM, "production", "ledger", postings=40, seed=1)
        first = run_backup(runtime, SYSTEM, datasets=["ledger"])[0].recovery_point_id
        run_workload(runtime, SYSTEM, "production", "ledger", postings=40, seed=2)
        second = run_backup(runtime, SYSTEM, datasets=["ledger"])[0].recovery_point_id
        run_copy_offsite(runtime, systems=[SYSTEM])
    assert first < second
    return config_path, first, second


def truncate_in_both_stores(config_path: Path, point: str) -> list[Path]:
    truncated = []
    for store in ("primary", "offsite"):
        data = config_path.parent / "stores" / store / SYSTEM / "ledger" / point / "data"
        for file in sorted(p for p in data.rglob("*") if p.is_file()):
            file.write_bytes(file.read_bytes()[: file.stat().st_size // 2])
            truncated.append(file)
    assert truncated
    return truncated


def point_row(config_path: Path, point: str) -> Any:
    with (
        open_runtime(load_site(config_path)) as runtime,
        runtime.catalog.begin() as connection,
    ):
        return cat.get_recovery_point(connection, point)


def restore_dataset(
    config_path: Path, store: str, dataset: str = "ledger", point: str | None = None
) -> RestoreOutcome:
    """Restore one dataset from a store into the DR site: the given point, or its newest
    good one."""
    with open_runtime(load_site(config_path)) as runtime:
        return run_restore(
            runtime,
            SYSTEM,
            store_name=store,
            site_name="disaster-recovery",
            datasets=[dataset],
            points=None if point is None else {dataset: point},
        )


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    capsys.readouterr()
    code = main(["--json", *args])
    return code, json.loads(capsys.readouterr().out)


LEDGER = (("dataset", "ledger"), ("system", SYSTEM))


def test_truncated_newest_point_stops_counting_and_restore_falls_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path, older, newer = two_days_of_backups(tmp_path / "sb")
    before = scrape(config_path)
    assert before[("dr_backup_last_success_timestamp_seconds", LEDGER)] == pytest.approx(
        point_row(config_path, newer).finished_at
    )
    truncate_in_both_stores(config_path, newer)

    code, scan = run_json(capsys, "-c", str(config_path), "verify", "--all")
    assert code == 1
    truncated = [p for p in scan["problems"] if p["kind"] == "truncated"]
    assert {p["store"] for p in truncated} == {"primary", "offsite"}
    assert all(p["recovery_point"].endswith(newer) for p in truncated)
    # The evidence package names the point, the file and both digests.
    report = json.loads((Path(scan["evidence"]) / "report.json").read_text())
    named = [m for m in report["mismatches"] if m["recovery_point"] == newer]
    assert named and all(m["expected"] != m["actual"] and m["file"] for m in named)
    assert main(["-c", str(config_path), "evidence", "verify", scan["evidence"]]) == 0
    assert point_row(config_path, newer).status == "bad"

    # status: the last backup is the older point; the newer one is listed bad; rotation fails.
    code, status = run_json(capsys, "-c", str(config_path), "status")
    ledger = next(d for d in status["datasets"] if d["dataset"] == "ledger")
    assert ledger["last_backup_id"] == older
    assert ledger["bad_recovery_points"] == [newer]
    rotation = next(
        f
        for f in status["findings"]
        if f["rule"] == "backup.rotation" and f["subject"] == f"{SYSTEM}/ledger"
    )
    assert rotation["status"] == "non_compliant" and newer in rotation["reason"]
    assert code == 1

    # /metrics: the success timestamp falls back; the bad point is counted (alert input).
    after = scrape(config_path)
    assert after[("dr_backup_last_success_timestamp_seconds", LEDGER)] == pytest.approx(
        point_row(config_path, older).finished_at
    )
    assert after[("dr_recovery_points_bad", LEDGER)] == 1.0
    assert (
        after[
            (
                "dr_rule_status",
                (
                    ("rule", "backup.rotation"),
                    ("status", "non_compliant"),
                    ("subject", f"{SYSTEM}/ledger"),
                ),
            )
        ]
        == 1.0
    )

    # A restore (failover) picks the older good point and says why it passed the newer over.
    outcome = restore_dataset(config_path, "offsite")
    (restored,) = outcome.datasets
    assert restored.recovery_point_id == older and restored.ok
    assert [(p.recovery_point_id, p.reason) for p in restored.passed_over] == [
        (newer, "marked bad in the catalog")
    ]
    assert outcome.fell_back and outcome.mismatches_found == ()  # known bad, not a new finding

    # Every later scan reports it again, even when the files are gone altogether.
    code, again = run_json(capsys, "-c", str(config_path), "verify", "--all")
    assert code == 1 and any(newer in p["recovery_point"] for p in again["problems"])


def test_restore_finds_the_corruption_itself_marks_it_bad_and_falls_back(
    tmp_path: Path,
) -> None:
    config_path, older, newer = two_days_of_backups(tmp_path / "sb")
    truncate_in_both_stores(config_path, newer)
    with open_runtime(load_site(config_path)) as runtime:
        outcome = run_restore(
            runtime,
            SYSTEM,
            store_name="primary",
            site_name="disaster-recovery",
            datasets=["ledger"],
        )
        with runtime.catalog.begin() as connection:
            failures = integrity.list_failures(connection, open_only=True)
    (restored,) = outcome.datasets
    assert restored.recovery_point_id == older and restored.ok
    (passed,) = restored.passed_over
    assert passed.recovery_point_id == newer
    assert "mismatch" in passed.reason and "evidence" in passed.reason
    assert outcome.mismatches_found == (passed,)
    assert point_row(config_path, newer).status == "bad"
    (failure,) = failures
    assert (failure.recovery_point_id, failure.store, failure.kind) == (
        newer,
        "primary",
        "mismatch",
    )
    assert failure.expected != failure.actual and len(failure.expected) == 64
    report = json.loads((Path(failure.evidence_path) / "report.json").read_text())
    assert report["mismatches"][0]["recovery_point"] == newer
    assert report["mismatches"][0]["expected"] == failure.expected


def test_nothing_good_left_is_a_failed_check_not_a_fallback(tmp_path: Path) -> None:
    config_path, older, newer = two_days_of_backups(tmp_path / "sb")
    truncate_in_both_stores(config_path, newer)
    truncate_in_both_stores(config_path, older)
    with pytest.raises(CheckFailed, match="no good recovery point of core-banking/ledger"):
        restore_dataset(config_path, "offsite")
    assert point_row(config_path, older).status == point_row(config_path, newer).status == "bad"


FAILOVER_ONLY = """\
name: failover-only
title: {zh: 仅切换, en: failover only}
description: {zh: 从异地副本恢复到灾备中心, en: restore the off-site copies into the DR site}
system: core-banking
objectives: {rto_seconds: 600, rpo_seconds: 86400}
steps:
  - name: failover
    action: failover
    from_store: offsite
    to_site: disaster-recovery
"""


def test_a_drill_that_passes_over_a_tampered_point_is_a_failed_drill(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The failover falls back to the older good point, but the drill met a mismatch: it
    fails (exit 1) and its evidence names the tampered point, never `passed`."""
    config_path = prepare_sandbox(tmp_path / "sb")
    with open_runtime(load_site(config_path)) as runtime:
        run_workload(runtime, SYSTEM, "production", "ledger", postings=40, seed=1)
        older = {o.dataset: o.recovery_point_id for o in run_backup(runtime, SYSTEM)}
        run_workload(runtime, SYSTEM, "production", "ledger", postings=40, seed=3)
        newer = {o.dataset: o.recovery_point_id for o in run_backup(runtime, SYSTEM)}
        run_copy_offsite(runtime, systems=[SYSTEM])
    data = config_path.parent / "stores" / "offsite" / SYSTEM / "ledger" / newer["ledger"]
    (tampered,) = [p for p in (data / "data").rglob("*") if p.is_file()]
    tampered.write_bytes(tampered.read_bytes()[:-10])
    scenario = tmp_path / "failover-only.yml"
    scenario.write_text(FAILOVER_ONLY, encoding="utf-8")

    capsys.readouterr()
    code = main(["-c", str(config_path), "drill", "run", str(scenario)])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "result: FAILED" in out and newer["ledger"] in out
    evidence = Path(next(x for x in out.splitlines() if x.startswith("evidence: "))[10:])
    report = json.loads((evidence / "report.json").read_text())
    assert report["outcome"] == "failed"
    (mismatch,) = report["mismatches"]
    assert (mismatch["recovery_point"], mismatch["store"]) == (newer["ledger"], "offsite")
    assert mismatch["expected"] != mismatch["actual"]
    assert point_row(config_path, newer["ledger"]).status == "bad"
    assert point_row(config_path, older["ledger"]).status == "complete"


def test_a_point_given_by_id_that_is_marked_bad_is_never_restored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A switchover restores the points it cleared at its start, a check the points it
    planned: one marked bad since (here its primary copy was found cut short, while the
    off-site copy still matches) is refused, not restored from the copy that still matches."""
    config_path, _older, newer = two_days_of_backups(tmp_path / "sb")
    primary = config_path.parent / "stores" / "primary" / SYSTEM / "ledger" / newer / "data"
    (cut,) = [p for p in primary.rglob("*") if p.is_file()]
    cut.write_bytes(cut.read_bytes()[:-10])
    assert main(["-c", str(config_path), "verify", "--all"]) == 1
    assert point_row(config_path, newer).status == "bad"
    restored = config_path.parent / "sites" / "disaster-recovery" / "data" / "ledger"
    assert not restored.exists()

    with pytest.raises(CheckFailed, match=f"offsite:{SYSTEM}/ledger/{newer}/: marked bad"):
        restore_dataset(config_path, "offsite", point=newer)
    assert not restored.exists()  # nothing of it reached the site


def test_a_data_file_linked_outside_the_store_is_missing_never_an_internal_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Someone with write access to a directory store moves a point's file out and leaves a
    link to it: the point lacks that file (bad, with evidence), the scan reports it and still
    scans every store, and a restore falls back to the older point — not exit 3 "internal
    error", which stopped the whole scan and the failover."""
    config_path, older, newer = two_days_of_backups(tmp_path / "sb")
    data = config_path.parent / "stores" / "offsite" / SYSTEM / "ledger" / newer / "data"
    (linked,) = [p for p in data.rglob("*") if p.is_file()]
    outside = tmp_path / "outside.db"
    linked.rename(outside)
    linked.symlink_to(outside)

    code, scan = run_json(capsys, "-c", str(config_path), "verify", "--all")
    assert code == 1
    assert scan["unreachable"] == {} and "offsite" in scan["scanned"]
    problems = [(p["store"], p["recovery_point"], p["kind"]) for p in scan["problems"]]
    assert problems == [("offsite", f"{SYSTEM}/ledger/{newer}", "missing")]
    assert point_row(config_path, newer).status == "bad"

    outcome = restore_dataset(config_path, "offsite")
    (restored,) = outcome.datasets
    assert restored.recovery_point_id == older and restored.ok
