"""`drctl evidence verify` as an auditor runs it: the config given with -c or none at all, the
chain checked offline from the evidence directory alone (and a copy of its file anchor), and
a chain.jsonl cut short refused by every writer before it starts. Real files, real drctl."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.actions.evidence_setup import write_site_package
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.cli import main
from orchestrator.config import load_config
from orchestrator.evidence import sign
from orchestrator.evidence.package import Package


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A sandbox site config: its key created and pinned, a file-store anchor."""
    return prepare_sandbox(tmp_path / "sb")


def write(site: Path, count: int) -> list[Package]:
    config = load_config(site)
    report = {"kind": "drill", "title": {"zh": "演练", "en": "drill"}, "outcome": "passed"}
    return [write_site_package(config, "drill", report, {}) for _ in range(count)]


def drctl(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def bank_key(site: Path, tmp_path: Path) -> Path:
    """Return the site's public key as the auditor got it out of band."""
    path = tmp_path / "bank.pub.pem"
    path.write_bytes(sign.public_key_pem(sign.load_signing_key(load_config(site).signing_key)))
    return path


# --- -c given and missing -----------------------------------------------------------------------


def test_a_config_given_with_c_that_does_not_exist_is_a_usage_error(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (package,) = write(site, 1)
    missing = tmp_path / "mistyped.yml"
    key = bank_key(site, tmp_path)
    for extra in ([], ["--public-key", str(key)]):
        code, out = drctl(
            capsys, "-c", str(missing), "evidence", "verify", *extra, str(package.path)
        )
        assert code == 2, out
        assert f"-c names {missing}, which does not exist" in out
        assert "signer:" not in out and "summary:" not in out  # nothing was checked
    monkeypatch.chdir(tmp_path)  # no -c and no ./dr.yml: no config, nothing pinned
    code, out = drctl(capsys, "evidence", "verify", str(package.path))
    assert code == 1 and "NOT TRUSTED" in out
    code, out = drctl(capsys, "evidence", "verify", "--public-key", str(key), str(package.path))
    assert code == 0, out


def test_a_calendar_question_with_a_missing_c_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "mistyped.yml"
    code, out = drctl(capsys, "-c", str(missing), "calendar", "is-working-day", "2026-10-10")
    assert code == 2 and f"-c names {missing}, which does not exist" in out
    monkeypatch.chdir(tmp_path)  # the default ./dr.yml absent: the shipped calendar
    code, out = drctl(capsys, "calendar", "is-working-day", "2026-10-10")
    assert code == 0, out
