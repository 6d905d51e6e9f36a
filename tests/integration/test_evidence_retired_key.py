"""A rotated-out evidence signing key: trusted for the packages it signed before the rotation,
never for one after it (its private key kept on an old node, or leaked, signing new evidence).
Real files, real keys, the real drctl; docs/auditor-guide.md §3.7."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.actions.evidence_setup import prepare_evidence
from orchestrator.actions.report_proof import Cited, check_cited, check_whole_chain
from orchestrator.config import load_config
from orchestrator.evidence import sign
from orchestrator.evidence.package import Package
from tests.integration.test_evidence_chain import (
    anchor_dir,
    drctl,
    edit_config,
    evidence_dir,
    write,
)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    from orchestrator.actions.sandbox import prepare_sandbox

    return prepare_sandbox(tmp_path / "sb")


def new_key(site: Path, name: str) -> tuple[Path, str]:
    """Create another signing key beside the site's; return its path and fingerprint."""
    path = load_config(site).signing_key.with_name(f"{name}.pem")
    return path, sign.fingerprint(sign.create_signing_key(path))


def rotate(site: Path, name: str = "new") -> tuple[str, str, Path]:
    """Rotate the site to a new key, the old one retired, as docs/operators.md says; return
    the old fingerprint, the new one and the old key's path."""
    old_path = load_config(site).signing_key
    old = sign.fingerprint(sign.load_signing_key(old_path))
    path, new = new_key(site, name)
    edit_config(site, signing_key=str(path), trusted_fingerprints=[new], retired_fingerprints=[old])
    return old, new, old_path


def forge_with(site: Path, key: Path, fingerprint: str) -> Package:
    """Write a package signed with `key` at the end of the chain and anchor it (what an insider
    holding that private key does), then put the site's config back."""
    saved = site.read_text()
    edit_config(site, signing_key=str(key), trusted_fingerprints=[fingerprint])
    edit_config(site, retired_fingerprints=None)
    try:
        (package,) = write(site, 1)
    finally:
        site.write_text(saved)
    return package


def test_a_package_signed_by_a_retired_key_after_the_rotation_is_a_finding(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(site, 2)
    old, new, old_key = rotate(site)
    write(site, 1)
    forged = forge_with(site, old_key, old)
    code, out = drctl(capsys, "-c", str(site), "evidence", "verify", "--chain")
    assert code == 1, out
    assert f"chain.jsonl line 4 ({forged.path.name}): signed by the retired key {old}" in out, out
    assert "after the first package signed by a current key, chain.jsonl line 3 (" in out
    assert f"key {new}): a retired key is trusted only for the packages before" in out
    assert "2 problem(s)" not in out and "summary: " in out
    assert f"{old} (3, retired)" in out
    code, out = drctl(capsys, "-c", str(site), "--json", "evidence", "verify", "--chain")
    data = json.loads(out)
    assert code == 1 and data["retired_signers"] == [old]
    assert data["first_current"].startswith("line 3 (")
    assert len(data["problems"]) == 1


def test_an_auditor_offline_gives_the_retired_key_on_the_command_line(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(site, 1)
    old, new, old_key = rotate(site)
    write(site, 1)
    base = ["evidence", "verify", "--chain", str(evidence_dir(site))]
    base += ["--anchor", str(anchor_dir(site)), "--fingerprint", new]
    code, out = drctl(capsys, *base, "--retired-fingerprint", old)
    assert code == 0, out
    forge_with(site, old_key, old)
    code, out = drctl(capsys, *base, "--retired-fingerprint", old)
    assert code == 1 and f"signed by the retired key {old}" in out, out
    public = tmp_path / "old.pub.pem"
    public.write_bytes(sign.public_key_pem(sign.load_signing_key(old_key)))
    code, out = drctl(capsys, *base, "--retired-public-key", str(public))
    assert code == 1 and f"signed by the retired key {old} (--retired-public-key" in out, out


def test_packages_a_retired_key_signed_before_the_rotation_still_verify(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, _ = write(site, 2)
    old, new, _ = rotate(site)
    write(site, 2)
    code, out = drctl(capsys, "-c", str(site), "evidence", "verify", "--chain")
    assert code == 0, out
    assert f"{old} (2, retired)" in out and f"{new} (2)" in out
    code, out = drctl(capsys, "-c", str(site), "evidence", "verify", str(first.path))
    assert code == 0, out
    assert "evidence.retired_fingerprints[0] (retired)" in out
    assert "signed by a retired key, order not checked without --chain" in out
    code, out = drctl(capsys, "-c", str(site), "--json", "evidence", "verify", str(first.path))
    assert code == 0 and json.loads(out)["retired"] is True


def test_nodes_signing_with_different_current_keys_keep_working(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(site, 1)
    old, first_node, _ = rotate(site, "node-a")
    first_key = load_config(site).signing_key
    second_key, second_node = new_key(site, "node-b")
    current = [first_node, second_node]
    for key in (first_key, second_key, first_key, second_key):
        edit_config(site, signing_key=str(key), trusted_fingerprints=current)
        write(site, 1)
    code, out = drctl(capsys, "-c", str(site), "evidence", "verify", "--chain")
    assert code == 0, out
    assert f"{first_node} (2)" in out and f"{second_node} (2)" in out


def test_a_key_both_current_and_retired_or_a_retired_signing_key_is_refused(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fingerprint = sign.fingerprint(sign.load_signing_key(load_config(site).signing_key))
    _, new = new_key(site, "new")
    edit_config(site, retired_fingerprints=[fingerprint])
    code, out = drctl(capsys, "-c", str(site), "check-config")
    assert code == 2, out
    assert f"retired_fingerprints: {fingerprint} is also in trusted_fingerprints" in out
    edit_config(site, trusted_fingerprints=[new])
    code, out = drctl(capsys, "-c", str(site), "check-config")
    assert code == 2 and "which is in evidence.retired_fingerprints" in out, out


def test_the_compliance_report_does_not_show_a_package_forged_with_a_retired_key(
    site: Path,
) -> None:
    (early,) = write(site, 1)
    old, _, old_key = rotate(site)
    (current,) = write(site, 1)
    forged = forge_with(site, old_key, old)
    config = load_config(site)
    rows = [
        Cited("drills", str(n), "failover", "passed", str(p.path), p.manifest_sha256)
        for n, p in enumerate((early, current, forged))
    ]
    states = [proof.state for proof in check_cited(config, rows)]
    assert states == ["verified", "verified", "fails"]
    chain = check_whole_chain(prepare_evidence(config))
    assert not chain["ok"]
    assert any(f"signed by the retired key {old}" in p for p in chain["problems"])
