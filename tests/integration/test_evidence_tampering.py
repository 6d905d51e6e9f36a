"""A hostile insider against the evidence an auditor checks offline: whatever was put in the
evidence directory, `drctl evidence verify` ends with a finding (exit 1), never hangs and
never stops on an internal error (exit 3), and an anchor that holds nothing is no proof.
Real packages written by the sandbox site's writer, real drctl in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.actions.evidence_setup import write_site_package
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.config import load_config
from orchestrator.evidence import sign
from orchestrator.evidence.package import Package
from tests.integration.test_evidence_offline import run_step

DRCTL = str(Path(sys.executable).parent / "drctl")
# Enough nesting to exhaust the json module's recursion, far more than any report holds.
DEEP_ARRAY = "[" * 200_000
DEEP_OBJECT = '{"package": ' * 100_000 + "1" + "}" * 100_000
# A verify that hangs is the fault: give it far more than it needs, never wait for ever.
TIMEOUT_SECONDS = 30


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A sandbox site config: its key created and pinned, a file-store anchor."""
    return prepare_sandbox(tmp_path / "site" / "sb")


def write(site: Path, count: int) -> list[Package]:
    config = load_config(site)
    report = {"kind": "verify", "title": {"zh": "验证", "en": "verify"}, "outcome": "failed"}
    return [write_site_package(config, "verify", report, {}) for _ in range(count)]


def bank_key(site: Path, tmp_path: Path) -> Path:
    """Return the site's public key as the auditor got it out of band."""
    path = tmp_path / "bank.pub.pem"
    path.write_bytes(sign.public_key_pem(sign.load_signing_key(load_config(site).signing_key)))
    return path


def anchor_dir(site: Path) -> Path:
    return site.parent.parent / "anchor" / "evidence-chain"


def drctl(tmp_path: Path, *argv: str) -> tuple[int, str]:
    """Run drctl as an auditor does, offline in a directory without dr.yml."""
    try:
        done = subprocess.run(
            [DRCTL, *argv],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"drctl {' '.join(argv)} still running after {TIMEOUT_SECONDS} s")
    return done.returncode, done.stdout + done.stderr


def verify_chain(site: Path, tmp_path: Path) -> tuple[int, str]:
    evidence = load_config(site).evidence_dir
    key = bank_key(site, tmp_path)
    anchor = anchor_dir(site)
    return drctl(
        tmp_path, "evidence", "verify", "--chain", str(evidence), "--public-key", str(key),
        "--anchor", str(anchor),
    )  # fmt: skip


def replace_with_fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


@pytest.mark.parametrize("member", ["report.json", "PREVIOUS", "SIGNER.pub.pem"])
def test_evidence_verify_a_fifo_in_place_of_a_package_file_is_a_finding_not_a_hang(
    site: Path, tmp_path: Path, member: str
) -> None:
    (package,) = write(site, 1)
    replace_with_fifo(package.path / member)
    key = bank_key(site, tmp_path)
    code, out = drctl(tmp_path, "evidence", "verify", str(package.path), "--public-key", str(key))
    assert code == 1, out
    assert f"{member}: listed in MANIFEST.sha256 but missing" in out
    assert "Traceback" not in out and "internal error" not in out
    code, out = verify_chain(site, tmp_path)
    assert code == 1, out
    assert f"{member}: not a regular file" in out


@pytest.mark.parametrize("content", [DEEP_ARRAY, DEEP_OBJECT])
def test_evidence_verify_a_report_json_nested_too_deeply_is_a_finding_not_an_internal_error(
    site: Path, tmp_path: Path, content: str
) -> None:
    (package,) = write(site, 1)
    (package.path / "report.json").write_text(content)
    key = bank_key(site, tmp_path)
    code, out = drctl(tmp_path, "evidence", "verify", str(package.path), "--public-key", str(key))
    assert code == 1, out
    assert "report.json: digest mismatch" in out
    assert "JSON nested too deeply" in out
    assert "Traceback" not in out and "internal error" not in out


def test_evidence_verify_chain_a_chain_line_nested_too_deeply_is_a_finding(
    site: Path, tmp_path: Path
) -> None:
    write(site, 2)
    chain = load_config(site).evidence_dir / "chain.jsonl"
    with chain.open("a") as stream:
        stream.write(DEEP_ARRAY + "\n")
    code, out = verify_chain(site, tmp_path)
    assert code == 1, out
    assert "line 3: expected a JSON object: JSON nested too deeply to read" in out
    assert "internal error" not in out


def test_evidence_verify_chain_an_anchor_nested_too_deeply_past_the_end_is_a_finding(
    site: Path, tmp_path: Path
) -> None:
    (package,) = write(site, 1)
    anchor = anchor_dir(site)
    (anchor / f"00000002-{package.path.name}.json").write_text(DEEP_ARRAY)
    code, out = verify_chain(site, tmp_path)
    assert code == 1, out
    assert "as line 2, but chain.jsonl has 1 line(s)" in out
    assert "(unreadable content)" in out
    assert "internal error" not in out


