"""A failed check never disappears by an edit of the catalog, on a real sandbox (ansible-runner,
SQLite catalog, directory stores, signed evidence chain): whoever can write the catalog
(sqlite3 on it) and deletes a failed check's row or sets it `passed`, and covers the bad mark
(the point `complete`, its failures resolved), leaves the signed packages of the chain whole.
`status` compares the catalog with the newest packages' records, `drctl report` with every one
(actions/catalog_age.py): both name the package and exit 1, and `catalog rebuild` puts the
signed record back (docs/operators.md, Losing the catalog)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from orchestrator.actions.backup import run_backup
from orchestrator.actions.catalog_age import catalog_warnings
from orchestrator.actions.copy_offsite import run_copy_offsite
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.integration.test_catalog_restored_stale import catalog_alerting
from tests.integration.test_failed_check_stays import (
    SEED,
    YEAR,
    corrupt_a_sampled_point,
    run,
)
from tests.integration.test_verify_sample import SYSTEM, build_sandbox

COVER_UP = {
    # The failed check said to have passed, its bad mark closed as a re-check would.
    "passed": [
        "UPDATE verifications SET status = 'passed' WHERE status = 'failed'",
        "UPDATE integrity_failures SET resolved_at = detected_at + 1, resolved_by = 'recheck'",
        "UPDATE recovery_points SET status = 'complete' WHERE status = 'bad'",
        "UPDATE copies SET status = 'present' WHERE status = 'bad'",
    ],
    # Only the point set back to good: it would count as a backup and be sampled again.
    "point_complete": [
        "UPDATE recovery_points SET status = 'complete' WHERE status = 'bad'",
        "UPDATE copies SET status = 'present' WHERE status = 'bad'",
    ],
    # Only the failed item: its point would count as verified by the check.
    "item_passed": ["UPDATE verification_items SET status = 'passed' WHERE status = 'failed'"],
    # Only the check's verdict: the site's validity checks would read as passed.
    "verdict_passed": ["UPDATE verifications SET status = 'passed' WHERE status = 'failed'"],
    # The failed check and its bad marks deleted.
    "deleted": [
        "DELETE FROM verifications WHERE status = 'failed'",
        "DELETE FROM integrity_failures",
        "UPDATE recovery_points SET status = 'complete' WHERE status = 'bad'",
        "UPDATE copies SET status = 'present' WHERE status = 'bad'",
    ],
}

# What `catalog rebuild` then names as set back to its signed record, by the first word of
# each line: the check's row (or its items) and the point marked bad again.
SET_BACK = {
    "passed": ["check", "recovery"],
    "point_complete": ["recovery"],
    "item_passed": ["check"],
    "verdict_passed": ["check"],
    "deleted": [],  # the lost check and its bad marks come back as added
}


def edit_catalog(config_path: Path, statements: list[str]) -> None:
    """Run SQL on the sandbox's SQLite catalog as an insider with sqlite3 would."""
    database = config_path.parent / "state" / "catalog.sqlite"
    with sqlite3.connect(database) as connection:
        for statement in statements:
            connection.execute(statement)
    connection.close()


def failed_check_package(config_path: Path) -> str:
    """Return the name of the failed check's own package (the one its record is in)."""
    directory = load_site(config_path).config.evidence_dir
    for package in sorted(directory.glob("verify-*")):
        report = package / "report.json"
        if package.is_dir() and report.is_file():
            record = json.loads(report.read_text(encoding="utf-8")).get("record") or {}
            if record.get("status") == "failed":
                return package.name
    raise AssertionError("no failed check package")


