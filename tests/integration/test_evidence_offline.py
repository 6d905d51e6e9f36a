"""Evidence packages on disk, checked the way an auditor does: real sha256sum and openssl."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from orchestrator.evidence import package as package_module
from orchestrator.evidence import sign
from orchestrator.evidence.anchor import FileAnchor
from orchestrator.evidence.layout import ZERO_DIGEST
from orchestrator.evidence.package import Package, verify_package, write_package
from orchestrator.evidence.provenance import software_versions
from orchestrator.evidence.tarball import write_tarball
from orchestrator.evidence.verify import check_package
from tests.fixtures.process import require_binary
from tests.fixtures.signing import reseal_package

NOW = datetime(2026, 11, 23, 2, 6, 0, tzinfo=UTC)


def report(**extra: object) -> dict[str, object]:
    return {
        "kind": "drill",
        "id": "drill-7",
        "title": {"zh": "灾备演练", "en": "DR drill"},
        "outcome": "passed",
        "accountable_person": "王主任",
        "measurements": [{"name": "rto_seconds", "value": 12.5, "unit": "s"}],
        **extra,
    }


@pytest.fixture
def attachments(tmp_path: Path) -> dict[str, Path]:
    sources = tmp_path / "sources"
    sources.mkdir()
    events = sources / "events.jsonl"
    events.write_text(
        json.dumps({"event": "runner_on_ok", "event_data": {"task": "dump"}})
        + "\n"
        + json.dumps({"event": "playbook_on_stats", "event_data": {"ok": {"localhost": 3}}})
        + "\n"
    )
    manifest = sources / "manifest.json"
    manifest.write_text(json.dumps({"format_version": 1, "files": [{"path": "data/a.db"}]}))
    return {
        "events/backup-production.jsonl": events,
        "manifests/20261123T020000Z-abc123.json": manifest,
    }


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "evidence-signing.pem"
    sign.create_signing_key(path)
    return path


@pytest.fixture
def evidence_dir(tmp_path: Path) -> Path:
    return tmp_path / "evidence"


@pytest.fixture
def written(evidence_dir: Path, attachments: dict[str, Path], key_path: Path) -> Package:
    return write_package(evidence_dir, "drill", report(), attachments, key_path, now=NOW)


def run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


def sha256sum_check(directory: Path) -> subprocess.CompletedProcess[str]:
    return run([require_binary("sha256sum"), "-c", "MANIFEST.sha256"], directory)


def openssl_verify(
    directory: Path, key: str = "SIGNER.pub.pem"
) -> subprocess.CompletedProcess[str]:
    argv = [require_binary("openssl"), "pkeyutl", "-verify", "-pubin", "-inkey", key, "-rawin"]
    return run([*argv, "-in", "MANIFEST.sha256", "-sigfile", "MANIFEST.sha256.sig"], directory)


def chain_lines(evidence_dir: Path) -> list[dict[str, str]]:
    chain = evidence_dir / "chain.jsonl"
    if not chain.exists():
        return []
    return [json.loads(line) for line in chain.read_text().splitlines()]


def test_write_package_lays_out_every_file_and_records_the_chain(
    written: Package, evidence_dir: Path
) -> None:
    assert written.path.name.startswith("drill-20261123T020600Z-")
    assert written.tarball == evidence_dir / f"{written.path.name}.tar.gz"
    files = sorted(p.relative_to(written.path).as_posix() for p in written.path.rglob("*"))
    assert files == [
        "MANIFEST.sha256",
        "MANIFEST.sha256.sig",
        "PREVIOUS",
        "SIGNER.pub.pem",
        "events",
        "events/backup-production.jsonl",
        "manifests",
        "manifests/20261123T020000Z-abc123.json",
        "report.html",
        "report.json",
    ]
    manifest = (written.path / "MANIFEST.sha256").read_bytes()
    assert written.manifest_sha256 == hashlib.sha256(manifest).hexdigest()
    assert written.previous == ZERO_DIGEST
    assert (written.path / "PREVIOUS").read_text() == ZERO_DIGEST + "\n"
    assert chain_lines(evidence_dir) == [
        {
            "name": written.path.name,
            "kind": "drill",
            "created_at": "2026-11-23T02:06:00Z",
            "manifest_sha256": written.manifest_sha256,
            "previous": ZERO_DIGEST,
        }
    ]
    assert not list(evidence_dir.glob(".tmp-*"))
    assert verify_package(written.path) == []
    assert verify_package(written.tarball) == []


def test_report_json_embeds_package_metadata(written: Package, key_path: Path) -> None:
    stored = json.loads((written.path / "report.json").read_text(encoding="utf-8"))
    key = sign.load_signing_key(key_path)
    assert stored["package"]["signer_fingerprint"] == sign.fingerprint(key)
    assert stored["package"]["previous"] == ZERO_DIGEST
    assert stored["package"]["created_at"] == "2026-11-23T02:06:00Z"
    assert stored["accountable_person"] == "王主任"  # UTF-8, not \\u escapes
    assert "王主任" in (written.path / "report.json").read_text(encoding="utf-8")
    html = (written.path / "report.html").read_text(encoding="utf-8")
    assert "灾备演练" in html and "DR drill" in html and "通过 PASSED" in html
    assert sign.fingerprint(key) in html


def test_signing_key_is_private_and_never_replaced(written: Package, key_path: Path) -> None:
    assert key_path.stat().st_mode & 0o777 == 0o600
    assert key_path.parent.stat().st_mode & 0o777 == 0o700
    first = sign.fingerprint(sign.load_signing_key(key_path))
    with pytest.raises(FileExistsError, match="never replaced"):
        sign.create_signing_key(key_path)
    assert sign.fingerprint(sign.load_signing_key(key_path)) == first


def test_missing_signing_key_is_refused_and_nothing_is_written(
    tmp_path: Path, evidence_dir: Path, attachments: dict[str, Path]
) -> None:
    missing = tmp_path / "keys" / "absent.pem"
    with pytest.raises(ValueError, match="does not exist: create it with `drctl evidence keygen`"):
        write_package(evidence_dir, "drill", report(), attachments, missing, now=NOW)
    assert not missing.exists()
    assert not evidence_dir.exists()


def test_real_sha256sum_and_openssl_accept_the_package(written: Package) -> None:
    checked = sha256sum_check(written.path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "report.json: OK" in checked.stdout
    verified = openssl_verify(written.path)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "Signature Verified Successfully" in verified.stdout


def test_openssl_fingerprint_recipe_matches_the_reported_fingerprint(written: Package) -> None:
    der = subprocess.run(
        [require_binary("openssl"), "pkey", "-pubin", "-in", "SIGNER.pub.pem", "-outform", "DER"],
        cwd=written.path,
        capture_output=True,
        timeout=60,
        check=True,
    ).stdout
    stored = json.loads((written.path / "report.json").read_text(encoding="utf-8"))
    assert hashlib.sha256(der[-32:]).hexdigest() == stored["package"]["signer_fingerprint"]


def test_flipped_byte_in_report_json_fails_sha256sum_and_verify(written: Package) -> None:
    target = written.path / "report.json"
    data = bytearray(target.read_bytes())
    data[10] ^= 0x01
    target.write_bytes(bytes(data))
    checked = sha256sum_check(written.path)
    assert checked.returncode != 0
    assert "report.json: FAILED" in checked.stdout
    problems = verify_package(written.path)
    assert any(problem.startswith("report.json: digest mismatch") for problem in problems), problems


def test_forged_signature_fails_openssl_and_verify(written: Package) -> None:
    forger = Ed25519PrivateKey.generate()
    manifest = (written.path / "MANIFEST.sha256").read_bytes()
    (written.path / "MANIFEST.sha256.sig").write_bytes(sign.sign(forger, manifest))
    verified = openssl_verify(written.path)
    assert verified.returncode != 0
    assert "Signature Verified Successfully" not in verified.stdout
    problems = verify_package(written.path)
    assert any(problem.startswith("MANIFEST.sha256.sig: signature") for problem in problems)


def resign_with(package: Path, forger: Ed25519PrivateKey) -> None:
    """Replace SIGNER.pub.pem with the forger's key and re-sign a consistent manifest."""
    reseal_package(package, forger, {"SIGNER.pub.pem": sign.public_key_pem(forger)})