def test_evidence_verify_chain_an_emptied_anchor_differs_from_its_line(
    site: Path, tmp_path: Path
) -> None:
    """An insider who can write the anchor directory empties the anchor of line 2: it no
    longer vouches for the line, so the line is not proven by it."""
    packages = write(site, 2)
    emptied = anchor_dir(site) / f"00000002-{packages[1].path.name}.json"
    emptied.chmod(0o644)
    emptied.write_bytes(b"")
    emptied.chmod(0o444)
    code, out = verify_chain(site, tmp_path)
    assert code == 1, out
    assert f"{emptied.name}: empty; it does not hold chain.jsonl line 2" in out
    assert "summary:" in out and ": ok" not in out


def test_evidence_verify_chain_a_deleted_failed_check_in_the_middle_is_found(
    site: Path, tmp_path: Path
) -> None:
    """Held before this suite: the reference for the attacks above (chain link and anchor)."""
    packages = write(site, 3)
    chain = load_config(site).evidence_dir / "chain.jsonl"
    victim = packages[1]
    lines = chain.read_text().splitlines(keepends=True)
    chain.write_text("".join(x for x in lines if json.loads(x)["name"] != victim.path.name))
    for path in (victim.path, victim.tarball):
        subprocess.run(["rm", "-rf", str(path)], check=True)
    code, out = verify_chain(site, tmp_path)
    assert code == 1, out
    assert "does not match the manifest_sha256 of the line before" in out
    assert "the package was removed from the end of the chain" in out


def test_auditor_guide_regular_step_names_a_fifo_put_in_place_of_a_file(
    site: Path, tmp_path: Path
) -> None:
    """The guide's first integrity command (§3.2) finds what would make sha256sum hang."""
    (package,) = write(site, 1)
    clean = run_step("regular", package.path)
    assert clean.returncode == 0 and clean.stdout == "", clean
    replace_with_fifo(package.path / "report.json")
    found = run_step("regular", package.path)
    assert found.stdout == "./report.json\n", found


def test_evidence_verify_chain_offline_ignores_a_dr_yml_planted_where_the_auditor_works(
    site: Path, tmp_path: Path
) -> None:
    """The delivery holds a dr.yml naming a forged anchor (a copy of the anchors without the
    removed tail). The auditor gives the directory and the bank's key and forgets --anchor:
    that is 'NOT verified in full' (exit 1), not ok on the planted anchor's word."""
    packages = write(site, 3)
    evidence = load_config(site).evidence_dir
    chain = evidence / "chain.jsonl"
    chain.write_text("".join(chain.read_text().splitlines(keepends=True)[:2]))
    subprocess.run(["rm", "-rf", str(packages[2].path), str(packages[2].tarball)], check=True)
    forged = tmp_path / "forged" / "evidence-chain"
    forged.mkdir(parents=True)
    for anchor in sorted(anchor_dir(site).iterdir())[:2]:
        (forged / anchor.name).write_bytes(anchor.read_bytes())
        (forged / anchor.name).chmod(0o444)
    delivery = tmp_path / "delivery"
    delivery.mkdir()
    planted = site.read_text().replace(
        f"file://{anchor_dir(site).parent}", f"file://{forged.parent}"
    )
    assert planted != site.read_text()
    (delivery / "dr.yml").write_text(planted)
    (delivery / "inventory.ini").write_bytes((site.parent / "inventory.ini").read_bytes())
    key = bank_key(site, tmp_path)
    code, out = drctl(
        delivery, "evidence", "verify", "--chain", str(evidence), "--public-key", str(key)
    )
    assert code == 1, out
    assert "NOT checked: the end of the chain" in out and str(forged) not in out
    code, out = drctl(
        delivery, "evidence", "verify", "--chain", str(evidence), "--public-key", str(key),
        "--anchor", str(anchor_dir(site)),
    )  # fmt: skip
    assert code == 1, out
    assert "the package was removed from the end of the chain" in out


@pytest.mark.parametrize(
    "name", ["verify-" + "a" * 5000, "../elsewhere/verify-20261201T000000Z-abcdef"]
)
def test_evidence_verify_chain_a_line_naming_no_package_is_a_finding_not_an_internal_error(
    site: Path, tmp_path: Path, name: str
) -> None:
    """A line of chain.jsonl whose name is no package name (too long for the file system, a
    path out of the evidence directory) is a malformed line (exit 1), not a store fault (3)."""
    write(site, 2)
    chain = load_config(site).evidence_dir / "chain.jsonl"
    lines = chain.read_text().splitlines(keepends=True)
    entry = json.loads(lines[1])
    lines[1] = json.dumps({**entry, "name": name}, sort_keys=True) + "\n"
    chain.write_text("".join(lines))
    code, out = verify_chain(site, tmp_path)
    assert code == 1, out
    assert "line 2.name: expected <kind>-<YYYYmmddTHHMMSSZ>-<id>" in out
    assert "internal error" not in out and "exit 3" not in out
