"""`drctl report` checks every evidence package it cites, on a real sandbox after one real drill
and one real validity check (through the CLI): a clean report says each package verifies and
exits as `status` would; a deleted drill package or a flipped byte in the check's package is
named in report.json and report.html, the rules resting on it are 无法判定 (never compliant
on its strength), and the command exits 1."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from orchestrator.actions.evidence_setup import write_site_package
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.model import schema
from orchestrator.model.catalog import Catalog
from orchestrator.site import load_site


def drctl(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", "-c", str(config), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
    )


def evidence_line(stdout: str) -> Path:
    line = next(line for line in stdout.splitlines() if line.startswith("evidence: "))
    return Path(line.removeprefix("evidence: "))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A sandbox after a drill and a counted validity check: (dr.yml, drill package, verify
    package)."""
    config = prepare_sandbox(tmp_path_factory.mktemp("proof") / "sb")
    drill = drctl(config, "drill", "run")
    assert drill.returncode == 0, drill.stdout + drill.stderr
    check = drctl(config, "verify")
    assert check.returncode == 0, check.stdout + check.stderr
    return config, evidence_line(drill.stdout), evidence_line(check.stdout)


def report(config: Path) -> tuple[int, dict[str, Any], dict[str, Any], str]:
    """Write this year's report: (exit code, command output, report.json, report.html)."""
    result = drctl(config, "--json", "report", "--year", str(time.localtime().tm_year))
    assert result.returncode in (0, 1), result.stdout + result.stderr
    output = json.loads(result.stdout)
    package = Path(output["evidence"])
    written = json.loads((package / "report.json").read_text(encoding="utf-8"))
    return result.returncode, output, written, (package / "report.html").read_text("utf-8")


def verdicts(written: dict[str, Any], rule: str) -> set[str]:
    return {f["status"] for f in written["findings"] if f["rule"] == rule}


@contextmanager
def set_aside(package: Path, tmp_path: Path) -> Iterator[Path]:
    """Move a package away for the test and put it back after."""
    saved = tmp_path / package.name
    shutil.move(package, saved)
    try:
        yield saved
    finally:
        shutil.move(saved, package)


def test_a_clean_report_checks_every_cited_package(site: tuple[Path, Path, Path]) -> None:
    config, drill, check = site
    code, output, written, html = report(config)
    checked = {p["name"]: p["state"] for p in written["evidence"]["checked"]}
    assert checked == {drill.name: "verified", check.name: "verified"}
    assert written["evidence"]["unproven"] == [] and output["unproven"] == []
    assert code == (1 if output["failing"] else 0)
    assert verdicts(written, "drill.yearly") == {"compliant"}
    assert verdicts(written, "verify.interval") == {"compliant"}
    assert "均已用站点信任的公钥核验" in html and "已核验" in html
    assert written["evidence"]["chain"]["ok"] is True, written["evidence"]["chain"]
    assert output["chain_problems"] == [] and "证据链未通过校验" not in html


