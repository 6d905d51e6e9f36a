"""switchover.notice (第十条) judged in status from the recorded switchover plans: each plan
judged again, the worst per system, plans of other years or recorded later left out."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from orchestrator.model.switchover_plans import PlanRow
from orchestrator.rules.status import Status
from tests.fixtures.catalog_rows import SYSTEM, judge, local, one, snapshot

AT = local(date(2025, 12, 31), 12)
CHANNEL = "95588 电话银行与网点柜面"


def plan(
    ident: str,
    notice: date,
    *,
    start: date = date(2025, 10, 13),
    end: date = date(2025, 10, 14),
    convention: str = "strict",
    channel: str | None = CHANNEL,
) -> PlanRow:
    return PlanRow(
        ident,
        SYSTEM,
        start,
        end,
        notice,
        convention,
        channel,
        local(notice, 9).timestamp(),
        "ops@h",
    )


def judged(*plans: PlanRow) -> list:  # type: ignore[type-arg]
    return judge("switchover.notice", replace(snapshot(), switchover_plans=plans), AT)


def test_no_plan_in_the_year_is_not_applicable() -> None:
    (finding,) = judged()
    assert finding.subject == "all" and finding.status is Status.NOT_APPLICABLE
    assert finding.measured == "no switchover plan recorded for 2025"
    (other_year,) = judged(
        plan("plan-2024", date(2024, 9, 1), start=date(2024, 10, 14), end=date(2024, 10, 15))
    )
    assert other_year.status is Status.NOT_APPLICABLE


def test_a_plan_noticed_in_time_is_compliant_per_system() -> None:
    (finding,) = judged(plan("plan-a", date(2025, 9, 28)))
    assert finding.subject == SYSTEM and finding.status is Status.COMPLIANT
    assert "plan-a 2025-10-13…2025-10-14, notice 2025-09-28: 5 working day(s) (strict)" in (
        finding.measured
    )
    assert finding.evidence == "catalog switchover_plans plan-a"


def test_one_late_notice_makes_the_system_non_compliant_and_is_named() -> None:
    (finding,) = judged(plan("plan-a", date(2025, 9, 28)), plan("plan-b", date(2025, 9, 29)))
    assert finding.status is Status.NON_COMPLIANT
    assert finding.reason.startswith("plan-b: ")
    assert "→ compliant" in finding.measured and "→ non_compliant" in finding.measured


def test_the_convention_recorded_with_the_plan_is_the_one_judged() -> None:
    (finding,) = judged(plan("plan-i", date(2025, 9, 29), convention="inclusive"))
    assert finding.status is Status.COMPLIANT


def test_a_plan_without_an_emergency_channel_is_partial() -> None:
    (finding,) = judged(plan("plan-c", date(2025, 9, 28), channel=None))
    assert finding.status is Status.PARTIAL


def test_a_plan_recorded_after_the_judgement_does_not_count() -> None:
    late = replace(plan("plan-a", date(2025, 9, 29)), recorded_at=AT.timestamp() + 1)
    assert one(
        "switchover.notice", replace(snapshot(), switchover_plans=(late,)), AT, "all"
    ).status is (Status.NOT_APPLICABLE)