def test_package_resigned_by_another_key_fails_against_the_trusted_key(
    written: Package, tmp_path: Path, key_path: Path
) -> None:
    forger = Ed25519PrivateKey.generate()
    resign_with(written.path, forger)
    assert sha256sum_check(written.path).returncode == 0  # self-consistent forgery
    assert openssl_verify(written.path).returncode == 0

    untrusted = check_package(written.path, {})
    assert untrusted.signature_valid
    assert untrusted.signer_fingerprint == sign.fingerprint(forger)
    assert untrusted.trusted_by is None and not untrusted.ok

    trusted = tmp_path / "trusted.pub.pem"
    trusted.write_bytes(sign.public_key_pem(sign.load_signing_key(key_path)))
    problems = verify_package(written.path, trusted_public_key=trusted)
    assert any(
        f"signer {sign.fingerprint(forger)} is not trusted" in problem for problem in problems
    ), problems
    bank = openssl_verify(written.path, key=str(trusted))
    assert bank.returncode != 0  # the guide's check with the bank's own key file


def test_trusted_key_accepts_an_untouched_package(
    written: Package, tmp_path: Path, key_path: Path
) -> None:
    trusted = tmp_path / "trusted.pub.pem"
    trusted.write_bytes(sign.public_key_pem(sign.load_signing_key(key_path)))
    assert verify_package(written.path, trusted_public_key=trusted) == []


