"""`drctl report` and `drctl issue` through the real CLI on a sandbox whose catalog holds a row
of every kind and one real drill: the package verifies offline, the PDF is A4 and lists every
requirement R1–R42, the summary fits three pages, the findings are status's own, and the
page renders in headless Chromium (Debian's package)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdf
import pytest
import yaml

from tests.fixtures.exporter_catalog import populated_sandbox
from tests.fixtures.process import require_binary

A4_POINTS = (595, 842)
APPENDIX_MARK = "Appendix A · Every finding"


def drctl(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", "-c", str(config), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A populated sandbox after one real drill (so a drill package with its digest exists)."""
    config = populated_sandbox(tmp_path_factory.mktemp("report") / "sb", time.time())
    drill = drctl(config, "drill", "run")
    assert drill.returncode == 0, drill.stdout + drill.stderr
    return config


@pytest.fixture(scope="module")
def issue_added(site: Path) -> dict[str, Any]:
    added = drctl(
        site, "--json", "issue", "add", "--description", "验证记录缺少异地抽样 no off-site sample",
        "--status", "限期整改", "--owner", "王五", "--due", "2026-12-31", "--requirement", "R25",
    )  # fmt: skip
    assert added.returncode == 0, added.stdout + added.stderr
    return dict(json.loads(added.stdout))


@pytest.fixture(scope="module")
def written(site: Path, issue_added: dict[str, Any]) -> Iterator[tuple[Path, Any]]:
    """The report of this year so far: (package directory, the command's JSON output)."""
    year = time.localtime().tm_year
    result = drctl(site, "--json", "report", "--year", str(year))
    assert result.returncode in (0, 1), result.stdout + result.stderr
    output = json.loads(result.stdout)
    yield Path(output["evidence"]), (result.returncode, output)


def pdf_texts(package: Path) -> tuple[pypdf.PdfReader, list[str]]:
    reader = pypdf.PdfReader(package / "report.pdf")
    return reader, [page.extract_text() for page in reader.pages]


def summary_pages(texts: list[str]) -> int:
    return next(index for index, text in enumerate(texts) if APPENDIX_MARK in text)


def test_issue_register_round_trips_through_the_command(
    site: Path, issue_added: dict[str, Any]
) -> None:
    issue_id = issue_added["id"]
    assert re.fullmatch(r"ISSUE-\d{4}-001", issue_id)
    updated = drctl(site, "--json", "issue", "update", issue_id, "--status", "rectified")
    assert updated.returncode == 0, updated.stdout + updated.stderr
    listed = json.loads(drctl(site, "--json", "issue", "list").stdout)["issues"]
    mine = next(issue for issue in listed if issue["id"] == issue_id)
    assert mine["status"] == "rectified" and mine["status_zh"] == "已整改"
    assert mine["owner"] == "王五" and mine["due_date"] == "2026-12-31"
    assert mine["description"].startswith("验证记录缺少异地抽样")
    back = drctl(site, "issue", "update", issue_id, "--status", "限期整改")
    assert back.returncode == 0, back.stdout + back.stderr


def test_issue_command_refuses_bad_values_with_exit_2(site: Path) -> None:
    refused = drctl(
        site, "issue", "add", "--description", "x", "--status", "整改中", "--owner", "a",
        "--requirement", "R99",
    )  # fmt: skip
    assert refused.returncode == 2
    assert "--status: '整改中': expected one of" in refused.stderr
    assert "--requirement: 'R99'" in refused.stderr
    no_due = drctl(
        site, "issue", "add", "--description", "x", "--status", "限期整改", "--owner", "a"
    )
    assert no_due.returncode == 2 and "--due: required for 限期整改" in no_due.stderr
    missing = drctl(site, "issue", "update", "ISSUE-1999-999", "--owner", "b")
    assert missing.returncode == 2 and "no issue 'ISSUE-1999-999'" in missing.stderr
    assert "Traceback" not in refused.stderr + no_due.stderr + missing.stderr


def test_package_verifies_with_drctl_and_sha256sum(site: Path, written: Any) -> None:
    package, _ = written
    checked = drctl(site, "evidence", "verify", str(package))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "trusted" in checked.stdout
    manifest = (package / "MANIFEST.sha256").read_text()
    assert "  report.pdf\n" in manifest and "  report.html\n" in manifest
    summed = subprocess.run(
        ["sha256sum", "-c", "--strict", "MANIFEST.sha256"],
        cwd=package,
        capture_output=True,
        text=True,
    )
    assert summed.returncode == 0, summed.stdout + summed.stderr


