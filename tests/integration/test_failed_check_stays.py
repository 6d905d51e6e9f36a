"""A failed check never disappears, on a real sandbox (ansible-runner, SQLite catalog,
directory stores): once a validity check has found a mismatch, `status` (text and JSON, exit 1)
and `dr_recovery_points_bad` keep showing it whatever happens next, until a newer point passes
`verify --recheck` (docs/verification.md §8–9)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from orchestrator.actions import verify_all, verify_recheck, verify_sample
from orchestrator.actions.backup import run_backup
from orchestrator.actions.copy_offsite import run_copy_offsite
from orchestrator.actions.verify_plan import build_plan
from orchestrator.cli import main
from orchestrator.model import schema
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.fixtures.catalog_scrape import scrape
from tests.integration.test_bad_points import restore_dataset
from tests.integration.test_verify_sample import (
    SYSTEM,
    a_data_file,
    build_sandbox,
    flip_byte,
    point_dir,
)

SEED = "7"
YEAR = str(time.localtime().tm_year)


def corrupt_a_sampled_point(config_path: Path) -> tuple[str, str]:
    """Flip a byte of the first point the check with SEED samples; return (dataset, point)."""
    with open_runtime(load_site(config_path)) as runtime:
        item = build_plan(runtime, SEED).items[0]
    stored = config_path.parent / "stores" / item.store / SYSTEM / item.dataset
    flip_byte(a_data_file(stored / item.recovery_point)[0])
    return item.dataset, item.recovery_point


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def still_shown(
    capsys: pytest.CaptureFixture[str], config_path: Path, dataset: str, point: str
) -> None:
    """Assert that status (text and JSON, both exit 1) and the metrics show the bad point."""
    config = str(config_path)
    code, out, err = run(capsys, "-c", config, "status")
    assert code == 1 and f"BAD recovery point(s), never counted or restored: {point}" in out, err
    code, out, err = run(capsys, "-c", config, "--json", "status")
    rows = {row["dataset"]: row for row in json.loads(out)["datasets"]}
    assert code == 1 and rows[dataset]["bad_recovery_points"] == [point], out + err
    labels = (("dataset", dataset), ("system", SYSTEM))
    assert scrape(config_path)[("dr_recovery_points_bad", labels)] == 1.0


def sample_checks(config_path: Path) -> list[Any]:
    with open_runtime(load_site(config_path)) as runtime, runtime.catalog.begin() as connection:
        table = schema.verifications
        query = select(table).where(table.c.kind == "sample").order_by(table.c.started_at)
        return list(connection.execute(query))


@contextmanager
def evidence_unwritable(config_path: Path) -> Iterator[Path]:
    """Put a plain file where the evidence directory is (every write under it fails with
    ENOTDIR, for root too); yield the directory's saved place; put it back on the way out."""
    directory = load_site(config_path).config.evidence_dir
    saved = directory.with_name("evidence-saved")
    try:
        yield saved
    finally:
        if directory.is_file():
            directory.unlink()
        if saved.exists():
            saved.rename(directory)


