"""`drctl evidence verify` as an auditor runs it: the config given with -c or none at all, the
chain checked offline from the evidence directory alone (and a copy of its file anchor), and
a chain.jsonl cut short refused by every writer before it starts. Real files, real drctl."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.actions.evidence_setup import write_site_package
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.cli import main
from orchestrator.config import load_config
from orchestrator.evidence import sign
from orchestrator.evidence.package import Package
from tests.fixtures.process import require_binary

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "auditor-guide.md"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A sandbox site config: its key created and pinned, a file-store anchor; everything of
    the site (keys, evidence, anchor) under tmp_path/site."""
    return prepare_sandbox(tmp_path / "site" / "sb")


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


# --- the chain offline: the evidence directory, the bank's key and a copy of the anchor ----------


def hand_over(site: Path, auditor: Path) -> tuple[Path, Path]:
    """Copy the evidence directory and the file anchor (modes kept) to the auditor, then remove
    the whole site: config, keys, catalog. Return the copies (evidence, anchor)."""
    config = load_config(site)
    evidence = shutil.copytree(config.evidence_dir, auditor / "evidence")
    anchor = shutil.copytree(site.parent.parent / "anchor" / "evidence-chain", auditor / "anchor")
    shutil.rmtree(site.parent.parent)
    return Path(evidence), Path(anchor)