def test_pdf_is_a4_and_its_summary_lists_every_requirement(written: Any) -> None:
    package, _ = written
    reader, texts = pdf_texts(package)
    for page in reader.pages:
        box = page.mediabox
        assert (round(float(box.width)), round(float(box.height))) == A4_POINTS
    pages = summary_pages(texts)
    assert 1 <= pages <= 3, f"the summary runs to {pages} pages"
    summary = "\n".join(texts[:pages])
    for number in range(1, 43):
        assert re.search(rf"(?<![0-9])R{number}(?![0-9])", summary), f"R{number} missing"
    assert "无法判定" in summary and "不符合" in summary
    assert not re.search(r"\{['\"]|\bNone\b|Status\.", summary), "raw JSON or a repr"
    fonts = {
        str(font.get_object()["/BaseFont"])
        for font in reader.pages[0]["/Resources"]["/Font"].values()
    }
    assert any(re.search(r"WenQuanYi|CJK|Han-?Sans", name) for name in fonts), fonts


def test_findings_are_those_of_status_and_cover_every_requirement(site: Path, written: Any) -> None:
    package, (code, output) = written
    report = json.loads((package / "report.json").read_text())
    status = json.loads(drctl(site, "--json", "status").stdout)
    judged = {(f["rule"], f["subject"]): f for f in report["findings"]}
    from_rows = {(f["rule"], f["subject"]): f["status"] for f in status["findings"]}
    assert judged.keys() == from_rows.keys()
    # The fixture's check, scan and drill rows record no package: the report names them and
    # the rules resting on them alone are 无法判定 there, where status (rows only) says more.
    unproven = {(p["record"], p["id"], p["state"]) for p in report["evidence"]["unproven"]}
    assert unproven == {
        ("verifications", "check-1", "not_recorded"),
        ("verifications", "all-1", "not_recorded"),
        ("drills", "drill-1", "not_recorded"),
    }
    differing = {key for key in judged if judged[key]["status"] != from_rows[key]}
    assert differing == {("verify.interval", "core-banking"), ("verify.sample", "all")}
    assert all(
        judged[key]["status"] == "unknown" and "cannot be shown" in judged[key]["reason"]
        for key in differing
    )
    assert code == 1 and output["failing"] == status["failing"] and output["unproven"]
    ids = [row["id"] for row in report["requirements"]]
    assert ids == [f"R{n}" for n in range(1, 43)]
    assert all(row["rules"] for row in report["requirements"])  # every clause has a rule
    r41 = next(row for row in report["requirements"] if row["id"] == "R41")
    assert r41["rules"] == ["bcp.filed"] and r41["status"] == "unknown"  # not attested here


def test_the_evidence_names_the_drill_package_with_its_manifest_digest(written: Any) -> None:
    package, _ = written
    report = json.loads((package / "report.json").read_text())
    chain = {p["name"]: p["manifest_sha256"] for p in report["evidence"]["packages"]}
    drills = report["evidence"]["rules"]["drill.yearly"]["drills"]
    real = [drill for drill in drills if drill["package"]]
    assert real, "the drill run by the fixture is listed with its package"
    assert chain[real[0]["package"]["name"]] == real[0]["package"]["manifest_sha256"]
    jobs = report["evidence"]["rules"]["backup.full_interval"]["jobs"]
    assert {job["kind"] for job in jobs} == {"backup"} and len(jobs) >= 2
    html = (package / "report.html").read_text()
    assert real[0]["package"]["name"] in html and real[0]["package"]["manifest_sha256"] in html


def test_a_period_that_has_not_ended_is_refused_with_nothing_written(site: Path) -> None:
    evidence = sorted(p.name for p in (site.parent.parent / "evidence").iterdir())
    future = drctl(site, "report", "--from", "2026-01-01", "--to", "2999-01-01")
    assert future.returncode == 2 and "--to 2999-01-01: the period has not ended" in future.stderr
    both = drctl(site, "report", "--year", "2026", "--from", "2026-01-01", "--to", "2026-02-01")
    assert both.returncode == 2 and "give one of them" in both.stderr
    assert sorted(p.name for p in (site.parent.parent / "evidence").iterdir()) == evidence