def test_a_mismatch_whose_evidence_cannot_be_written_is_a_failed_check_that_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The check finds a mismatch; its package cannot be written (the evidence directory is
    unwritable at that moment). The mismatch is still a failed check: exit 1 naming it (a data
    mismatch is always 1, docs/cli.md), the check recorded aborted (not left running), and
    status and metrics keep the bad point, after the next check too."""
    config_path = build_sandbox(tmp_path / "sb")
    dataset, point = corrupt_a_sampled_point(config_path)
    directory = load_site(config_path).config.evidence_dir
    write = verify_sample.write_site_package

    def unwritable_then_write(*args: Any, **kwargs: Any) -> Any:
        directory.mkdir(parents=True, exist_ok=True)
        directory.rename(directory.with_name("evidence-saved"))
        directory.write_text("not a directory\n", encoding="utf-8")
        return write(*args, **kwargs)

    with evidence_unwritable(config_path):
        monkeypatch.setattr(verify_sample, "write_site_package", unwritable_then_write)
        code, out, err = run(capsys, "-c", str(config_path), "verify", "--seed", SEED)
        monkeypatch.undo()
    assert code == 1, out + err
    assert "mismatch" in err and point in err, err
    [check] = sample_checks(config_path)
    assert (check.status, check.counted) == ("aborted", False)
    still_shown(capsys, config_path, dataset, point)
    code, out, err = run(capsys, "-c", str(config_path), "verify", "--seed", SEED)
    still_shown(capsys, config_path, dataset, point)


def test_a_recheck_mismatch_whose_evidence_cannot_be_written_is_a_failed_check_that_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`verify --recheck` finds the newer point bad too, and its package cannot be written:
    exit 1 naming the mismatch, both points bad, nothing resolved."""
    config_path = build_sandbox(tmp_path / "sb")
    flip_byte(a_data_file(point_dir(config_path, "primary", "config"))[0])
    old = point_dir(config_path, "primary", "config").name
    assert main(["-c", str(config_path), "verify", "--all"]) == 1  # an open incident
    with open_runtime(load_site(config_path)) as runtime:
        run_backup(runtime, SYSTEM, datasets=["config"])
        run_copy_offsite(runtime, systems=[SYSTEM])
    newer = point_dir(config_path, "offsite", "config")
    flip_byte(a_data_file(newer)[0])
    directory = load_site(config_path).config.evidence_dir
    write = verify_recheck.write_site_package

    def unwritable_then_write(*args: Any, **kwargs: Any) -> Any:
        directory.rename(directory.with_name("evidence-saved"))
        directory.write_text("not a directory\n", encoding="utf-8")
        return write(*args, **kwargs)

    with evidence_unwritable(config_path):
        monkeypatch.setattr(verify_recheck, "write_site_package", unwritable_then_write)
        code, out, err = run(capsys, "-c", str(config_path), "verify", "--recheck")
        monkeypatch.undo()
    assert code == 1, out + err
    assert "mismatch" in err and newer.name in err, err
    code, out, err = run(capsys, "-c", str(config_path), "--json", "status")
    rows = {row["dataset"]: row for row in json.loads(out)["datasets"]}
    assert code == 1 and rows["config"]["bad_recovery_points"] == sorted([old, newer.name])