def offline_drctl(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run drctl as a process in cwd (no dr.yml there), as an auditor's machine would."""
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_an_auditor_verifies_the_chain_offline_with_a_copy_of_its_anchor(
    site: Path, tmp_path: Path
) -> None:
    first, second, third = write(site, 3)
    key = bank_key(site, tmp_path)
    auditor = tmp_path / "auditor"
    evidence, anchor = hand_over(site, auditor)
    argv = ["evidence", "verify", "--chain", str(evidence), "--public-key", str(key)]
    checked = offline_drctl(auditor, *argv, "--anchor", str(anchor))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "chain: 3 package(s)" in checked.stdout
    assert f"anchor: 3 anchor(s) in file://{anchor} (a copy given with --anchor" in checked.stdout
    assert checked.stdout.splitlines()[-2] == f"summary: {evidence}: ok"
    assert "NOT checked" not in checked.stdout

    shutil.rmtree(evidence / third.path.name)  # the newest package and its line removed
    (evidence / third.tarball.name).unlink()
    chain = evidence / "chain.jsonl"
    chain.write_text("".join(chain.read_text().splitlines(keepends=True)[:2]))
    cut = offline_drctl(auditor, *argv, "--anchor", str(anchor))
    assert cut.returncode == 1, cut.stdout + cut.stderr
    assert "the package was removed from the end of the chain" in cut.stdout


def test_without_an_anchor_the_output_says_the_end_of_the_chain_was_not_checked(
    site: Path, tmp_path: Path
) -> None:
    first, second = write(site, 2)
    key = bank_key(site, tmp_path)
    auditor = tmp_path / "auditor"
    evidence, _anchor = hand_over(site, auditor)
    shutil.rmtree(evidence / second.path.name)  # undetectable without the anchor
    (evidence / second.tarball.name).unlink()
    chain = evidence / "chain.jsonl"
    chain.write_text(chain.read_text().splitlines(keepends=True)[0])
    argv = ["evidence", "verify", "--chain", str(evidence), "--public-key", str(key)]
    checked = offline_drctl(auditor, *argv)
    assert checked.returncode == 1, checked.stdout + checked.stderr  # never a clean ok
    assert "anchor: none given" in checked.stdout
    assert "NOT checked: the end of the chain: no anchor was given" in checked.stdout
    assert (
        f"summary: {evidence}: no problem found in what was checked; NOT verified in full: "
        "see NOT checked" in checked.stdout
    )
    assert f"summary: {evidence}: ok" not in checked.stdout
    guide = GUIDE.read_text(encoding="utf-8")  # §3.8 quotes these lines: keep them true
    quoted = guide.split("```\nanchor: none given", 1)[1].split("```", 1)[0]
    for line in ("anchor: none given" + quoted).strip().splitlines():
        assert line.replace("EVIDENCE_DIR", str(evidence)) in checked.stdout, line
    data = json.loads(offline_drctl(auditor, "--json", *argv).stdout)
    assert data["ok"] is False and data["problems"] == [] and data["anchor"] is None
    assert data["not_checked"] and "end of the chain" in data["not_checked"][0]


def test_chain_usage_errors_name_what_was_expected(site: Path, tmp_path: Path) -> None:
    write(site, 1)
    key = bank_key(site, tmp_path)
    auditor = tmp_path / "auditor"
    evidence, anchor = hand_over(site, auditor)
    cases = [
        (["--chain", str(evidence)], "give the trusted key (--public-key FILE or --fingerprint"),
        (["--chain", "--public-key", str(key)], "give the evidence directory (DIR)"),
        (
            ["--chain", str(evidence), "--public-key", str(key), "--anchor", str(auditor / "x")],
            f"--anchor {auditor / 'x'}: no such directory; expected a copy of the chain's file",
        ),
        (
            ["--chain", str(auditor / "nope"), "--public-key", str(key)],
            f"{auditor / 'nope'}: no such directory; expected the evidence directory",
        ),
        (["--anchor", str(anchor), str(evidence)], "--anchor is for --chain only"),
    ]
    for extra, expected in cases:
        result = offline_drctl(auditor, "evidence", "verify", *extra)
        assert result.returncode == 2, (extra, result.stdout, result.stderr)
        assert expected in result.stderr, (extra, result.stderr)
        assert "Traceback" not in result.stderr
    assert sorted(p.name for p in auditor.iterdir()) == ["anchor", "evidence"]  # nothing written


# --- a chain whose last line was cut short --------------------------------------------------------


def cut_last_line(site: Path) -> Path:
    """Cut chain.jsonl's last line short, as a full disk did before writes were checked (the
    package, its tarball and its anchor all written); return the chain's path."""
    chain = load_config(site).evidence_dir / "chain.jsonl"
    data = chain.read_bytes()
    chain.write_bytes(data[: data.rstrip(b"\n").rfind(b"\n") + 101])
    return chain


def site_files(site: Path) -> list[tuple[str, int]]:
    root = site.parent.parent
    return sorted((str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*"))


@pytest.mark.parametrize(
    "command",
    [
        ["verify"],
        ["verify", "--all"],
        ["verify", "--recheck"],
        ["drill", "run"],
        ["evidence", "anchor"],
    ],
)
def test_a_cut_chain_line_stops_every_writer_before_it_starts(
    site: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    write(site, 3)
    chain = cut_last_line(site)
    before = site_files(site)
    code, out = drctl(capsys, "-c", str(site), *command)
    assert code == 3, out
    assert f"error: {chain} line 3: cut short: the file does not end with a newline" in out
    assert "`drctl evidence verify --chain` says how" in out
    assert "internal error" not in out and "please report" not in out
    assert "Traceback" not in out
    assert site_files(site) == before  # no catalog, no state, no evidence: nothing started


def test_verify_chain_explains_the_repair_and_the_repair_works(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second, third = write(site, 3)
    chain = cut_last_line(site)
    code, out = drctl(capsys, "-c", str(site), "evidence", "verify", "--chain")
    assert code == 1, out
    assert f"{chain} line 3: cut short" in out
    match = re.search(r"Repair: keep the 2 whole line\(s\) before it: `(truncate -s \d+ \S+)`", out)
    assert match, out
    assert "chain: 2 package(s)" in out  # the whole lines are still checked
    subprocess.run(
        [require_binary("truncate"), *match.group(1).split()[1:]], check=True, timeout=60
    )
    (fourth,) = write(site, 1)  # chains the package the cut line was for, then its own
    names = [json.loads(line)["name"] for line in chain.read_text().splitlines()]
    assert names == [p.path.name for p in (first, second, third, fourth)]
    code, out = drctl(capsys, "-c", str(site), "evidence", "verify", "--chain")
    assert code == 0, out
    assert "chain: 4 package(s)" in out and "anchor: 4 anchor(s)" in out


def test_a_cut_chain_line_stops_the_report_before_it_judges(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(site, 3)
    chain = cut_last_line(site)
    packages = sorted(load_config(site).evidence_dir.iterdir())
    code, out = drctl(capsys, "-c", str(site), "report", "--year", "2025")
    assert code == 3, out
    assert f"error: {chain} line 3: cut short" in out and "internal error" not in out
    assert sorted(load_config(site).evidence_dir.iterdir()) == packages
