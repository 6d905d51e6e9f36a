"""The clauses of 260号 no data can show (organisation, people, facilities, filings), judged
from dr.yml attestations: each status, the per-site split and the measured minimums."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from orchestrator.model.settings import Config
from orchestrator.rules.status import Status
from tests.fixtures.catalog_rows import config_dict, judge, local, one, snapshot

AT = local(date(2026, 6, 30), 12)
TODAY = AT.date()


def attest(rule: str, subject: str = "all", **changes: Any) -> dict[str, Any]:
    return {
        "rule": rule,
        "subject": subject,
        "document": f"{rule} 证明材料.pdf",
        "date": (TODAY - timedelta(days=10)).isoformat(),
        "expires": (TODAY + timedelta(days=355)).isoformat(),
        "attester": "王五 (信息科技部)",
        **changes,
    }


def with_attestations(*attestations: dict[str, Any]) -> Config:
    return Config.model_validate(config_dict(attestations=list(attestations)))


def test_without_an_attestation_a_clause_cannot_be_judged() -> None:
    finding = one("bcp.filed", snapshot(), AT, "all")
    assert finding.status is Status.UNKNOWN
    assert finding.measured == "no attestation"
    assert finding.clause.article == "第十三条" and "报中国人民银行备案" in finding.clause.text


def test_a_current_attestation_is_compliant_and_names_document_date_and_attester() -> None:
    config = with_attestations(attest("bcp.filed"))
    finding = one("bcp.filed", snapshot(), AT, "all", config=config)
    assert finding.status is Status.COMPLIANT
    assert finding.measured == (
        f"attested {TODAY - timedelta(days=10)} by 王五 (信息科技部), "
        f"valid until {TODAY + timedelta(days=355)}"
    )
    assert finding.evidence.startswith("dr.yml attestations: bcp.filed 证明材料.pdf (")


def test_an_expired_attestation_is_non_compliant_and_a_later_one_replaces_it() -> None:
    old = attest("staff.mandatory_leave", date="2024-01-02", expires="2025-01-02")
    finding = one("staff.mandatory_leave", snapshot(), AT, "all", config=with_attestations(old))
    assert finding.status is Status.NON_COMPLIANT
    assert "expired on 2025-01-02" in finding.reason
    last_day = with_attestations(attest("staff.mandatory_leave", expires=TODAY.isoformat()))
    assert one("staff.mandatory_leave", snapshot(), AT, "all", config=last_day).status is (
        Status.COMPLIANT
    )
    renewed = with_attestations(old, attest("staff.mandatory_leave"))
    assert one("staff.mandatory_leave", snapshot(), AT, "all", config=renewed).status is (
        Status.COMPLIANT
    )


def test_an_attestation_dated_after_the_judgement_does_not_count_yet() -> None:
    future = attest("bcp.filed", date=(TODAY + timedelta(days=1)).isoformat())
    finding = one("bcp.filed", snapshot(), AT, "all", config=with_attestations(future))
    assert finding.status is Status.UNKNOWN


def test_facility_clauses_are_judged_per_production_and_dr_site() -> None:
    config = with_attestations(attest("power.dual_feed", "production"))
    findings = {f.subject: f for f in judge("power.dual_feed", snapshot(), AT, config=config)}
    roles = {s["name"]: s["role"] for s in config_dict()["sites"]}
    expected = {n for n, role in roles.items() if role in ("production", "disaster_recovery")}
    assert set(findings) == expected and len(expected) == 2
    assert findings["production"].status is Status.COMPLIANT
    other = next(name for name in expected if name != "production")
    assert findings[other].status is Status.UNKNOWN


def test_a_document_showing_the_clause_does_not_apply_is_not_applicable() -> None:
    own_centre = attest("dr.provider_qualification", applicable=False)
    finding = one(
        "dr.provider_qualification", snapshot(), AT, "all", config=with_attestations(own_centre)
    )
    assert finding.status is Status.NOT_APPLICABLE
    assert "does not apply" in finding.reason


def test_run_lengths_are_measured_against_the_longest_month() -> None:
    def status(rule: str, measured: float | None) -> Status:
        config = with_attestations(attest(rule, measured=measured))
        return one(rule, snapshot(), AT, "all", config=config).status

    assert status("acceptance.simulated_run", 30) is Status.NON_COMPLIANT
    assert status("acceptance.simulated_run", 31) is Status.COMPLIANT
    assert status("acceptance.simulated_run", None) is Status.UNKNOWN
    assert status("acceptance.trial_run", 91) is Status.NON_COMPLIANT
    assert status("acceptance.trial_run", 92) is Status.COMPLIANT
    finding = one(
        "acceptance.trial_run",
        snapshot(),
        AT,
        "all",
        config=with_attestations(attest("acceptance.trial_run", measured=95)),
    )
    assert "stated 95" in finding.measured and "≥ 92 days" in finding.threshold