def test_a_scan_mismatch_whose_evidence_cannot_be_written_is_a_failed_check_that_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`verify --all` finds a mismatch; then the evidence directory becomes unwritable, before
    the failure package and the scan's own. Still exit 1 naming the mismatch (not exit 3 with
    only the filesystem error), and status and metrics show the bad point."""
    config_path = build_sandbox(tmp_path / "sb")
    point = point_dir(config_path, "primary", "config")
    flip_byte(a_data_file(point)[0])
    directory = load_site(config_path).config.evidence_dir
    real_scan = verify_all.scan

    def scan_then_unwritable(*args: Any, **kwargs: Any) -> Any:
        result = real_scan(*args, **kwargs)
        directory.mkdir(parents=True, exist_ok=True)
        directory.rename(directory.with_name("evidence-saved"))
        directory.write_text("not a directory\n", encoding="utf-8")
        return result

    with evidence_unwritable(config_path):
        monkeypatch.setattr(verify_all, "scan", scan_then_unwritable)
        code, out, err = run(capsys, "-c", str(config_path), "verify", "--all")
        monkeypatch.undo()
    assert code == 1, out + err
    assert "evidence not written" in err and point.name in err and "mismatch" in err, err
    still_shown(capsys, config_path, "config", point.name)


def test_a_scan_whose_own_package_cannot_be_written_names_its_failure_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The failure package is written, then the scan's own package cannot be (a full disk):
    the message names the failure package on disk and says only the scan's own is missing."""
    config_path = build_sandbox(tmp_path / "sb")
    point = point_dir(config_path, "primary", "config")
    flip_byte(a_data_file(point)[0])

    def disk_full(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(verify_all, "write_scan_evidence", disk_full)
    code, out, err = run(capsys, "-c", str(config_path), "verify", "--all")
    monkeypatch.undo()
    directory = load_site(config_path).config.evidence_dir
    [package] = [path for path in directory.glob("verify-*") if path.is_dir()]
    assert code == 1 and "its own evidence not written" in err, out + err
    assert f"failure package written: {package}" in err and point.name in err, err


def edit_datasets(config_path: Path, dataset: str, rename_to: str | None) -> None:
    """Remove a dataset from dr.yml's system, or rename it (same path, engine and source)."""
    document = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    [system] = document["systems"]
    kept = [d for d in system["datasets"] if d["name"] != dataset]
    if rename_to is not None:
        kept += [{**d, "name": rename_to} for d in system["datasets"] if d["name"] == dataset]
    system["datasets"] = kept
    config_path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


@pytest.mark.parametrize("rename_to", [None, "renamed"])
def test_a_bad_point_of_a_dataset_dr_yml_no_longer_names_is_still_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rename_to: str | None
) -> None:
    """The dataset whose point a check found bad is removed from dr.yml, or renamed: its open
    failure is still listed by status (exit 1, said to be of a dataset dr.yml no longer names)
    and counted by dr_recovery_points_bad; added back, it is shown as before."""
    config_path = build_sandbox(tmp_path / "sb")
    dataset, point = corrupt_a_sampled_point(config_path)
    original = config_path.read_text(encoding="utf-8")
    assert main(["-c", str(config_path), "verify", "--seed", SEED]) == 1
    edit_datasets(config_path, dataset, rename_to)
    still_shown(capsys, config_path, dataset, point)
    code, out, err = run(capsys, "-c", str(config_path), "--json", "status")
    [warning] = [w for w in json.loads(out)["warnings"] if point in w]
    assert f"{SYSTEM}/{dataset}" in warning and "dr.yml" in warning, warning
    assert f"{SYSTEM}/{dataset}" in err and point in err, err
    if rename_to is None:  # the compliance report names it too (exit 1), in its HTML as well
        code, out, err = run(capsys, "-c", str(config_path), "--json", "report", "--year", YEAR)
        [named] = json.loads(out)["unnamed_failures"]
        assert code == 1 and point in named and f"{SYSTEM}/{dataset}" in named, out + err
        package = Path(json.loads(out)["evidence"])
        written = json.loads((package / "report.json").read_text(encoding="utf-8"))
        assert written["unnamed_failures"] == [named]
        assert point in (package / "report.html").read_text(encoding="utf-8")
    config_path.write_text(original, encoding="utf-8")
    still_shown(capsys, config_path, dataset, point)


# drctl, killed with SIGKILL by itself the moment a check (the action module named) starts
# writing its own package (its items and bad marks recorded, its verdict not).
KILLED_AT_PACKAGE = """\
import os, signal, sys
from orchestrator.actions import {module}
from orchestrator.cli import main

def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

{module}.write_site_package = killed
sys.exit(main(sys.argv[1:]))
"""


