"""Check, drill, facility, network and switchover rules judged from hand-made snapshots."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from orchestrator.model.settings import Config
from orchestrator.rules.evaluate import EVALUATORS, evaluate_all
from orchestrator.rules.evaluate_network import evaluate_availability, evaluate_max_outage
from orchestrator.rules.finding import Context, Finding
from orchestrator.rules.status import Status
from tests.fixtures.catalog_rows import (
    CALENDAR,
    PACK,
    check,
    config_dict,
    drill,
    local,
    model,
    one,
    point,
    snapshot,
)

HISTORY = [point("ledger", date(2024, 1, 2))]

# -- verify.interval ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("checked", "status"),
    [
        (date(2024, 3, 1), Status.COMPLIANT),  # 10 days
        (date(2024, 2, 14), Status.PARTIAL),  # 25 days: warn
        (date(2024, 2, 9), Status.PARTIAL),  # 30 days: still within
        (date(2024, 2, 8), Status.NON_COMPLIANT),  # 31 days
    ],
)
def test_verify_interval_days_since_last_counted_check(checked: date, status: Status) -> None:
    snap = snapshot(HISTORY, verifications=[check(checked)])
    finding = one("verify.interval", snap, local(date(2024, 3, 10)), "core-banking")
    assert finding.status is status, finding


def test_verify_interval_uncounted_checks_do_not_count() -> None:
    snap = snapshot(HISTORY, verifications=[check(date(2024, 3, 1), counted=False)])
    finding = one("verify.interval", snap, local(date(2024, 3, 10)), "core-banking")
    assert finding.status is Status.NON_COMPLIANT and "no counted check" in finding.measured


def test_verify_interval_earlier_gap_over_thirty_days_is_partial() -> None:
    checks = [check(date(2024, 1, 5), ident="a"), check(date(2024, 2, 20), ident="b")]
    finding = one(
        "verify.interval",
        snapshot(HISTORY, verifications=checks),
        local(date(2024, 3, 1)),
        "core-banking",
    )
    assert finding.status is Status.PARTIAL and "(46 d)" in finding.reason


def test_verify_interval_unknown_before_anything_is_backed_up_or_checked() -> None:
    at = local(date(2024, 1, 10))
    assert one("verify.interval", snapshot(), at, "core-banking").status is Status.UNKNOWN
    young = one("verify.interval", snapshot(HISTORY), at, "core-banking")
    assert young.status is Status.UNKNOWN and "due by 2024-02-01" in young.reason


# -- verify.sample -----------------------------------------------------------------------------


def test_verify_sample_both_ratios_at_least_ten_percent() -> None:
    snap = snapshot(HISTORY, verifications=[check(date(2024, 3, 1), sample=(100, 1000, 1, 10))])
    finding = one("verify.sample", snap, local(date(2024, 3, 2)), "all")
    assert finding.status is Status.COMPLIANT and "bytes 10 % (100/1000)" in finding.measured


@pytest.mark.parametrize("sample", [(99, 1000, 5, 10), (500, 1000, 9, 100)])
def test_verify_sample_below_ten_percent_on_either_basis(sample: tuple[int, int, int, int]) -> None:
    snap = snapshot(HISTORY, verifications=[check(date(2024, 3, 1), sample=sample)])
    assert one("verify.sample", snap, local(date(2024, 3, 2)), "all").status is Status.NON_COMPLIANT


def test_verify_sample_earlier_short_check_is_partial_and_unknowns() -> None:
    checks = [
        check(date(2024, 2, 1), sample=(1, 1000, 1, 100), ident="a"),
        check(date(2024, 3, 1), ident="b"),
    ]
    at = local(date(2024, 3, 2))
    assert (
        one("verify.sample", snapshot(HISTORY, verifications=checks), at, "all").status
        is Status.PARTIAL
    )
    assert one("verify.sample", snapshot(HISTORY), at, "all").status is Status.UNKNOWN
    no_sizes = snapshot(HISTORY, verifications=[check(date(2024, 3, 1), sample=None)])
    assert one("verify.sample", no_sizes, at, "all").status is Status.UNKNOWN


def test_verify_sample_of_a_population_holding_no_bytes_is_judged_by_its_points() -> None:
    # Empty datasets: every point 0 bytes. The plan counted the check (all of no bytes is
    # sampled); the rule judged it unknown, saying the sizes were not recorded, though they were.
    at = local(date(2024, 3, 2))
    met = snapshot(HISTORY, verifications=[check(date(2024, 3, 1), sample=(0, 0, 1, 10))])
    finding = one("verify.sample", met, at, "all")
    assert finding.status is Status.COMPLIANT and "(0/0)" in finding.measured, finding
    short = snapshot(HISTORY, verifications=[check(date(2024, 3, 1), sample=(0, 0, 1, 11))])
    assert one("verify.sample", short, at, "all").status is Status.NON_COMPLIANT


# -- drill.yearly, dr.bidirectional ------------------------------------------------------------


def test_drill_yearly_compliant_in_this_year() -> None:
    snap = snapshot(HISTORY, drills=[drill(date(2023, 6, 1)), drill(date(2024, 2, 1))])
    finding = one("drill.yearly", snap, local(date(2024, 3, 1)), "all")
    assert finding.status is Status.COMPLIANT and "1 passed drill(s) in 2024" in finding.measured


def test_drill_yearly_none_yet_this_year_is_partial_over_365_days_non_compliant() -> None:
    snap = snapshot(HISTORY, drills=[drill(date(2023, 6, 1))])
    assert one("drill.yearly", snap, local(date(2024, 3, 1)), "all").status is Status.PARTIAL
    late = one("drill.yearly", snap, local(date(2024, 6, 2)), "all")
    assert late.status is Status.NON_COMPLIANT and "367 days" in late.reason


def test_drill_yearly_failed_drills_do_not_count_and_no_history_is_unknown() -> None:
    at = local(date(2024, 3, 1))
    assert one("drill.yearly", snapshot(), at, "all").status is Status.UNKNOWN
    failed = snapshot(
        [point("ledger", date(2023, 1, 2))], drills=[drill(date(2024, 2, 1), status="failed")]
    )
    assert one("drill.yearly", failed, at, "all").status is Status.NON_COMPLIANT


def test_bidirectional_needs_both_directions_on_the_last_passed_drill() -> None:
    at = local(date(2024, 3, 1))
    ok = snapshot(HISTORY, drills=[drill(date(2024, 2, 1))])
    assert one("dr.bidirectional", ok, at, "all").status is Status.COMPLIANT
    one_way = snapshot(HISTORY, drills=[drill(date(2024, 2, 1), failback=False)])
    finding = one("dr.bidirectional", one_way, at, "all")
    assert finding.status is Status.NON_COMPLIANT and "failback FAILED" in finding.measured
    assert one("dr.bidirectional", snapshot(HISTORY), at, "all").status is Status.UNKNOWN
    unrecorded = snapshot(HISTORY, drills=[drill(date(2024, 2, 1), failover=None)])
    assert one("dr.bidirectional", unrecorded, at, "all").status is Status.UNKNOWN


# -- power.ups ---------------------------------------------------------------------------------


def _ups(
    measured: float | None, attested: str = "2024-01-10", expires: str = "2025-01-10"
) -> Config:
    attestation: dict[str, Any] = {
        "rule": "power.ups",
        "subject": "production",
        "document": "UPS-2024-01 放电测试报告",
        "date": attested,
        "expires": expires,
        "measured": measured,
    }
    return Config.model_validate(config_dict(attestations=[attestation]))


def test_power_ups_attestation_statuses() -> None:
    at = local(date(2024, 3, 1))
    compliant = one("power.ups", snapshot(), at, "production", config=_ups(4.5))
    assert compliant.status is Status.COMPLIANT and "UPS-2024-01" in compliant.evidence
    assert (
        one("power.ups", snapshot(), at, "production", config=_ups(3.5)).status
        is Status.NON_COMPLIANT
    )
    expired = _ups(5, attested="2023-01-10", expires="2024-01-10")
    assert (
        one("power.ups", snapshot(), at, "production", config=expired).status
        is Status.NON_COMPLIANT
    )
    assert (
        one("power.ups", snapshot(), at, "production", config=_ups(None)).status is Status.UNKNOWN
    )
    missing = one("power.ups", snapshot(), at, "disaster-recovery", config=_ups(4.5))
    assert missing.status is Status.UNKNOWN
    assert "verification" not in {
        f.subject
        for f in evaluate_all(_ups(4.5), PACK, CALENDAR, snapshot(), at)
        if f.rule == "power.ups"
    }


# -- network defaults, plug-in evaluators, switchover ------------------------------------------


def _context(config: Config) -> Context:
    return Context(config, PACK, CALENDAR, snapshot(), local(date(2024, 3, 1)))


def test_network_rules_are_unknown_per_path_until_probed() -> None:
    config = model(network={"paths": [{"name": "dc-dr-link", "target": "10.0.0.1:443"}]})
    for evaluator in (evaluate_availability, evaluate_max_outage):
        findings = evaluator(_context(config))
        assert [(f.subject, f.status) for f in findings] == [("dc-dr-link", Status.UNKNOWN)]
        assert findings[0].reason == "the path was not observed in this year"


def test_rules_are_pluggable() -> None:
    def fake(ctx: Context) -> list[Finding]:
        return [
            ctx.finding(
                "network.max_outage",
                "dc-dr-link",
                Status.COMPLIANT,
                measured="longest 0 s",
                threshold="< 7200 s",
                evidence="test",
                reason="plugged in",
            )
        ]

    evaluators = {**EVALUATORS, "network.max_outage": fake}
    at = local(date(2024, 3, 1))
    findings = evaluate_all(model(), PACK, CALENDAR, snapshot(), at, evaluators=evaluators)
    plugged = [f for f in findings if f.rule == "network.max_outage"]
    assert [(f.subject, f.status, f.reason) for f in plugged] == [
        ("dc-dr-link", Status.COMPLIANT, "plugged in")
    ]


def test_switchover_is_not_applicable_in_status() -> None:
    finding = one("switchover.notice", snapshot(), local(date(2024, 3, 1)), "all")
    assert finding.status is Status.NOT_APPLICABLE
    assert "drctl plan switchover" in finding.evidence and "第十条" in finding.clause.article


def test_naive_time_is_refused() -> None:
    from datetime import datetime

    with pytest.raises(ValueError, match="no time zone"):
        evaluate_all(model(), PACK, CALENDAR, snapshot(), datetime(2024, 3, 1))


# -- sample_ratios -----------------------------------------------------------------------------


def test_sample_ratios_are_exact_and_none_when_not_recorded() -> None:
    from fractions import Fraction

    from orchestrator.rules.evaluate_governance import sample_ratios

    assert sample_ratios(check(date(2024, 3, 1), sample=(120, 1000, 2, 10))) == (
        Fraction(3, 25),
        Fraction(1, 5),
    )
    assert sample_ratios(check(date(2024, 3, 1), sample=(0, 1000, 0, 10))) == (0, 0)
    assert sample_ratios(check(date(2024, 3, 1), sample=None)) is None
    assert sample_ratios(check(date(2024, 3, 1), sample=(0, 0, 1, 10))) == (1, Fraction(1, 10))
    assert sample_ratios(check(date(2024, 3, 1), sample=(1, 10, 0, 0))) is None