def test_unlisted_file_is_reported(written: Package) -> None:
    (written.path / "events" / "extra.jsonl").write_text("{}\n")
    assert verify_package(written.path) == [
        "events/extra.jsonl: file not listed in MANIFEST.sha256"
    ]


def test_second_package_previous_is_sha256sum_of_first_manifest(
    written: Package, evidence_dir: Path, key_path: Path
) -> None:
    second = write_package(evidence_dir, "verify", report(kind="verify"), {}, key_path)
    first_manifest = written.path / "MANIFEST.sha256"
    summed = run([require_binary("sha256sum"), str(first_manifest)], evidence_dir)
    assert summed.stdout.split()[0] == (second.path / "PREVIOUS").read_text().strip()
    assert second.previous == written.manifest_sha256
    assert [line["name"] for line in chain_lines(evidence_dir)] == [
        written.path.name,
        second.path.name,
    ]
    assert verify_package(second.path) == []
    assert verify_package(second.tarball) == []


def test_package_copied_away_from_its_chain_still_verifies(
    written: Package, tmp_path: Path
) -> None:
    delivered = tmp_path / "delivered"
    delivered.mkdir()
    shutil.copytree(written.path, delivered / written.path.name)
    shutil.copy(written.tarball, delivered / written.tarball.name)
    assert verify_package(delivered / written.path.name) == []
    assert verify_package(delivered / written.tarball.name) == []


def test_package_missing_from_the_chain_is_reported(written: Package, evidence_dir: Path) -> None:
    (evidence_dir / "chain.jsonl").write_text("")
    assert verify_package(written.path) == [
        f"chain.jsonl: package {written.path.name} is not recorded in the chain"
    ]


def test_secret_in_report_is_refused_and_nothing_is_written(
    evidence_dir: Path, attachments: dict[str, Path], key_path: Path
) -> None:
    leaky = report(steps=[{"name": "restore", "detail": {"db_password": "hunter2"}}])
    with pytest.raises(ValueError, match=r"steps\[0\]\.detail\.db_password"):
        write_package(evidence_dir, "drill", leaky, attachments, key_path, now=NOW)
    assert not evidence_dir.exists()


def test_secret_in_an_events_file_is_refused_naming_file_and_line(
    evidence_dir: Path, attachments: dict[str, Path], key_path: Path
) -> None:
    events = attachments["events/backup-production.jsonl"]
    with events.open("a") as stream:
        stream.write(json.dumps({"event_data": {"res": {"token": "s3cr3t"}}}) + "\n")
    with pytest.raises(ValueError, match=r"events/backup-production.jsonl line 3: event_data"):
        write_package(evidence_dir, "drill", report(), attachments, key_path, now=NOW)
    assert not evidence_dir.exists()


def test_attachment_outside_events_or_manifests_is_refused(
    evidence_dir: Path, attachments: dict[str, Path], key_path: Path
) -> None:
    source = attachments["events/backup-production.jsonl"]
    with pytest.raises(ValueError, match="attachment path '../escape.jsonl'"):
        write_package(evidence_dir, "drill", report(), {"../escape.jsonl": source}, key_path)
    assert not evidence_dir.exists()