def killed_at_package(config_path: Path, module: str, *args: str) -> None:
    """Run drctl `args`, killed with SIGKILL as `module` starts writing its package."""
    script = KILLED_AT_PACKAGE.format(module=module)
    command = [sys.executable, "-c", script, "-c", str(config_path), *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == -9, done.stdout + done.stderr


def catalog_lost_and_rebuilt(capsys: pytest.CaptureFixture[str], config_path: Path) -> None:
    """Move the catalog away (lost), then `catalog rebuild` it from the stores and evidence."""
    catalog = Path(load_site(config_path).config.catalog_url.removeprefix("sqlite:///"))
    catalog.rename(catalog.with_name("catalog-lost.sqlite"))
    code, out, err = run(capsys, "-c", str(config_path), "catalog", "rebuild")
    assert code == 0, out + err


def test_a_check_killed_before_its_verdict_leaves_bad_marks_a_lost_catalog_gets_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGKILL after the mismatch was found and recorded, before the check's package: the bad
    mark is shown at once, and it is in the evidence too, so a catalog lost and rebuilt from
    the stores and the evidence (`catalog rebuild`) shows it again."""
    config_path = build_sandbox(tmp_path / "sb")
    dataset, point = corrupt_a_sampled_point(config_path)
    killed_at_package(config_path, "verify_sample", "verify", "--seed", SEED)
    still_shown(capsys, config_path, dataset, point)
    catalog_lost_and_rebuilt(capsys, config_path)
    still_shown(capsys, config_path, dataset, point)


def test_a_scan_killed_before_its_package_leaves_bad_marks_a_lost_catalog_gets_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`verify --all` finds a mismatch and is killed (SIGKILL) as it starts writing its own
    package: the bad mark is shown at once, and after the catalog is lost and rebuilt too."""
    config_path = build_sandbox(tmp_path / "sb")
    point = point_dir(config_path, "primary", "config")
    flip_byte(a_data_file(point)[0])
    killed_at_package(config_path, "verify_all_evidence", "verify", "--all")
    still_shown(capsys, config_path, "config", point.name)
    catalog_lost_and_rebuilt(capsys, config_path)
    still_shown(capsys, config_path, "config", point.name)


def test_a_recheck_killed_before_its_package_leaves_bad_marks_a_lost_catalog_gets_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`verify --recheck` finds the newer point bad too and is killed (SIGKILL) as it starts
    writing its own package: both points stay bad, after the catalog is lost and rebuilt too."""
    config_path = build_sandbox(tmp_path / "sb")
    flip_byte(a_data_file(point_dir(config_path, "primary", "config"))[0])
    old = point_dir(config_path, "primary", "config").name
    assert main(["-c", str(config_path), "verify", "--all"]) == 1  # an open incident
    with open_runtime(load_site(config_path)) as runtime:
        run_backup(runtime, SYSTEM, datasets=["config"])
        run_copy_offsite(runtime, systems=[SYSTEM])
    newer = point_dir(config_path, "offsite", "config")
    flip_byte(a_data_file(newer)[0])
    killed_at_package(config_path, "verify_recheck", "verify", "--recheck")
    for lost in (False, True):
        if lost:
            catalog_lost_and_rebuilt(capsys, config_path)
        code, out, err = run(capsys, "-c", str(config_path), "--json", "status")
        rows = {row["dataset"]: row for row in json.loads(out)["datasets"]}
        assert code == 1, out + err
        assert rows["config"]["bad_recovery_points"] == sorted([old, newer.name]), out + err
        code, out, err = run(capsys, "-c", str(config_path), "status")
        assert code == 1 and "BAD recovery point(s)" in out and newer.name in out, out + err


def test_a_recheck_closes_only_the_failures_it_was_planned_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """While `verify --recheck` checks the newer point P2 of a dataset whose older point P1 is
    bad, a newer backup P3 is taken and a restore finds it bad. The re-check passes P2 and
    closes P1's failure; P3's, found after P2 and never re-checked, stays open."""
    config_path = build_sandbox(tmp_path / "sb")
    flip_byte(a_data_file(point_dir(config_path, "primary", "config"))[0])
    assert main(["-c", str(config_path), "verify", "--all"]) == 1  # P1 bad: an open incident
    with open_runtime(load_site(config_path)) as runtime:
        run_backup(runtime, SYSTEM, datasets=["config"])  # P2, good
        run_copy_offsite(runtime, systems=[SYSTEM])
    check = verify_recheck.check_item
    newest: list[str] = []

    def a_newer_point_found_bad_first(*args: Any) -> Any:
        if not newest:
            with open_runtime(load_site(config_path)) as runtime:
                run_backup(runtime, SYSTEM, datasets=["config"])  # P3
            newest.append(point_dir(config_path, "primary", "config").name)
            flip_byte(a_data_file(point_dir(config_path, "primary", "config"))[0])
            restore_dataset(config_path, "primary", "config")  # finds P3 bad, restores P2
        return check(*args)

    monkeypatch.setattr(verify_recheck, "check_item", a_newer_point_found_bad_first)
    code, out, err = run(capsys, "-c", str(config_path), "verify", "--recheck")
    assert newest, "the re-check checked nothing"
    code, out, err = run(capsys, "-c", str(config_path), "--json", "status")
    rows = {row["dataset"]: row for row in json.loads(out)["datasets"]}
    assert rows["config"]["bad_recovery_points"] == newest, out + err
