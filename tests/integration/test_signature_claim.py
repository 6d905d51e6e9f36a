"""A signed point's `manifest.json.sig` removed or replaced in a directory store, by someone with
write access to the store and no key, on a real sandbox (real ansible-runner, SQLite ledger, two
directory stores). Its manifest says it is signed (`signed_by`), so the catalog vouching for the
manifest no longer hides it: `verify --all` records it bad with evidence (exit 1), a restore
passes over it, `copy-offsite` never carries it, and after a lost catalog `catalog rebuild` says
what was done to it instead of calling it an unknown intruder. A point signed by a retired key
stays accepted.

Each test builds its own sandbox: bad marks are for good, so no state may leak between tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.actions.backup import run_backup
from orchestrator.actions.copy_offsite import run_copy_offsite
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.actions.workload import run_workload
from orchestrator.cli import main
from orchestrator.evidence import sign
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.integration.test_bad_points import (
    SYSTEM,
    point_row,
    restore_dataset,
    run_json,
    two_days_of_backups,
)


def signature(config_path: Path, store: str, point: str) -> Path:
    return config_path.parent / "stores" / store / SYSTEM / "ledger" / point / "manifest.json.sig"


def manifest_key(config_path: Path) -> Path:
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    return (config_path.parent / config["manifest_signing"]["key"]).resolve()


def claim(config_path: Path, store: str, point: str) -> Any:
    manifest = signature(config_path, store, point).with_name("manifest.json")
    return json.loads(manifest.read_bytes())["signed_by"]


def sig_problems(scan: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [
        (p["store"], p["recovery_point"].rsplit("/", 1)[-1], p["file"], p["kind"])
        for p in scan["problems"]
    ]


def test_a_deleted_signature_of_a_recorded_point_is_recorded_bad_with_evidence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path, older, newer = two_days_of_backups(tmp_path / "sb")
    key = sign.load_signing_key(manifest_key(config_path))
    assert claim(config_path, "primary", newer) == sign.fingerprint(key)
    signature(config_path, "primary", newer).unlink()

    code, scan = run_json(capsys, "-c", str(config_path), "verify", "--all")
    assert code == 1, scan
    assert sig_problems(scan) == [("primary", newer, "manifest.json.sig", "missing")]
    (problem,) = scan["problems"]
    assert sign.fingerprint(key) in problem["expected"] and problem["actual"] == "(absent)"
    assert scan["recovery_points"] == 4  # the point's files were still checked: all match
    assert point_row(config_path, newer).status == "bad"
    assert point_row(config_path, older).status == "complete"
    report = json.loads((Path(scan["evidence"]) / "report.json").read_text())
    assert [(m["file"], m["kind"]) for m in report["mismatches"]] == [
        ("manifest.json.sig", "missing")
    ]

    # Bad for good: a restore from either store passes over it (off-site's copy is intact).
    outcome = restore_dataset(config_path, "offsite")
    (restored,) = outcome.datasets
    assert restored.recovery_point_id == older and restored.ok
    (passed,) = restored.passed_over
    assert passed.recovery_point_id == newer and "marked bad" in passed.reason
    # Found again, it is not recorded twice, and the scan still fails.
    code, again = run_json(capsys, "-c", str(config_path), "verify", "--all")
    assert code == 1 and sig_problems(again) == sig_problems(scan)


@pytest.mark.parametrize("replacement", ["another point's signature", "garbage"])
def test_a_replaced_signature_of_a_recorded_point_is_a_mismatch_marked_bad(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], replacement: str
) -> None:
    config_path, older, newer = two_days_of_backups(tmp_path / "sb")
    sig = signature(config_path, "primary", newer)
    if replacement == "garbage":
        sig.write_bytes(b"\x00" * 64)
    else:  # a valid signature by the pinned key, over other manifest bytes
        sig.write_bytes(signature(config_path, "primary", older).read_bytes())

    code, scan = run_json(capsys, "-c", str(config_path), "verify", "--all")
    assert code == 1, scan
    assert sig_problems(scan) == [("primary", newer, "manifest.json.sig", "mismatch")]
    assert point_row(config_path, newer).status == "bad"
    assert point_row(config_path, older).status == "complete"


def test_a_restore_finds_a_deleted_signature_itself_and_falls_back(tmp_path: Path) -> None:
    config_path, older, newer = two_days_of_backups(tmp_path / "sb")
    signature(config_path, "primary", newer).unlink()

    outcome = restore_dataset(config_path, "primary")
    (restored,) = outcome.datasets
    assert restored.recovery_point_id == older and restored.ok
    (failure,) = outcome.failures
    assert (failure.recovery_point_id, failure.file, failure.kind) == (
        newer,
        "manifest.json.sig",
        "missing",
    )
    assert point_row(config_path, newer).status == "bad"


def test_copy_offsite_never_carries_a_point_whose_signature_was_deleted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path = prepare_sandbox(tmp_path / "sb")
    with open_runtime(load_site(config_path)) as runtime:
        run_workload(runtime, SYSTEM, "production", "ledger", postings=10, seed=1)
        (outcome,) = run_backup(runtime, SYSTEM, datasets=["ledger"])
    point = outcome.recovery_point_id
    signature(config_path, "primary", point).unlink()

    assert main(["-c", str(config_path), "copy-offsite"]) == 1
    assert not signature(config_path, "offsite", point).parent.exists()
    assert point_row(config_path, point).status == "bad"


def test_catalog_rebuild_names_a_point_whose_claimed_signature_is_gone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path, older, newer = two_days_of_backups(tmp_path / "sb")
    signature(config_path, "primary", newer).unlink()
    signature(config_path, "offsite", older).write_bytes(b"\x00" * 64)
    (config_path.parent / "state" / "catalog.sqlite").unlink()
    assert main(["-c", str(config_path), "catalog", "upgrade"]) == 0

    code, outcome = run_json(capsys, "-c", str(config_path), "catalog", "rebuild")
    assert code == 1, outcome
    lines = [line for line in outcome["not_recovered"] if SYSTEM + "/ledger/" in line]
    assert len(lines) == 2, outcome["not_recovered"]
    missing, replaced = sorted(lines, key=lambda line: not line.startswith("primary"))
    assert missing.startswith(f"primary: {SYSTEM}/ledger/{newer}: signature missing: ")
    assert replaced.startswith(f"offsite: {SYSTEM}/ledger/{older}: signature mismatch: ")
    for line in lines:
        assert "says it is signed by key" in line and "not authenticated" not in line
    # Each point comes back from the store whose copy kept its signature.
    assert point_row(config_path, newer).status == "complete"
    assert point_row(config_path, older).status == "complete"


def test_a_point_signed_by_a_retired_key_stays_accepted_and_its_signature_is_still_due(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path, older, newer = two_days_of_backups(tmp_path / "sb")
    old_key = sign.load_signing_key(manifest_key(config_path))
    new_path = manifest_key(config_path).with_name("manifest-2-ed25519.pem")
    new_key = sign.create_signing_key(new_path)
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config["manifest_signing"] = {
        "key": str(new_path),
        "public_key": sign.public_key_line(new_key),
        "retired_public_keys": [sign.public_key_line(old_key)],
    }
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    with open_runtime(load_site(config_path)) as runtime:
        (outcome,) = run_backup(runtime, SYSTEM, datasets=["ledger"])
    newest = outcome.recovery_point_id
    assert claim(config_path, "primary", newest) == sign.fingerprint(new_key)
    assert claim(config_path, "primary", older) == sign.fingerprint(old_key)

    code, scan = run_json(capsys, "-c", str(config_path), "verify", "--all")
    assert code == 0, scan["problems"]

    signature(config_path, "offsite", older).unlink()
    code, scan = run_json(capsys, "-c", str(config_path), "verify", "--all")
    assert code == 1, scan
    assert sig_problems(scan) == [("offsite", older, "manifest.json.sig", "missing")]
    assert point_row(config_path, older).status == "bad"
    assert point_row(config_path, newer).status == "complete"


def test_a_sampled_check_records_a_deleted_signature_as_a_failed_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path = prepare_sandbox(tmp_path / "sb")
    with open_runtime(load_site(config_path)) as runtime:
        run_workload(runtime, SYSTEM, "production", "ledger", postings=10, seed=1)
        (outcome,) = run_backup(runtime, SYSTEM, datasets=["ledger"])
        run_copy_offsite(runtime, systems=[SYSTEM])
    point = outcome.recovery_point_id
    for store in ("primary", "offsite"):  # whichever store the check plans to read
        signature(config_path, store, point).unlink()

    code, check = run_json(capsys, "-c", str(config_path), "verify", "--seed", "1")
    assert code == 1, check
    found = {(m["recovery_point"], m["file"], m["kind"]) for m in check["mismatches"]}
    assert found == {(point, "manifest.json.sig", "missing")}
    assert point_row(config_path, point).status == "bad"


def finished_at(config_path: Path, point: str) -> str:
    manifest = signature(config_path, "primary", point).with_name("manifest.json")
    return str(json.loads(manifest.read_bytes())["finished_at"])


def test_a_retired_key_with_a_time_authenticates_only_points_finished_by_then(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The old key signs both points; dr.yml says it was rotated out when the older finished:
    # the newer is what its private key, kept or leaked, could sign after the rotation.
    config_path, older, newer = two_days_of_backups(tmp_path / "sb")
    old_key = sign.load_signing_key(manifest_key(config_path))
    new_path = manifest_key(config_path).with_name("manifest-2-ed25519.pem")
    new_key = sign.create_signing_key(new_path)
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    retired = {"public_key": sign.public_key_line(old_key), "retired_at": "2026-01-01T00:00"}
    config["manifest_signing"] = {
        "key": str(new_path),
        "public_key": sign.public_key_line(new_key),
        "retired_public_keys": [retired],
    }
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    code = main(["-c", str(config_path), "check-config"])
    out = capsys.readouterr().err
    assert code == 2, out
    assert "manifest_signing.retired_public_keys[0]" in out and "expected a time zone" in out

    retired["retired_at"] = finished_at(config_path, older)
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    (config_path.parent / "state" / "catalog.sqlite").unlink()
    assert main(["-c", str(config_path), "catalog", "upgrade"]) == 0
    code, outcome = run_json(capsys, "-c", str(config_path), "catalog", "rebuild")
    assert code == 1, outcome
    lines = [line for line in outcome["not_recovered"] if SYSTEM + "/ledger/" in line]
    assert len(lines) == 2, outcome["not_recovered"]  # the newer, in both stores
    for line in lines:
        assert f"{SYSTEM}/ledger/{newer}: not authenticated" in line, line
        assert f"signed by key {sign.fingerprint(old_key)}, retired at" in line, line
        assert f"the point finished at '{finished_at(config_path, newer)}'" in line, line
    assert point_row(config_path, older).status == "complete"
    assert point_row(config_path, newer) is None