def test_tarball_with_parent_member_is_refused_and_nothing_escapes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    (scratch / "inner").mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(scratch / "inner"))
    hostile = tmp_path / "drill-20261123T020600Z-abc123.tar.gz"
    with tarfile.open(hostile, "w:gz") as tar:
        for name in ("drill-20261123T020600Z-abc123/report.json", "../evil.txt"):
            member = tarfile.TarInfo(name)
            member.size = 2
            tar.addfile(member, io.BytesIO(b"{}"))
    problems = verify_package(hostile)
    assert any("'../evil.txt' refused" in problem for problem in problems), problems
    assert not (scratch / "evil.txt").exists()
    assert not any((scratch / "inner").iterdir())


def test_tarball_with_symlink_member_is_refused(tmp_path: Path) -> None:
    hostile = tmp_path / "drill-20261123T020600Z-abc123.tar.gz"
    with tarfile.open(hostile, "w:gz") as tar:
        member = tarfile.TarInfo("drill-20261123T020600Z-abc123/report.json")
        member.type = tarfile.SYMTYPE
        member.linkname = "/etc/passwd"
        tar.addfile(member)
    problems = verify_package(hostile)
    assert any("only files and directories" in problem for problem in problems), problems


def test_tarball_is_reproducible(written: Package, tmp_path: Path) -> None:
    again = tmp_path / "again.tar.gz"
    write_tarball(written.path, again, int(NOW.timestamp()))
    assert again.read_bytes() == written.tarball.read_bytes()


