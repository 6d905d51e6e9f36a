"""Gaps in rules/evaluate_attested.py that mutation testing found (issue 16).

- attested clauses: each reason an auditor reads, word for word (not applicable, attested and
  not expired, no measured value, the measured value meeting or missing the threshold), and
  an attestation without an attester says so.
- switchover.notice: every plan of a system is listed in the measured text and the evidence,
  a plan whose window needs no notice says "not counted", and the threshold is stated; a
  plan recorded at the very moment of judgement counts.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from orchestrator.model.settings import Config
from orchestrator.model.switchover_plans import PlanRow
from orchestrator.rules.status import Status
from tests.fixtures.catalog_rows import SYSTEM, config_dict, judge, local, one, snapshot

AT = local(date(2026, 6, 30), 12)
TODAY = AT.date()


def attested(rule: str, **changes: Any) -> Config:
    attestation = {
        "rule": rule,
        "subject": "all",
        "document": f"{rule} 证明材料.pdf",
        "date": (TODAY - timedelta(days=10)).isoformat(),
        "expires": (TODAY + timedelta(days=355)).isoformat(),
        "attester": "王五 (信息科技部)",
        **changes,
    }
    return Config.model_validate(config_dict(attestations=[attestation]))


@pytest.mark.parametrize(
    ("rule", "changes", "status", "reason"),
    [
        (
            "dr.provider_qualification",
            {"applicable": False},
            Status.NOT_APPLICABLE,
            "the attested document shows the clause does not apply",
        ),
        ("bcp.filed", {}, Status.COMPLIANT, "attested and not expired"),
        (
            "acceptance.simulated_run",
            {},
            Status.UNKNOWN,
            "the attestation states no measured value",
        ),
        (
            "acceptance.simulated_run",
            {"measured": 31},
            Status.COMPLIANT,
            "the attested value meets the threshold",
        ),
        (
            "acceptance.simulated_run",
            {"measured": 30},
            Status.NON_COMPLIANT,
            "the attested value is below the threshold",
        ),
    ],
)
def test_attested_reasons_word_for_word(
    rule: str, changes: dict[str, Any], status: Status, reason: str
) -> None:
    finding = one(rule, snapshot(), AT, "all", config=attested(rule, **changes))
    assert (finding.status, finding.reason) == (status, reason)


def plan(ident: str, start: date, end: date, notice: date) -> PlanRow:
    channel = "95588 电话银行与网点柜面"
    recorded = local(notice, 9).timestamp()
    return PlanRow(ident, SYSTEM, start, end, notice, "strict", channel, recorded, "ops@h")


def test_switchover_every_plan_is_listed_and_one_needing_no_notice_is_not_counted() -> None:
    plans = (
        plan("plan-a", date(2025, 10, 13), date(2025, 10, 14), date(2025, 9, 28)),
        plan("plan-s", date(2025, 11, 1), date(2025, 11, 1), date(2025, 10, 30)),  # a Saturday
    )
    snap = replace(snapshot(), switchover_plans=plans)
    (finding,) = judge("switchover.notice", snap, local(date(2025, 12, 31), 12))
    assert finding.measured == (
        "plan-a 2025-10-13…2025-10-14, notice 2025-09-28: 5 working day(s) (strict) → compliant; "
        "plan-s 2025-11-01…2025-11-01, notice 2025-10-30: not counted → not_applicable"
    )
    assert finding.evidence == "catalog switchover_plans plan-a, plan-s"
    assert finding.threshold == (
        "notice ≥ 5 working days before a switchover of > 1 working day (strict counting)"
    )


def test_attested_without_an_attester_says_so() -> None:
    config = attested("bcp.filed", attester=None)
    finding = one("bcp.filed", snapshot(), AT, "all", config=config)
    assert finding.measured == (
        f"attested {TODAY - timedelta(days=10)} by attester not stated, "
        f"valid until {TODAY + timedelta(days=355)}"
    )


def test_switchover_a_plan_recorded_at_the_moment_of_judgement_counts() -> None:
    at = local(date(2025, 12, 31), 12)
    recorded = replace(
        plan("plan-a", date(2025, 10, 13), date(2025, 10, 14), date(2025, 9, 28)),
        recorded_at=at.timestamp(),
    )
    (finding,) = judge("switchover.notice", replace(snapshot(), switchover_plans=(recorded,)), at)
    assert (finding.subject, finding.status) == (SYSTEM, Status.COMPLIANT)