@pytest.mark.parametrize("cover_up", sorted(COVER_UP))
def test_a_failed_check_covered_up_in_the_catalog_is_named_by_status_and_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], cover_up: str
) -> None:
    config_path = build_sandbox(tmp_path / "sb")
    corrupt_a_sampled_point(config_path)
    assert main_code(capsys, config_path, "verify", "--seed", SEED) == 1
    package = failed_check_package(config_path)
    edit_catalog(config_path, COVER_UP[cover_up])

    code, out, err = run(capsys, "-c", str(config_path), "--json", "status")
    warnings = [w for w in json.loads(out)["warnings"] if package in w]
    assert code == 1 and len(warnings) == 1, out + err
    assert "drctl catalog rebuild" in warnings[0]

    code, out, err = run(capsys, "-c", str(config_path), "--json", "report", "--year", YEAR)
    result = json.loads(out)
    [warning] = [w for w in result["catalog_warnings"] if package in w]
    assert code == 1, out + err
    written = Path(result["evidence"])
    report = json.loads((written / "report.json").read_text(encoding="utf-8"))
    assert warning in report["catalog_warnings"]
    assert package in (written / "report.html").read_text(encoding="utf-8")

    # What the warning says to do puts the signed record back, an edited row included, and
    # says it set the edited rows back: none of them was lost, so none counts as added.
    code, out, err = run(capsys, "-c", str(config_path), "catalog", "rebuild", "--dry-run")
    assert code == 0 and out.count("would set back: ") == len(SET_BACK[cover_up]), out + err
    code, out, err = run(capsys, "-c", str(config_path), "--json", "catalog", "rebuild")
    outcome = json.loads(out)
    assert code == 0, out + err
    assert sorted(line.split(" ")[0] for line in outcome["set_back"]) == SET_BACK[cover_up]
    added = (outcome["points"], outcome["drills"], outcome["verifications"])
    assert added == ((0, 0, 1) if cover_up == "deleted" else (0, 0, 0)), out
    code, out, err = run(capsys, "-c", str(config_path), "--json", "status")
    assert not [w for w in json.loads(out).get("warnings", []) if package in w], out + err


def test_the_report_compares_the_catalog_with_every_package_of_the_chain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`status` reads only the newest packages (it must stay fast); the report reads them all,
    so a failed check deleted from the catalog long ago is still named there."""
    config_path = build_sandbox(tmp_path / "sb")
    corrupt_a_sampled_point(config_path)
    assert main_code(capsys, config_path, "verify", "--seed", SEED) == 1
    package = failed_check_package(config_path)
    edit_catalog(config_path, COVER_UP["deleted"])
    assert main_code(capsys, config_path, "verify", "--seed", "8") in (0, 1)
    with open_runtime(load_site(config_path)) as runtime:
        assert not [w for w in catalog_warnings(runtime, recent=1) if package in w]
        assert [w for w in catalog_warnings(runtime, recent=None) if package in w]
    code, out, err = run(capsys, "-c", str(config_path), "report", "--year", YEAR)
    assert code == 1 and package in out, out + err


def main_code(capsys: pytest.CaptureFixture[str], config_path: Path, *args: str) -> int:
    return run(capsys, "-c", str(config_path), *args)[0]


def test_a_point_row_whose_business_date_was_moved_is_found_by_the_scan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The rules judge a backup from its row: a business date and times moved two days on in
    the catalog would make `status` count a backup that was never taken. `verify --all` reads
    every signed manifest and names each value the row holds otherwise (exit 1, the point's
    bytes intact: not bad); `catalog rebuild` sets the row back to its manifest."""
    config_path = build_sandbox(tmp_path / "sb")
    database = config_path.parent / "state" / "catalog.sqlite"
    with sqlite3.connect(database) as connection:
        [(point, business_date)] = connection.execute(
            "SELECT id, business_date FROM recovery_points WHERE dataset = 'ledger'"
        ).fetchall()
    connection.close()
    edit_catalog(
        config_path,
        [
            "UPDATE recovery_points SET business_date = '2099-01-02', "
            f"finished_at = finished_at + 172800 WHERE id = '{point}'"
        ],
    )
    code, out, err = run(capsys, "-c", str(config_path), "verify", "--all")
    assert code == 1, out + err
    assert f"(catalog) business_date: catalog: expected {business_date}" in out + err
    assert "2099-01-02 (the catalog's row)" in out + err
    assert "(catalog) finished_at" in out + err
    with sqlite3.connect(database) as connection:
        [(status,)] = connection.execute(
            f"SELECT status FROM recovery_points WHERE id = '{point}'"
        ).fetchall()
    connection.close()
    assert status == "complete"
    code, out, err = run(capsys, "-c", str(config_path), "--json", "catalog", "rebuild")
    outcome = json.loads(out)
    assert code == 0 and outcome["points"] == 0, out + err
    assert outcome["set_back"] == [f"recovery point {point}: to its signed manifest"], out
    code, out, err = run(capsys, "-c", str(config_path), "verify", "--all")
    assert code == 0, out + err


