"""A site's evidence end to end on disk: trusted signers, the chain and its file-store anchor,
the settings every writer needs, and what every package records. Real files, real drctl."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from orchestrator.actions.evidence_setup import write_site_package
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.cli import main
from orchestrator.config import load_config
from orchestrator.evidence import sign
from orchestrator.evidence.package import Package
from tests.fixtures.process import require_binary
from tests.integration.test_evidence_offline import resign_with

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"


def report(kind: str = "drill") -> dict[str, Any]:
    return {"kind": kind, "title": {"zh": "演练", "en": "drill"}, "outcome": "passed"}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A sandbox site config: its key created and pinned, a file-store anchor."""
    return prepare_sandbox(tmp_path / "sb")


def evidence_dir(site: Path) -> Path:
    return load_config(site).evidence_dir


def anchor_dir(site: Path) -> Path:
    return site.parent.parent / "anchor" / "evidence-chain"


def write(site: Path, count: int) -> list[Package]:
    config = load_config(site)
    return [write_site_package(config, "drill", report(), {}) for _ in range(count)]


def drctl(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def remove_package(package: Package) -> None:
    shutil.rmtree(package.path)
    package.tarball.unlink()


def drop_chain_line(site: Path, name: str) -> None:
    chain = evidence_dir(site) / "chain.jsonl"
    lines = chain.read_text().splitlines(keepends=True)
    chain.write_text("".join(line for line in lines if json.loads(line)["name"] != name))


def edit_config(site: Path, **evidence: Any) -> Path:
    data = yaml.safe_load(site.read_text())
    for key, value in evidence.items():
        if value is None:
            data["evidence"].pop(key, None)
        else:
            data["evidence"][key] = value
    site.write_text(yaml.safe_dump(data, allow_unicode=True))
    return site


# --- who signed ------------------------------------------------------------------------------


def test_verify_prints_the_signer_and_trusts_only_the_pinned_key(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (package,) = write(site, 1)
    fingerprint = sign.fingerprint(sign.load_signing_key(load_config(site).signing_key))
    monkeypatch.chdir(tmp_path)  # no -c and no ./dr.yml: no config, nothing pinned
    code, out = drctl(capsys, "evidence", "verify", str(package.path))
    assert code == 1
    assert f"signer: {fingerprint} NOT TRUSTED: the signature is valid" in out
    code, out = drctl(capsys, "-c", str(site), "evidence", "verify", str(package.path))
    assert code == 0, out
    assert f"signer: {fingerprint} (trusted: {site} evidence.trusted_fingerprints[0])" in out
    code, out = drctl(capsys, "-c", str(site), "evidence", "verify", str(package.tarball))
    assert code == 0, out


def test_package_resigned_with_another_key_is_refused_unless_that_key_is_trusted(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (package,) = write(site, 1)
    bank = tmp_path / "bank.pub.pem"
    bank.write_bytes(sign.public_key_pem(sign.load_signing_key(load_config(site).signing_key)))
    assert drctl(capsys, "evidence", "verify", "--public-key", str(bank), str(package.path))[0] == 0
    forger = Ed25519PrivateKey.generate()
    resign_with(package.path, forger)
    for argv in (
        ["-c", str(site), "evidence", "verify", str(package.path)],
        ["evidence", "verify", "--public-key", str(bank), str(package.path)],
    ):
        code, out = drctl(capsys, *argv)
        assert code == 1, (argv, out)
        assert f"signer: {sign.fingerprint(forger)} NOT TRUSTED" in out
    forged = tmp_path / "forger.pub.pem"
    forged.write_bytes(sign.public_key_pem(forger))
    code, out = drctl(capsys, "evidence", "verify", "--public-key", str(forged), str(package.path))
    assert "NOT TRUSTED" not in out  # now trusted; the chain beside it still disagrees
    assert code == 1 and "records manifest_sha256" in out


def test_verify_json_says_who_signed_and_whether_trusted(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (package,) = write(site, 1)
    fingerprint = sign.fingerprint(sign.load_signing_key(load_config(site).signing_key))
    monkeypatch.chdir(tmp_path)  # no -c and no ./dr.yml: no config, nothing pinned
    code, out = drctl(capsys, "--json", "evidence", "verify", str(package.path))
    data = json.loads(out)
    assert code == 1
    assert data["signer_fingerprint"] == fingerprint
    assert data["signature_valid"] is True and data["trusted"] is False and data["ok"] is False
    code, out = drctl(
        capsys, "--json", "evidence", "verify", "--fingerprint", fingerprint, str(package.path)
    )
    assert code == 0 and json.loads(out)["trusted_by"] == "--fingerprint[0]"


# --- the chain and its anchor ------------------------------------------------------------------


def test_an_intact_chain_with_its_anchor_verifies(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    packages = write(site, 3)
    anchors = sorted(anchor_dir(site).iterdir())
    assert [a.name for a in anchors] == [
        f"{n:08d}-{p.path.name}.json" for n, p in enumerate(packages, start=1)
    ]
    assert all(a.stat().st_mode & 0o777 == 0o444 for a in anchors)
    chain = (evidence_dir(site) / "chain.jsonl").read_bytes()
    assert b"".join(a.read_bytes() for a in anchors) == chain
    code, out = drctl(capsys, "-c", str(site), "evidence", "verify", "--chain")
    assert code == 0, out
    assert "chain: 3 package(s)" in out and "anchor: 3 anchor(s)" in out


def test_a_package_deleted_from_the_middle_is_found(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second, third = write(site, 3)
    remove_package(second)
    code, out = drctl(capsys, "-c", str(site), "evidence", "verify", "--chain")
    assert code == 1
    assert f"line 2 ({second.path.name}): the package is missing" in out
    drop_chain_line(site, second.path.name)
    code, out = drctl(capsys, "-c", str(site), "evidence", "verify", "--chain")
    assert code == 1
    assert "does not match the manifest_sha256 of the line before" in out
    assert (
        f"anchors {second.path.name} as line 2, but chain.jsonl line 2 is {third.path.name}" in out
    )


def test_a_package_deleted_from_the_end_is_found_by_its_anchor(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second, third = write(site, 3)
    remove_package(third)
    drop_chain_line(site, third.path.name)
    code, out = drctl(capsys, "-c", str(site), "evidence", "verify", "--chain")
    assert code == 1
    assert (
        f"anchors package {third.path.name} (manifest sha256 {third.manifest_sha256}) as line 3,"
        " but chain.jsonl has 2 line(s): the package was removed from the end of the chain"
    ) in out


def test_a_rewritten_chain_is_found_by_the_signed_previous_and_the_anchor(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second, third = write(site, 3)
    remove_package(second)
    chain = evidence_dir(site) / "chain.jsonl"
    lines = [json.loads(line) for line in chain.read_text().splitlines()]
    lines = [lines[0], {**lines[2], "previous": lines[0]["manifest_sha256"]}]  # relinked
    chain.write_text("".join(json.dumps(line, sort_keys=True) + "\n" for line in lines))
    code, out = drctl(capsys, "-c", str(site), "evidence", "verify", "--chain")
    assert code == 1
    assert "does not match" not in out  # chain.jsonl is consistent in itself
    assert f"its signed PREVIOUS is {second.manifest_sha256}" in out
    assert "chain.jsonl was rewritten" in out


def test_an_anchor_removed_or_made_writable_is_reported_and_anchor_rewrites_it(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = write(site, 2)
    anchors = sorted(anchor_dir(site).iterdir())
    anchors[0].chmod(0o644)
    anchors[1].unlink()
    code, out = drctl(capsys, "-c", str(site), "evidence", "verify", "--chain")
    assert code == 1
    assert "writable (mode 644)" in out
    assert f"line 2 ({second.path.name}): not anchored" in out
    code, out = drctl(capsys, "-c", str(site), "evidence", "anchor")
    assert code == 0 and f"anchored 00000002-{second.path.name}.json" in out
    anchors[0].chmod(0o444)
    assert drctl(capsys, "-c", str(site), "evidence", "verify", "--chain")[0] == 0


def test_a_package_not_in_the_chain_is_reported(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (package,) = write(site, 1)
    stray = evidence_dir(site) / "drill-20260101T000000Z-abcdef"
    shutil.copytree(package.path, stray)
    code, out = drctl(capsys, "-c", str(site), "evidence", "verify", "--chain")
    assert code == 1
    assert "drill-20260101T000000Z-abcdef: a package" in out and "does not list" in out


# --- settings every writer needs --------------------------------------------------------------


def test_check_config_refuses_a_site_without_key_pin_or_accountable_person(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "keys" / "evidence.pem"
    edit_config(site, signing_key=str(missing), accountable_person=None)
    code, out = drctl(capsys, "-c", str(site), "check-config")
    assert code == 2
    assert (
        f"evidence.signing_key: {missing} does not exist; create it with `drctl evidence keygen`"
        in out
    )
    assert "evidence.accountable_person: required" in out
    assert not missing.exists()  # never generated on the fly
    code, out = drctl(capsys, "-c", str(site), "evidence", "keygen")
    assert code == 0
    fingerprint = sign.fingerprint(sign.load_signing_key(missing))
    assert f"fingerprint: {fingerprint}" in out
    assert missing.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "keys" / "evidence.pub.pem").read_bytes() == sign.public_key_pem(
        sign.load_signing_key(missing)
    )
    edit_config(site, accountable_person="王主任", trusted_fingerprints=[])
    code, out = drctl(capsys, "-c", str(site), "check-config")
    assert code == 2 and f"pin the signing key's fingerprint {fingerprint}" in out
    edit_config(site, trusted_fingerprints=["0" * 64])
    code, out = drctl(capsys, "-c", str(site), "check-config")
    assert code == 2 and "which is not in evidence.trusted_fingerprints" in out
    edit_config(site, trusted_fingerprints=["0" * 64, fingerprint])
    assert drctl(capsys, "-c", str(site), "check-config")[0] == 0


def test_keygen_never_replaces_a_key(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = load_config(site).signing_key
    before = key.read_bytes()
    code, out = drctl(capsys, "-c", str(site), "evidence", "keygen")
    assert code == 2
    assert f"its fingerprint is {sign.fingerprint(sign.load_signing_key(key))}" in out
    assert key.read_bytes() == before


@pytest.mark.parametrize("command", [["drill", "run"], ["verify"]])
def test_no_run_starts_without_an_accountable_person(
    site: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    edit_config(site, accountable_person="  ")
    before = sorted(p.relative_to(site.parent.parent) for p in site.parent.parent.rglob("*"))
    code, out = drctl(capsys, "-c", str(site), *command)
    assert code == 2
    assert "evidence.accountable_person: required" in out
    after = sorted(p.relative_to(site.parent.parent) for p in site.parent.parent.rglob("*"))
    assert after == before  # no catalog, no state, no evidence


def test_write_site_package_refuses_without_an_accountable_person(site: Path) -> None:
    edit_config(site, accountable_person=None)
    with pytest.raises(Exception, match="evidence.accountable_person: required"):
        write(site, 1)
    assert not evidence_dir(site).exists()


# --- what every package records ---------------------------------------------------------------


def test_every_package_records_operator_versions_and_calendar(site: Path, tmp_path: Path) -> None:
    overrides = tmp_path / "calendar.yml"
    overrides.write_text("years:\n  2027:\n    holidays: [2027-01-01]\n", encoding="utf-8")
    data = yaml.safe_load(site.read_text())
    data["calendar"]["overrides"] = str(overrides)
    site.write_text(yaml.safe_dump(data, allow_unicode=True))
    events = tmp_path / "events.jsonl"
    ok = {
        "event": "runner_on_ok",
        "event_data": {
            "host": "dr-db-1",
            "resolved_action": "dr_postgresql",
            "res": {"dr_result": {"name": "dump:ledger", "server_version": "PostgreSQL 16.4"}},
        },
    }
    events.write_text(json.dumps(ok) + "\n" + json.dumps(ok) + "\n")
    config = load_config(site)
    package = write_site_package(config, "verify", report("verify"), {"events/run.jsonl": events})
    stored = json.loads((package.path / "report.json").read_text(encoding="utf-8"))
    metadata = stored["package"]
    assert stored["accountable_person"] == config.model.evidence.accountable_person
    assert metadata["operator"]["user"] == pwd.getpwuid(os.geteuid()).pw_name
    assert metadata["operator"]["host"] == os.uname().nodename
    assert metadata["versions"]["target_systems"] == [
        {"host": "dr-db-1", "module": "dr_postgresql", "server_version": "PostgreSQL 16.4"}
    ]
    recipe = subprocess.run(
        "find . -type f ! -path '*/.*' ! -path '*/__pycache__/*' ! -name '*.pyc' -printf '%P\\0'"
        " | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum",
        shell=True,
        cwd=PLAYBOOKS,
        capture_output=True,
        text=True,
        check=True,
    )
    assert metadata["versions"]["playbooks"]["sha256"] == recipe.stdout.split()[0]
    summed = subprocess.run(
        [require_binary("sha256sum"), str(overrides)], capture_output=True, text=True, check=True
    )
    assert metadata["calendar"]["overrides"] == {
        "path": str(overrides),
        "sha256": summed.stdout.split()[0],
    }
    assert metadata["calendar"]["package"] == "chinesecalendar"
    html = (package.path / "report.html").read_text(encoding="utf-8")
    operator = metadata["operator"]
    assert f"{operator['user']}@{operator['host']}" in html
    assert metadata["versions"]["playbooks"]["sha256"] in html
    assert "dr-db-1 dr_postgresql: PostgreSQL 16.4" in html
    assert summed.stdout.split()[0] in html
    assert metadata["anchor"]["name"] in html


# --- a writer killed mid-commit ---------------------------------------------------------------

# A writer that dies by SIGKILL at the named step of package.py's commit: after the package
# directory is renamed into place, before its tarball (write_tarball) or its chain line
# (append_chain_entry).
KILLED_WRITER = """
import os, signal, sys
from pathlib import Path
from orchestrator.evidence import package
setattr(package, sys.argv[2], lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL))
from orchestrator.actions.evidence_setup import write_site_package
from orchestrator.config import load_config
write_site_package(load_config(Path(sys.argv[1])), "verify", {"kind": "verify"}, {})
"""


@pytest.mark.parametrize("step", ["write_tarball", "append_chain_entry"])
def test_a_package_left_by_a_writer_killed_before_its_chain_line_is_chained_next(
    site: Path, step: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (first,) = write(site, 1)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, str(site), step], capture_output=True, check=False
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    [orphan] = [p for p in evidence_dir(site).glob("verify-*") if p.is_dir()]
    (last,) = write(site, 1)
    chain = [json.loads(line) for line in (evidence_dir(site) / "chain.jsonl").open()]
    assert [line["name"] for line in chain] == [first.path.name, orphan.name, last.path.name]
    assert last.previous == chain[1]["manifest_sha256"]  # no fork: one package per PREVIOUS
    assert orphan.with_name(f"{orphan.name}.tar.gz").is_file()
    code, out = drctl(capsys, "-c", str(site), "evidence", "verify", "--chain")
    assert code == 0, out
    assert "chain: 3 package(s)" in out


def test_evidence_anchor_chains_a_package_a_killed_writer_left_and_anchors_it(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no other writer after the kill, `evidence verify --chain` said "a package that
    chain.jsonl does not list" (exit 1) until some other command wrote evidence: the writers'
    repair command, `evidence anchor`, wrote nothing. It now chains the package first."""
    write(site, 1)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, str(site), "append_chain_entry"],
        capture_output=True,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    [orphan] = [p for p in evidence_dir(site).glob("verify-*") if p.is_dir()]
    code, out = drctl(capsys, "-c", str(site), "evidence", "verify", "--chain")
    assert code == 1 and "does not list" in out, out
    code, out = drctl(capsys, "-c", str(site), "evidence", "anchor")
    assert code == 0 and orphan.name in out and "1 anchor(s) written" in out, out
    code, out = drctl(capsys, "-c", str(site), "evidence", "verify", "--chain")
    assert code == 0 and "chain: 2 package(s)" in out, out


# A writer whose files may not grow past a size (RLIMIT_FSIZE, as a full disk or a quota
# would stop them): the kernel writes what fits and returns a short count.
LIMITED_WRITER = """
import resource, signal, sys
from pathlib import Path
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from orchestrator.actions.evidence_setup import write_site_package
from orchestrator.config import load_config
write_site_package(load_config(Path(sys.argv[1])), "verify", {"kind": "verify"}, {})
"""


def test_a_chain_line_cut_short_by_a_full_disk_fails_the_write_and_keeps_the_chain(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chain = evidence_dir(site) / "chain.jsonl"
    packages = write(site, 1)
    largest = max(path.stat().st_size for path in packages[0].path.rglob("*"))
    largest = max(largest, packages[0].tarball.stat().st_size)
    while chain.stat().st_size <= largest:  # only the chain line can hit the limit
        packages += write(site, 1)
    limit = chain.stat().st_size + 100  # a line is ~270 bytes: the kernel writes 100
    limited = subprocess.run(
        [sys.executable, "-c", LIMITED_WRITER, str(site), str(limit)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert limited.returncode != 0, "a package was reported written with its chain line cut"
    assert "File too large" in limited.stderr
    assert chain.read_text().endswith("\n")
    assert len(chain.read_text().splitlines()) == len(packages)
    assert not [p for p in evidence_dir(site).glob("verify-*")]  # the whole package undone
    write(site, 1)
    code, out = drctl(capsys, "-c", str(site), "evidence", "verify", "--chain")
    assert code == 0, out