def test_chromium_renders_the_page_on_a4_with_the_summary_in_three_pages(
    written: Any, tmp_path: Path
) -> None:
    chromium = require_binary("chromium", "chromium-browser")
    package, _ = written
    printed = tmp_path / "printed.pdf"
    result = subprocess.run(
        [
            chromium, "--headless", "--disable-gpu", "--no-sandbox", "--no-pdf-header-footer",
            f"--user-data-dir={tmp_path / 'profile'}", f"--print-to-pdf={printed}",
            (package / "report.html").as_uri(),
        ],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0 and printed.is_file(), result.stderr[-2000:]
    reader = pypdf.PdfReader(printed)
    texts = [page.extract_text() for page in reader.pages]
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == A4_POINTS
    pages = summary_pages(texts)
    assert 1 <= pages <= 3, f"Chromium lays the summary out on {pages} pages"
    summary = "\n".join(texts[:pages])
    assert "合规情况报告" in summary and "Compliance report" in summary
    assert "无法判定" in summary and "R42" in summary


def test_no_report_without_an_accountable_person(site: Path) -> None:
    document = yaml.safe_load(site.read_text(encoding="utf-8"))
    del document["evidence"]["accountable_person"]
    nobody = site.with_name("dr-nobody.yml")
    nobody.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    evidence = site.parent.parent / "evidence"
    before = sorted(p.name for p in evidence.iterdir())
    refused = drctl(nobody, "report", "--year", str(time.localtime().tm_year))
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "evidence.accountable_person: required" in refused.stderr
    assert sorted(p.name for p in evidence.iterdir()) == before


def test_an_attestation_is_listed_with_the_digest_of_its_document(site: Path) -> None:
    document = yaml.safe_load(site.read_text(encoding="utf-8"))
    letter = site.with_name("ups-discharge-test.pdf")
    letter.write_bytes(b"%PDF-1.4 UPS discharge test: 4.5 h at 80 % load\n")
    receipt = site.with_name("bcp-filing-receipt.pdf")
    receipt.write_bytes(b"%PDF-1.4 BCP filing receipt\n")
    year = time.localtime().tm_year
    document["attestations"] = [
        {
            "rule": "power.ups",
            "subject": "production",
            "document": letter.name,
            "date": f"{year}-01-05",
            "expires": f"{year + 1}-01-05",
            "measured": 4.5,
        },
        {
            "rule": "bcp.filed",
            "subject": "all",
            "document": receipt.name,
            "date": f"{year}-01-06",
            "expires": f"{year + 1}-01-06",
            "attester": "王五 (信息科技部)",
        },
    ]
    attested = site.with_name("dr-attested.yml")
    attested.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    result = drctl(attested, "--json", "report", "--year", str(year))
    assert result.returncode in (0, 1), result.stdout + result.stderr
    package = Path(json.loads(result.stdout)["evidence"])
    report = json.loads((package / "report.json").read_text())
    (listed,) = report["evidence"]["rules"]["power.ups"]["attestations"]
    assert listed["sha256"] == hashlib.sha256(letter.read_bytes()).hexdigest()
    assert listed["document"] == letter.name
    assert listed["sha256"] in (package / "report.html").read_text()
    ups = next(
        f for f in report["findings"] if f["rule"] == "power.ups" and f["subject"] == "production"
    )
    assert ups["status"] == "compliant", ups
    # An attested clause of 260号 (第十三条, R41): judged from its attestation, listed with the
    # attester and its document's digest, and the requirement rolls up from it.
    (bcp,) = report["evidence"]["rules"]["bcp.filed"]["attestations"]
    assert bcp["sha256"] == hashlib.sha256(receipt.read_bytes()).hexdigest()
    assert bcp["attester"] == "王五 (信息科技部)"
    assert "王五 (信息科技部)" in (package / "report.html").read_text()
    (filed,) = [f for f in report["findings"] if f["rule"] == "bcp.filed"]
    assert filed["status"] == "compliant" and "by 王五 (信息科技部)" in filed["measured"]
    r41 = next(r for r in report["requirements"] if r["id"] == "R41")
    assert r41["status"] == "compliant", r41


def test_a_range_is_judged_as_of_the_end_of_its_last_day(site: Path) -> None:
    result = drctl(site, "--json", "report", "--from", "2026-11-01", "--to", "2026-11-20")
    assert result.returncode in (0, 1), result.stdout + result.stderr
    output = json.loads(result.stdout)
    assert output["period"] == {"from": "2026-11-01", "to": "2026-11-20", "year": None}
    report = json.loads((Path(output["evidence"]) / "report.json").read_text())
    # 2026-11-20 23:59:59 Asia/Shanghai, as `status --at 2026-11-20` judges it
    assert report["period"]["judged_at"] == "2026-11-20T15:59:59Z"
    status = json.loads(drctl(site, "--json", "status", "--at", "2026-11-20").stdout)
    judged = {(f["rule"], f["subject"]): f["status"] for f in report["findings"]}
    assert judged == {(f["rule"], f["subject"]): f["status"] for f in status["findings"]}
    # the evidence lists only what happened in the range: the fixture's rows are all later
    assert report["evidence"]["rules"]["drill.yearly"]["drills"] == []