def test_a_bad_mark_closed_by_hand_is_named_by_the_report_and_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only `verify --recheck` closes a failure, and its package says which (`incidents`). A
    failure closed with an UPDATE of `resolved_at` leaves every row the packages record in
    place: the report, which reads every package, names the point and exits 1. So does
    `status` while the closure is dated within the span of the newest packages it reads (the
    closing re-check's package is written after its closure, so it would be among them), and
    the exporter's scrape with it (dr_catalog_warning{sign="closed_by_hand"}: the point's
    open failure is gone from dr_recovery_points_bad, so DRRecoveryPointBad resolves)."""
    config_path = build_sandbox(tmp_path / "sb")
    _, point = corrupt_a_sampled_point(config_path)
    assert main_code(capsys, config_path, "verify", "--seed", SEED) == 1
    edit_catalog(
        config_path,
        ["UPDATE integrity_failures SET resolved_at = detected_at + 1, resolved_by = 'recheck-x'"],
    )
    code, out, err = run(capsys, "-c", str(config_path), "--json", "report", "--year", YEAR)
    [warning] = [w for w in json.loads(out)["catalog_warnings"] if point in w]
    assert code == 1 and "no re-check package" in warning, out + err
    code, out, err = run(capsys, "-c", str(config_path), "--json", "status")
    [warning] = [w for w in json.loads(out).get("warnings", []) if point in w]
    assert code == 1 and "no re-check package" in warning, out + err
    alerting = catalog_alerting(config_path, tmp_path / "metrics-closed.log")
    assert alerting["closed_by_hand"] == 1.0, alerting
    # Dated before the oldest package status reads, the closure is the report's alone.
    edit_catalog(config_path, ["UPDATE integrity_failures SET resolved_at = 1000000000"])
    code, out, err = run(capsys, "-c", str(config_path), "--json", "status")
    assert not [w for w in json.loads(out).get("warnings", []) if point in w], out + err
    alerting = catalog_alerting(config_path, tmp_path / "metrics-old.log")
    assert alerting["closed_by_hand"] == 0.0, alerting


def test_a_bad_mark_closed_by_a_recheck_is_not_named_by_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The reference for the test above: a newer point backed up, copied off-site and passed
    by `verify --recheck` closes the failure, and the report has no catalog warning."""
    config_path = build_sandbox(tmp_path / "sb")
    dataset, point = corrupt_a_sampled_point(config_path)
    assert main_code(capsys, config_path, "verify", "--seed", SEED) == 1
    with open_runtime(load_site(config_path)) as runtime:
        run_backup(runtime, SYSTEM, datasets=[dataset])
        run_copy_offsite(runtime, systems=[SYSTEM])
    assert main_code(capsys, config_path, "verify", "--recheck") == 0
    code, out, err = run(capsys, "-c", str(config_path), "--json", "report", "--year", YEAR)
    assert json.loads(out)["catalog_warnings"] == [], out + err
    code, out, err = run(capsys, "-c", str(config_path), "--json", "status")
    assert "warnings" not in json.loads(out), out + err
