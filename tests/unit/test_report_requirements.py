"""The requirement list beside the rule pack (R1–R42), their roll-up from the rules' findings,
and the compliance page: every requirement listed, no JSON in it, the summary within three A4
pages even with many violations and issues."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pypdf
import pytest

from orchestrator.actions.report_evidence import Period, parse_period
from orchestrator.errors import InputError
from orchestrator.evidence.pdf import html_to_pdf
from orchestrator.evidence.render import render_report_html
from orchestrator.evidence.report_html import SUMMARY_LIMIT, id_ranges
from orchestrator.rules.evaluate import evaluate_all
from orchestrator.rules.requirements import (
    NO_RULE_REASON,
    judge_requirements,
    load_catalogue,
    roll_up,
)
from orchestrator.rules.rule import RulePack
from orchestrator.rules.status import Status
from orchestrator.rules.timezone import SHANGHAI
from tests.fixtures.catalog_rows import CALENDAR, PACK, all_datasets_daily, local, model, snapshot

CATALOGUE = load_catalogue()
# The shipped pack names a rule for every requirement; without two of them, R1 and R41 have none.
SPARSE = replace(
    PACK, rules=tuple(r for r in PACK.rules if r.id not in {"org.accountable_person", "bcp.filed"})
)


def findings_of(day: date, pack: RulePack = PACK) -> list:  # type: ignore[type-arg]
    points = all_datasets_daily(date(2024, 3, 4), 5)
    return evaluate_all(model(), pack, CALENDAR, snapshot(points), local(day, 22))


def test_the_list_holds_r1_to_r42_in_order_with_their_article() -> None:
    ids = [requirement.id for requirement in CATALOGUE.requirements]
    assert ids == [f"R{n}" for n in range(1, 43)]
    assert CATALOGUE.requirements[21].article == "第七条"
    assert CATALOGUE.requirements[21].text == "数据完全备份的时间间隔不超过一个工作日"


def test_each_rule_judges_the_requirements_the_pack_names() -> None:
    rows = {row.requirement.id: row for row in judge_requirements(CATALOGUE, PACK, [])}
    assert rows["R22"].rules == ("backup.full_interval",)
    assert rows["R42"].rules == ("drill.yearly",)
    assert rows["R6"].rules == ("network.availability",)


def test_every_requirement_has_a_rule_in_the_shipped_pack() -> None:
    rows = judge_requirements(CATALOGUE, PACK, findings_of(date(2024, 3, 8)))
    assert len(rows) == 42 and all(row.rules for row in rows)
    by_id = {row.requirement.id: row for row in rows}
    assert by_id["R41"].rules == ("bcp.filed",)
    assert by_id["R41"].status is Status.UNKNOWN  # no attestation yet: never not applicable


def test_a_requirement_without_a_rule_is_unknown_never_not_applicable() -> None:
    rows = judge_requirements(CATALOGUE, SPARSE, findings_of(date(2024, 3, 8), SPARSE))
    assert len(rows) == 42
    unruled = [row for row in rows if not row.rules]
    assert {row.requirement.id for row in unruled} == {"R1", "R41"}
    assert all(row.status is Status.UNKNOWN for row in unruled)
    assert all(row.reason == NO_RULE_REASON for row in unruled)


def test_the_worst_finding_decides_a_requirement() -> None:
    findings = findings_of(date(2024, 3, 8))
    backup = [f for f in findings if f.rule == "backup.full_interval"]
    assert roll_up(backup) is Status.COMPLIANT
    broken = [*backup, replace(backup[0], status=Status.NON_COMPLIANT)]
    assert roll_up(broken) is Status.NON_COMPLIANT
    assert roll_up([*backup, replace(backup[0], status=Status.UNKNOWN)]) is Status.UNKNOWN
    assert roll_up([*backup, replace(backup[0], status=Status.PARTIAL)]) is Status.PARTIAL
    not_applicable = [replace(f, status=Status.NOT_APPLICABLE) for f in backup]
    assert roll_up(not_applicable) is Status.NOT_APPLICABLE
    assert roll_up([*not_applicable, backup[0]]) is Status.COMPLIANT


def test_a_gap_in_the_list_is_refused(tmp_path: Path) -> None:
    text = Path(CATALOGUE.path).read_text(encoding="utf-8")
    broken = tmp_path / "requirements.yml"
    broken.write_text(text.replace("  - id: R5\n", "  - id: R50\n"), encoding="utf-8")
    with pytest.raises(InputError, match=r"requirements\[4\]\.id: expected R5"):
        load_catalogue(broken)


def test_an_evidence_source_the_report_cannot_read_is_refused(tmp_path: Path) -> None:
    text = Path(CATALOGUE.path).read_text(encoding="utf-8")
    broken = tmp_path / "requirements.yml"
    broken.write_text(text.replace("[verifications]", "[telepathy]", 1), encoding="utf-8")
    with pytest.raises(InputError, match=r"evidence\.verify\.interval: expected a list"):
        load_catalogue(broken)


def many_violations_report() -> dict:  # type: ignore[type-arg]
    """A report dict as report.json holds it, with 60 violations and 30 open issues."""
    findings = findings_of(date(2024, 3, 8), SPARSE)
    rows = judge_requirements(CATALOGUE, SPARSE, findings)
    failing = [
        {**findings[0].to_dict(), "status": "non_compliant", "subject": f"sys/ds{n}"}
        for n in range(60)
    ]
    issues = [
        {
            "id": f"ISSUE-2024-{n:03d}",
            "description": "备份间隔超过一个工作日，需核查调度与存储容量 " * 3,
            "status": "rectify_by_deadline",
            "owner": "张三",
            "due_date": "2024-12-31",
            "requirement": "R22",
            "updated_by": "ops@host",
        }
        for n in range(30)
    ]
    return {
        "kind": "report",
        "accountable_person": "李四",
        "period": {"from": "2024-01-01", "to": "2024-12-31", "year": 2024, "complete": True},
        "requirements": [
            {
                "id": row.requirement.id,
                "article": row.requirement.article,
                "text": row.requirement.text,
                "summary_en": row.requirement.summary_en,
                "rules": list(row.rules),
                "status": str(row.status),
            }
            for row in rows
        ],
        "findings": [f.to_dict() for f in findings] + failing,
        "issues": issues,
        "evidence": {"packages": [], "rules": {}},
    }


def test_the_page_lists_every_requirement_and_no_json() -> None:
    page = render_report_html(many_violations_report())
    for number in range(1, 43):
        assert f'<tr id="R{number}">' in page
    assert "无法判定" in page and "尚无规则 no rule yet" in page
    assert '{"' not in page and "{'" not in page and "Status." not in page


def test_the_summary_stays_within_three_a4_pages() -> None:
    pdf = html_to_pdf(render_report_html(many_violations_report()))
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    texts = [page.extract_text() for page in reader.pages]
    first_appendix = next(i for i, t in enumerate(texts) if "Appendix A · Every finding" in t)
    assert 1 <= first_appendix <= 3, f"summary runs to {first_appendix} pages"
    report = many_violations_report()
    failing = sum(f["status"] == "non_compliant" for f in report["findings"])
    more = failing - SUMMARY_LIMIT
    assert f"{more} more in Appendix A" in " ".join(texts[:first_appendix])
    assert "ISSUE-2024-029" in " ".join(texts[first_appendix:])  # the full register


def test_every_catalog_warning_and_unnamed_failure_is_on_the_page() -> None:
    # The summary lists three of each; the rest used to be on no page, though the summary gave
    # their number: the last of the catalog's signs is a failure closed by hand.
    warnings = [f"sign {n}: the catalog lacks what package {n} records" for n in range(4)]
    warnings.append("failures of 1 point(s) closed that no re-check package of the chain closed")
    unnamed = [f"core-banking/gone{n}: point p{n} found bad, still open" for n in range(5)]
    report = {
        **many_violations_report(),
        "catalog_warnings": warnings,
        "unnamed_failures": unnamed,
    }
    page = render_report_html(report)
    for line in warnings + unnamed:
        assert line in page, line
    assert page.count("2 more in Appendix C.") == 2


def test_a_period_is_a_year_or_two_dates_that_have_passed() -> None:
    today = date(2026, 11, 30)
    assert parse_period(2025, None, None, today) == Period(
        date(2025, 1, 1), date(2025, 12, 31), 2025
    )
    assert parse_period(2026, None, None, today).end == today  # this year so far
    assert parse_period(None, date(2026, 3, 1), date(2026, 3, 31), today).year is None
    with pytest.raises(InputError, match="the year has not begun"):
        parse_period(2027, None, None, today)
    with pytest.raises(InputError, match="--to 2026-12-01: the period has not ended"):
        parse_period(None, date(2026, 3, 1), date(2026, 12, 1), today)
    with pytest.raises(InputError, match="--from 2026-03-02 is after --to 2026-03-01"):
        parse_period(None, date(2026, 3, 2), date(2026, 3, 1), today)
    with pytest.raises(InputError, match="give one of them"):
        parse_period(2025, date(2025, 3, 2), None, today)
    with pytest.raises(InputError, match="both --from and --to"):
        parse_period(None, date(2025, 3, 2), None, today)


def test_a_period_covers_its_days_in_shanghai_time() -> None:
    period = Period(date(2026, 1, 1), date(2026, 1, 31))
    new_year_shanghai = datetime(2026, 1, 1, tzinfo=SHANGHAI).timestamp()
    assert period.covers(new_year_shanghai) and not period.covers(new_year_shanghai - 1)
    assert period.covers(period.end_ts - 1) and not period.covers(period.end_ts)


def test_job_ids_print_as_ranges() -> None:
    assert id_ranges([7, 3, 4, 5, 9, 10, 12]) == "#3–#5, #7, #9–#10, #12"
    assert id_ranges([]) == "—"
