"""An insider against a real sandbox (ansible-runner, SQLite catalog, encrypted points in
directory stores): what they change in the catalog or a store after a backup must be found by
the checks (exit 1, named), never pass for the site's own data or for a measured claim.

Each test builds its own sandbox: bad marks and edits are for good, no state may leak.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.model.manifest import parse_manifest
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
