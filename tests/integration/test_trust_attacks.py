"""An insider against a real sandbox (ansible-runner, SQLite catalog, encrypted points in
directory stores): what they change in the catalog or a store after a backup must be found by
the checks (exit 1, named), never pass for the site's own data or for a measured claim.

Each test builds its own sandbox: bad marks and edits are for good, no state may leak.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.errors import CheckFailed
from orchestrator.model import integrity
from orchestrator.model.manifest import parse_manifest
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.integration.test_bad_points import (
    point_row,
    restore_dataset,
    run_json,
    two_days_of_backups,
)
from tests.integration.test_catalog_tampered import edit_catalog
from tests.integration.test_failed_check_stays import run
from tests.integration.test_verify_sample import SYSTEM, build_sandbox


def ledger_point(config_path: Path) -> tuple[str, str]:
    """Return the ledger's point id and the cipher its signed manifest names."""
    [manifest_path] = (config_path.parent / "stores" / "primary" / SYSTEM / "ledger").glob(
        "*/manifest.json"
    )
    manifest = parse_manifest(manifest_path.read_bytes())
    assert manifest.encryption is not None
    return manifest.recovery_point_id, manifest.encryption.cipher


def open_failure(config_path: Path) -> tuple[str, str, str, str]:
    """Return (point, store, file, kind) of the one open failure of the ledger."""
    with (
        open_runtime(load_site(config_path)) as runtime,
        runtime.catalog.begin() as connection,
    ):
        (failure,) = integrity.list_failures(connection, dataset="ledger", open_only=True)
    return failure.recovery_point_id, failure.store, failure.file, failure.kind


def test_a_point_row_whose_cipher_was_edited_is_found_and_set_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The encryption rule judges from the row's `cipher`: a row set to another cipher (or to
    one on a point written in clear) claims a protection never applied. `verify --all` names
    the row against the signed manifest (exit 1); `catalog rebuild` sets it back, after which
    the scan passes again."""
    config_path = build_sandbox(tmp_path / "sb")
    point, cipher = ledger_point(config_path)
    assert cipher == "aes-256-gcm"
    edit_catalog(
        config_path, [f"UPDATE recovery_points SET cipher = 'sm4-gcm' WHERE id = '{point}'"]
    )

    code, out, err = run(capsys, "-c", str(config_path), "verify", "--all")
    assert code == 1, out + err
    assert f"(catalog) cipher: catalog: expected {cipher} (its signed manifest)" in out + err
    assert "sm4-gcm (the catalog's row)" in out + err

    code, out, err = run(capsys, "-c", str(config_path), "--json", "catalog", "rebuild")
    assert code == 0, out + err
    assert json.loads(out)["set_back"] == [f"recovery point {point}: to its signed manifest"]
    code, out, err = run(capsys, "-c", str(config_path), "verify", "--all")
    assert code == 0, out + err


@pytest.mark.parametrize("swap", ["another point's", "garbage"])
def test_a_given_point_whose_manifest_was_replaced_is_recorded_bad(
    tmp_path: Path, swap: str
) -> None:
    """A restore of a given point (a switchover's, a re-check's) whose manifest was replaced —
    by the older point's signed manifest and signature, or by bytes that are no manifest —
    refuses it (exit 1) and records it bad with its failure, as a restore choosing points
    itself does: a failed check that `status` shows, never only an exception."""
    config_path, older, newer = two_days_of_backups(tmp_path / "sb")
    point_dir = config_path.parent / "stores" / "offsite" / SYSTEM / "ledger"
    for name in ("manifest.json", "manifest.json.sig"):
        source = point_dir / older / name
        (point_dir / newer / name).write_bytes(
            source.read_bytes() if swap != "garbage" else b"{not a manifest"
        )

    with pytest.raises(CheckFailed, match="manifest"):
        restore_dataset(config_path, "offsite", point=newer)
    assert point_row(config_path, newer).status == "bad"
    found = open_failure(config_path)
    assert found == (newer, "offsite", "manifest.json", "manifest")
    assert point_row(config_path, older).status == "complete"
    restored = config_path.parent / "sites" / "disaster-recovery" / "data" / "ledger"
    assert not restored.exists()  # nothing of it reached the site


@pytest.mark.parametrize("given", [True, False])
def test_a_point_with_a_file_added_to_its_data_is_never_restored(
    tmp_path: Path, given: bool
) -> None:
    """Someone with write access to a store adds a file to the newest point's data (a tampered
    point: `verify --all` marks it bad for an `extra` file, the sampled check fails it). A
    restore of it by id refuses it (exit 1); a restore choosing points itself falls back to
    the older point. Either records it bad with the file named: never a success on a point
    that was written into."""
    config_path, older, newer = two_days_of_backups(tmp_path / "sb")
    data = config_path.parent / "stores" / "offsite" / SYSTEM / "ledger" / newer / "data"
    (data / "ledger.db-journal").write_bytes(b"rows someone wants replayed")

    if given:
        with pytest.raises(CheckFailed, match="ledger.db-journal"):
            restore_dataset(config_path, "offsite", point=newer)
    else:
        outcome = restore_dataset(config_path, "offsite")
        (restored,) = outcome.datasets
        assert restored.recovery_point_id == older and restored.ok
    assert point_row(config_path, newer).status == "bad"
    found = open_failure(config_path)
    assert found == (newer, "offsite", "ledger.db-journal", "extra")


def test_a_sampled_check_fails_a_point_beside_which_a_key_wrap_was_planted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A key wrap put beside an encrypted point that is not a wrap of its data key (it names
    another point) is a change of the store that `verify --all` marks bad; the sampled check
    that reads the point must fail it too, not count it verified."""
    config_path = build_sandbox(tmp_path / "sb")
    wrap = f"{'0' * 16}.json"
    planted = {"recovery_point_id": "20200101T000000Z-000000", "kek_id": "0" * 16}
    points = set()
    for manifest in (config_path.parent / "stores").glob(f"*/{SYSTEM}/*/*/manifest.json"):
        (manifest.parent / "keys").mkdir()
        (manifest.parent / "keys" / wrap).write_text(json.dumps(planted))
        points.add(manifest.parent.name)

    code, check = run_json(capsys, "-c", str(config_path), "verify", "--seed", "1")
    assert code == 1, check
    found = {(m["recovery_point"], m["file"], m["kind"]) for m in check["mismatches"]}
    assert found and found <= {(point, f"keys/{wrap}", "mismatch") for point in points}
    for point, _file, _kind in found:
        assert point_row(config_path, point).status == "bad"
