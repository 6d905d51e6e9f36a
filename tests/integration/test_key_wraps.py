"""A key wrap beside an encrypted point, changed by someone with write access to a store, on
a real sandbox (directory stores, real ansible-runner): a restore finds it and falls back, a
scan names it — never `key unavailable` (exit 3) and never a clean scan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from orchestrator.actions.backup import run_backup
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.actions.workload import run_workload
from orchestrator.cli import main
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.integration.test_bad_points import (
    SYSTEM,
    point_row,
    restore_dataset,
    run_json,
    two_days_of_backups,
)


def rotated(config_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """Rotate the sandbox's KEK, point dr.yml at the new one; return its kek_id."""
    new = config_path.parent / "kek-2027.hex"
    code, created = run_json(
        capsys, "-c", str(config_path), "keys", "create-kek", "--output", str(new)
    )
    assert code == 0
    assert main(["-c", str(config_path), "keys", "rotate-kek", "--new", str(new)]) == 0
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config["encryption"]["key_encryption_key"]["file"] = str(new)
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return str(created["kek_id"])


def wrap_of(config_path: Path, store: str, point: str, kek_id: str) -> Path:
    return (
        config_path.parent
        / "stores"
        / store
        / SYSTEM
        / "ledger"
        / point
        / "keys"
        / (f"{kek_id}.json")
    )


def restores_older_marking_newer_bad(config_path: Path, older: str, newer: str, kek: str) -> None:
    """A restore from offsite falls back to the older point, the newer one recorded bad for
    its key wrap."""
    outcome = restore_dataset(config_path, "offsite")
    (restored,) = outcome.datasets
    assert restored.recovery_point_id == older and restored.ok
    (failure,) = outcome.failures
    assert (failure.recovery_point_id, failure.file) == (newer, f"keys/{kek}.json")
    assert point_row(config_path, newer).status == "bad"


def test_a_forged_key_wrap_is_a_mismatch_the_restore_falls_back_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path, older, newer = two_days_of_backups(tmp_path / "sb")
    kek_id = rotated(config_path, capsys)
    # The newer point's wrap, made to carry the older point's wrapped key: it still names the
    # newer point and its key check (a scan without the key cannot tell), but opens another key.
    forged = wrap_of(config_path, "offsite", newer, kek_id)
    wrap = json.loads(forged.read_text())
    wrap["wrapped_key"] = json.loads(wrap_of(config_path, "offsite", older, kek_id).read_text())[
        "wrapped_key"
    ]
    forged.write_text(json.dumps(wrap))

    restores_older_marking_newer_bad(config_path, older, newer, kek_id)


def test_a_swapped_key_wrap_fails_the_scan_without_any_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path, older, newer = two_days_of_backups(tmp_path / "sb")
    kek_id = rotated(config_path, capsys)
    swapped = wrap_of(config_path, "primary", newer, kek_id)
    swapped.write_bytes(wrap_of(config_path, "primary", older, kek_id).read_bytes())

    code, scan = run_json(capsys, "-c", str(config_path), "verify", "--all")
    assert code == 1
    (problem,) = scan["problems"]
    assert (problem["store"], problem["recovery_point"], problem["file"]) == (
        "primary",
        f"{SYSTEM}/ledger/{newer}",
        f"keys/{kek_id}.json",
    )
    assert older in problem["actual"]  # it names the point it was taken from
    assert point_row(config_path, older).status == "complete"