def test_a_deleted_drill_package_is_named_and_its_rules_not_judged_compliant(
    site: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    config, drill, _ = site
    with set_aside(drill, tmp_path):
        code, output, written, html = report(config)
        status = json.loads(drctl(config, "--json", "status").stdout)
    for rule in ("drill.yearly", "dr.bidirectional"):
        (finding,) = [f for f in written["findings"] if f["rule"] == rule]
        assert finding["status"] == "unknown", finding
        assert drill.name in finding["reason"] and "cannot be shown" in finding["reason"]
    (missing,) = written["evidence"]["unproven"]
    assert (missing["name"], missing["state"], missing["record"]) == (
        drill.name,
        "missing",
        "drills",
    )
    assert code == 1 and output["unproven"] == [f"{drill.name} (package missing)"]
    # status judges from the rows and still says compliant: the report says the difference
    assert {f["status"] for f in status["findings"] if f["rule"] == "drill.yearly"} == {"compliant"}
    assert drill.name in html and "证据包缺失" in html and "无法证实的证据包" in html


def test_a_flipped_byte_in_the_verify_package_unproves_the_validity_check(
    site: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    config, _, check = site
    target = check / "report.json"
    original = target.read_bytes()
    flipped = bytearray(original)
    flipped[len(flipped) // 2] ^= 0x01
    target.write_bytes(bytes(flipped))
    try:
        code, output, written, html = report(config)
    finally:
        target.write_bytes(original)
    for rule in ("verify.interval", "verify.sample"):
        assert verdicts(written, rule) == {"unknown"}, rule
    (failed,) = written["evidence"]["unproven"]
    assert (failed["name"], failed["state"]) == (check.name, "fails")
    assert any("digest mismatch" in problem for problem in failed["problems"])
    assert code == 1 and output["unproven"] == [f"{check.name} (package fails verification)"]
    assert verdicts(written, "drill.yearly") == {"compliant"}  # its own package verifies
    assert check.name in html and "证据包未通过校验" in html


def test_a_package_whose_digest_is_not_the_catalogs_is_not_vouched_for(
    site: tuple[Path, Path, Path],
) -> None:
    config, drill, _ = site
    catalog = Catalog(load_site(config).config.catalog_url)
    table = schema.drills

    def record(digest: str | None) -> str | None:
        with catalog.begin() as connection:
            row = connection.execute(select(table)).one()  # the one drill
            connection.execute(
                update(table).where(table.c.id == row.id).values(evidence_manifest_sha256=digest)
            )
            return str(row.evidence_manifest_sha256)

    recorded = record("0" * 64)
    try:
        code, _, written, _ = report(config)
    finally:
        record(recorded)
        catalog.close()
    assert verdicts(written, "drill.yearly") == {"unknown"}
    (differs,) = written["evidence"]["unproven"]
    assert (differs["name"], differs["state"]) == (drill.name, "digest_differs")
    assert recorded in differs["problems"][0] and code == 1


def test_a_failed_check_removed_from_the_end_of_the_chain_is_named_by_the_report(
    tmp_path: Path,
) -> None:
    """An insider removes a failed check's package, its line of chain.jsonl and its catalog
    row: the report has no row left to cite, so only the chain's anchor shows what is gone.
    The report states it (JSON, HTML) and exits 1 instead of vouching for a whole chain."""
    config = prepare_sandbox(tmp_path / "sb")
    loaded = load_site(config).config
    title = {"zh": "验证", "en": "verify"}
    write_site_package(loaded, "verify", {"kind": "verify", "title": title}, {})
    failed = write_site_package(
        loaded, "verify", {"kind": "verify", "title": title, "outcome": "failed"}, {}
    )
    chain = loaded.evidence_dir / "chain.jsonl"
    chain.write_text("".join(chain.read_text().splitlines(keepends=True)[:-1]))
    shutil.rmtree(failed.path)
    failed.tarball.unlink()
    code, output, written, html = report(config)
    assert code == 1, output
    assert written["evidence"]["chain"]["ok"] is False
    (problem,) = [p for p in output["chain_problems"] if failed.path.name in p]
    assert "the package was removed from the end of the chain" in problem
    assert "证据链未通过校验" in html and failed.path.name in html


def test_a_report_paired_with_another_package_is_named_by_evidence_verify(
    site: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """An auditor gets the report and the packages it cites; the check's package is swapped for
    another authentic package of the site under its name (the drill's, whole and signed).
    `evidence verify` of the report names the package the report judged and the one beside it
    (exit 1); with the packages as written it passes."""
    config, drill, check = site
    code, output, _, _ = report(config)
    written = Path(output["evidence"])
    verified = drctl(config, "evidence", "verify", str(written))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    with set_aside(check, tmp_path):
        shutil.copytree(drill, check)
        try:
            verified = drctl(config, "evidence", "verify", str(written))
        finally:
            shutil.rmtree(check)
    assert verified.returncode == 1, verified.stdout + verified.stderr
    assert f"report.json names {check.name} with manifest sha256" in verified.stdout
    assert "not the evidence this report judged" in verified.stdout


def test_a_check_killed_before_its_package_does_not_stop_the_report(
    site: tuple[Path, Path, Path],
) -> None:
    """Seen: one check killed before its package (recorded `aborted` by the next check, with no
    package) made every `drctl report` of its year exit 3 with an internal error: the template
    asked for the proof of a row no finding cites. Now the row is listed without one."""
    config = site[0]
    catalog = Catalog(load_site(config).config.catalog_url)
    killed = "20000101T000000Z-dead00"
    now = time.time()
    with catalog.begin() as connection:
        connection.execute(
            schema.verifications.insert().values(
                id=killed,
                kind="sample",
                started_at=now - 60,
                finished_at=now - 30,
                status="aborted",
                counted=False,
                detail={"error": "killed before it finished (found by the next check)"},
            )
        )
    try:
        code, output, written, html = report(config)
    finally:
        with catalog.begin() as connection:
            table = schema.verifications
            connection.execute(table.delete().where(table.c.id == killed))
        catalog.close()
    assert code == (1 if output["failing"] else 0)
    assert killed in json.dumps(written["evidence"]), written["evidence"].keys()