@pytest.mark.parametrize("step", ["render_report_html", "write_tarball", "append_chain_entry"])
def test_crash_mid_write_leaves_no_package_and_no_chain_line(
    step: str,
    evidence_dir: Path,
    attachments: dict[str, Path],
    key_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def crash(*args: object, **kwargs: object) -> None:
        raise OSError(f"simulated crash in {step}")

    monkeypatch.setattr(package_module, step, crash)
    with pytest.raises(OSError, match="simulated crash"):
        write_package(evidence_dir, "drill", report(), attachments, key_path, now=NOW)
    leftovers = sorted(path.name for path in evidence_dir.iterdir())
    assert leftovers == [".chain.lock"]
    monkeypatch.undo()
    retried = write_package(evidence_dir, "drill", report(), attachments, key_path, now=NOW)
    assert retried.previous == ZERO_DIGEST
    assert len(chain_lines(evidence_dir)) == 1
    assert verify_package(retried.path) == []


def test_debris_of_a_killed_writer_is_removed_by_the_next_writer(
    written: Package, evidence_dir: Path, key_path: Path
) -> None:
    debris = evidence_dir / ".tmp-drill-20261123T020000Z-dead00"
    (debris / "events").mkdir(parents=True)
    second = write_package(evidence_dir, "report", report(kind="report"), {}, key_path)
    assert not debris.exists()
    assert second.previous == written.manifest_sha256


def test_crash_during_the_chain_append_leaves_no_partial_line(
    written: Package,
    evidence_dir: Path,
    attachments: dict[str, Path],
    key_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = (evidence_dir / "chain.jsonl").read_bytes()

    def torn_append(path: Path, entry: object) -> None:
        with path.open("ab") as stream:
            stream.write(b'{"name": "half')
        raise OSError("simulated crash while appending")

    monkeypatch.setattr(package_module, "append_chain_entry", torn_append)
    with pytest.raises(OSError, match="simulated crash"):
        write_package(evidence_dir, "verify", report(kind="verify"), attachments, key_path)
    assert (evidence_dir / "chain.jsonl").read_bytes() == before
    assert sorted(path.name for path in evidence_dir.iterdir()) == sorted(
        [".chain.lock", "chain.jsonl", written.path.name, written.tarball.name]
    )


# --- the auditor guide's own commands, run as written -------------------------------------------

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "auditor-guide.md"
PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"


def guide_step(name: str) -> str:
    """Return the sh block the auditor guide marks `<!-- check: name -->`."""
    text = GUIDE.read_text(encoding="utf-8")
    match = re.search(rf"<!-- check: {re.escape(name)} -->\n```sh\n(.*?)\n```", text, re.S)
    assert match, f"{GUIDE}: no sh block after <!-- check: {name} -->"
    return match.group(1)


def run_step(name: str, cwd: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    bash = require_binary("bash")
    environment = {"PATH": os.environ["PATH"], "LC_ALL": "C.UTF-8", **variables}
    return subprocess.run(
        [bash, "-c", guide_step(name)],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def anchored(
    evidence_dir: Path, key_path: Path, tmp_path: Path
) -> tuple[list[Package], FileAnchor]:
    anchor = FileAnchor(tmp_path / "anchor" / "evidence-chain")
    provenance = {"versions": software_versions(PLAYBOOKS)}
    packages = [
        write_package(
            evidence_dir, "drill", report(), {}, key_path, provenance=provenance, anchor=anchor
        )
        for _ in range(3)
    ]
    return packages, anchor


def test_auditor_guide_steps_pass_on_a_sound_chain(
    anchored: tuple[list[Package], FileAnchor], evidence_dir: Path, key_path: Path, tmp_path: Path
) -> None:
    packages, anchor = anchored
    bank = tmp_path / "bank.pub.pem"
    bank.write_bytes(sign.public_key_pem(sign.load_signing_key(key_path)))
    fingerprint = sign.fingerprint(sign.load_signing_key(key_path))
    for package in packages:
        digests = run_step("digests", package.path)
        assert digests.returncode == 0 and "report.json: OK" in digests.stdout, digests
        unlisted = run_step("unlisted", package.path)
        assert unlisted.returncode == 0 and unlisted.stdout == "no unlisted files\n", unlisted
        for name, variables in (("signature", {}), ("trusted-signature", {"BANK_KEY": str(bank)})):
            verified = run_step(name, package.path, **variables)
            assert verified.returncode == 0, verified
            assert "Signature Verified Successfully" in verified.stdout
        assert run_step("fingerprint", package.path).stdout.split()[0] == fingerprint
    chain = run_step("chain", evidence_dir)
    assert chain.returncode == 0
    assert chain.stdout == "".join(f"checked {p.path.name}\n" for p in packages)
    matched = run_step("anchor-file", evidence_dir, A=str(anchor.directory))
    assert matched.returncode == 0 and matched.stdout == "chain.jsonl matches its anchor\n"
    recorded = json.loads((packages[0].path / "report.json").read_text(encoding="utf-8"))
    playbooks = run_step("playbooks", PLAYBOOKS)
    assert playbooks.stdout.split()[0] == recorded["package"]["versions"]["playbooks"]["sha256"]


def test_auditor_guide_steps_catch_a_resigned_package_and_removed_packages(
    anchored: tuple[list[Package], FileAnchor], evidence_dir: Path, key_path: Path, tmp_path: Path
) -> None:
    (first, second, third), anchor = anchored
    bank = tmp_path / "bank.pub.pem"
    bank.write_bytes(sign.public_key_pem(sign.load_signing_key(key_path)))
    forger = Ed25519PrivateKey.generate()
    resign_with(first.path, forger)
    assert run_step("signature", first.path).returncode == 0  # consistent in itself
    forged = run_step("trusted-signature", first.path, BANK_KEY=str(bank))
    assert forged.returncode != 0 and "Signature Verified Successfully" not in forged.stdout
    fingerprint = run_step("fingerprint", first.path).stdout.split()[0]
    assert (
        fingerprint == sign.fingerprint(forger) != sign.fingerprint(sign.load_signing_key(key_path))
    )

    chain_file = evidence_dir / "chain.jsonl"
    lines = chain_file.read_text().splitlines(keepends=True)
    shutil.rmtree(third.path)
    chain_file.write_text("".join(lines[:2]))  # the newest package and its line removed
    assert "BROKEN" not in run_step("chain", evidence_dir).stdout  # the chain alone looks whole
    cut = run_step("anchor-file", evidence_dir, A=str(anchor.directory))
    assert cut.returncode != 0
    assert f"< {lines[2].strip()}" in cut.stdout
    assert "matches" not in cut.stdout

    shutil.rmtree(second.path)
    chain_file.write_text(lines[0] + lines[2])  # a package cut out of the middle
    chain = run_step("chain", evidence_dir)
    assert f"BROKEN LINK before {third.path.name}" in chain.stdout
    assert f"MISSING {third.path.name}" in chain.stdout