def test_copy_offsite_never_carries_a_changed_key_wrap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path = prepare_sandbox(tmp_path / "sb")
    with open_runtime(load_site(config_path)) as runtime:
        run_workload(runtime, SYSTEM, "production", "ledger", postings=40, seed=1)
        older = run_backup(runtime, SYSTEM, datasets=["ledger"])[0].recovery_point_id
        run_workload(runtime, SYSTEM, "production", "ledger", postings=40, seed=2)
        newer = run_backup(runtime, SYSTEM, datasets=["ledger"])[0].recovery_point_id
    kek_id = rotated(config_path, capsys)
    swapped = wrap_of(config_path, "primary", newer, kek_id)
    swapped.write_bytes(wrap_of(config_path, "primary", older, kek_id).read_bytes())

    capsys.readouterr()
    code = main(["-c", str(config_path), "copy-offsite"])
    err = capsys.readouterr().err
    assert code == 1 and newer in err and f"keys/{kek_id}.json" in err
    carried = wrap_of(config_path, "offsite", newer, kek_id)
    assert not carried.exists() and not (carried.parent.parent / "manifest.json").exists()
    assert wrap_of(config_path, "offsite", older, kek_id).is_file()  # the good one is copied
    assert point_row(config_path, newer).status == "bad"


def backups_rotated_then_copied(
    base: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[Path, str, str, str]:
    """Two backups of the ledger, the KEK rotated while they sit in primary only, then copied
    off-site (the copy carries the wraps); return config, older, newer and the new kek_id."""
    config_path = prepare_sandbox(base)
    with open_runtime(load_site(config_path)) as runtime:
        run_workload(runtime, SYSTEM, "production", "ledger", postings=40, seed=1)
        older = run_backup(runtime, SYSTEM, datasets=["ledger"])[0].recovery_point_id
        run_workload(runtime, SYSTEM, "production", "ledger", postings=40, seed=2)
        newer = run_backup(runtime, SYSTEM, datasets=["ledger"])[0].recovery_point_id
    kek_id = rotated(config_path, capsys)
    assert main(["-c", str(config_path), "copy-offsite"]) == 0
    return config_path, older, newer, kek_id


@pytest.mark.parametrize("written_by", ["rotation", "copy"])
def test_a_deleted_key_wrap_is_a_missing_file_the_restore_falls_back_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], written_by: str
) -> None:
    """The wrap a rotation (or a copy carrying it) wrote is recorded: deleted from the store, it
    is a missing file of the point (bad, exit 1 territory), never `key unavailable` (exit 3)
    with no way back, which is what a deleted wrap ended in before."""
    if written_by == "rotation":
        config_path, older, newer = two_days_of_backups(tmp_path / "sb")
        kek_id = rotated(config_path, capsys)
    else:
        config_path, older, newer, kek_id = backups_rotated_then_copied(tmp_path / "sb", capsys)
    wrap_of(config_path, "offsite", newer, kek_id).unlink()

    restores_older_marking_newer_bad(config_path, older, newer, kek_id)


def test_a_deleted_key_wrap_fails_the_scan_without_any_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path, older, newer = two_days_of_backups(tmp_path / "sb")
    kek_id = rotated(config_path, capsys)
    wrap_of(config_path, "primary", newer, kek_id).unlink()

    code, scan = run_json(capsys, "-c", str(config_path), "verify", "--all")
    assert code == 1
    (problem,) = scan["problems"]
    assert (problem["store"], problem["recovery_point"], problem["file"], problem["kind"]) == (
        "primary",
        f"{SYSTEM}/ledger/{newer}",
        f"keys/{kek_id}.json",
        "missing",
    )
    assert point_row(config_path, newer).status == "bad"
    assert point_row(config_path, older).status == "complete"


def test_a_rebuilt_catalog_records_the_wraps_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A catalog rebuilt from the stores records the sound wraps it finds beside each point,
    so a wrap deleted after the rebuild is still a missing file, not `key unavailable`."""
    config_path, older, newer = two_days_of_backups(tmp_path / "sb")
    kek_id = rotated(config_path, capsys)
    (config_path.parent / "state" / "catalog.sqlite").unlink()
    assert main(["-c", str(config_path), "catalog", "upgrade"]) == 0
    assert main(["-c", str(config_path), "catalog", "rebuild"]) == 0
    wrap_of(config_path, "offsite", newer, kek_id).unlink()

    restores_older_marking_newer_bad(config_path, older, newer, kek_id)
