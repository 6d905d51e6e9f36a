"""drill.objectives: the year's drills of a system against the RTO and RPO objectives their
scenarios declare — every status, and the measured text that puts the two side by side."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from orchestrator.model.snapshot import DrillRow
from orchestrator.rules.status import Status
from tests.fixtures.catalog_rows import SYSTEM, drill, local, one, snapshot

AT = local(date(2026, 6, 30), 20)
OBJECTIVES = {"rto_seconds": 3600.0, "rpo_seconds": 900.0}


def timed(day: date, rto: float | None, rpo: float | None, **changes: Any) -> DrillRow:
    fields: dict[str, Any] = {"system": SYSTEM, "objectives": OBJECTIVES, **changes}
    return replace(drill(day), rto_seconds=rto, rpo_seconds=rpo, **fields)


def judged(*drills: DrillRow) -> Any:
    return one("drill.objectives", snapshot(drills=drills), AT, SYSTEM)


def test_within_both_objectives_is_compliant_and_shows_them_side_by_side() -> None:
    finding = judged(timed(date(2026, 5, 1), 812.5, 86))
    assert finding.status is Status.COMPLIANT
    assert finding.measured == (
        "drill-2026-05-01 (sandbox-failover, 2026-05-01, passed): "
        "RTO 812.5 s (objective 3600 s), RPO 86 s (objective 900 s)"
    )


def test_an_rto_over_its_objective_is_non_compliant_and_says_by_what() -> None:
    finding = judged(timed(date(2026, 5, 1), 3600.001, 86))
    assert finding.status is Status.NON_COMPLIANT
    assert finding.reason == "RTO 3600.001 s > 3600 s"
    exactly = judged(timed(date(2026, 5, 1), 3600, 900))
    assert exactly.status is Status.COMPLIANT


def test_a_failed_drill_that_never_measured_its_rto_is_non_compliant() -> None:
    finding = judged(timed(date(2026, 5, 1), None, 86, status="failed"))
    assert finding.status is Status.NON_COMPLIANT
    assert "no RTO measured (objective 3600 s)" in finding.reason


def test_an_earlier_miss_in_the_year_is_partial_and_last_years_does_not_count() -> None:
    late = timed(date(2026, 3, 1), 4000, 86)
    good = timed(date(2026, 5, 1), 800, 86)
    finding = judged(late, good)
    assert finding.status is Status.PARTIAL and "drill-2026-03-01" in finding.reason
    last_year = timed(date(2025, 12, 1), 4000, 86)
    assert judged(last_year, good).status is Status.COMPLIANT


def test_an_aborted_drill_or_another_systems_drill_is_not_counted() -> None:
    aborted = timed(date(2026, 5, 2), None, None, status="aborted")
    other = timed(date(2026, 5, 3), 9999, 9999, system="cards")
    finding = judged(timed(date(2026, 5, 1), 800, 86), aborted, other)
    assert finding.status is Status.COMPLIANT and "drill-2026-05-01" in finding.measured


def test_no_drill_or_no_objective_cannot_be_judged() -> None:
    assert judged().status is Status.UNKNOWN
    assert judged().measured == "no drill in 2026"
    bare = judged(timed(date(2026, 5, 1), 800, 86, objectives={}))
    assert bare.status is Status.UNKNOWN
    assert "no objective" in bare.measured and "declares no RTO or RPO" in bare.reason


def test_only_declared_objectives_are_judged() -> None:
    rto_only = timed(date(2026, 5, 1), 800, 99999, objectives={"rto_seconds": 3600})
    assert judged(rto_only).status is Status.COMPLIANT


def test_every_finding_says_its_figures_and_reason_word_for_word() -> None:
    good = judged(timed(date(2026, 5, 1), 800, 86))
    assert good.reason == "the latest drill met every objective it declares"
    missed = judged(timed(date(2026, 5, 1), 4000, 1000))
    assert missed.measured == (
        "drill-2026-05-01 (sandbox-failover, 2026-05-01, passed): "
        "RTO 4000 s (objective 3600 s), RPO 1000 s (objective 900 s)"
    )
    assert missed.reason == "RTO 4000 s > 3600 s; RPO 1000 s > 900 s"
    bare = judged(timed(date(2026, 5, 1), 800, None, objectives={}))
    assert bare.measured == (
        "drill-2026-05-01 (sandbox-failover, 2026-05-01, passed): "
        "RTO 800 s (no objective), RPO not measured (no objective)"
    )
    assert bare.reason == "the scenario declares no RTO or RPO objective"


def test_every_earlier_miss_of_the_year_is_named() -> None:
    first, second = timed(date(2026, 3, 1), 4000, 86), timed(date(2026, 3, 2), 4000, 86)
    finding = judged(first, second, timed(date(2026, 5, 1), 800, 86))
    assert finding.measured.startswith("drill-2026-05-01 (")
    assert finding.reason == (
        "the latest drill met its objectives; earlier this year "
        "drill-2026-03-01, drill-2026-03-02 did not"
    )


def test_an_rpo_objective_alone_is_judged() -> None:
    finding = judged(timed(date(2026, 5, 1), 99999, 1000, objectives={"rpo_seconds": 900}))
    assert finding.status is Status.NON_COMPLIANT and finding.reason == "RPO 1000 s > 900 s"


def test_a_drill_finished_at_the_moment_of_judgement_counts_on_the_day_it_finished() -> None:
    late = replace(
        timed(date(2026, 6, 30), 800, 86),
        started_at=local(date(2026, 6, 29), 23).timestamp(),
        finished_at=AT.timestamp(),
    )
    finding = judged(late)
    assert finding.status is Status.COMPLIANT
    assert "(sandbox-failover, 2026-06-30, passed)" in finding.measured
