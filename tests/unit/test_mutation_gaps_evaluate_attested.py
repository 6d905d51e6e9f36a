"""Gaps in rules/evaluate_attested.py and rules/evaluate_restore_time.py that mutation testing
found (issue 16).

- power.ups: a site of another role listed first does not stop the judgement of the sites
  after it; of several attestations the newest is judged, whatever their order in dr.yml; an
  attestation dated today counts; one is valid through its expiry date and up to exactly
  365 days old, and either limit alone makes it expired.
- restore.duration: a restore finished at the very moment of judgement counts, one of exactly
  the objective is within it, a year without a timed restore says so in every field, and the
  reason names every late dataset or says all were within.
- switchover.notice: the threshold names the pack's counting convention (strict by default).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from orchestrator.model.restore_times import RestoreTiming
from orchestrator.model.settings import Config
from orchestrator.rules.evaluate import evaluate_all
from orchestrator.rules.status import Status
from tests.fixtures.catalog_rows import CALENDAR, PACK, SYSTEM, config_dict, local, one, snapshot


def attestation(
    attested: str, measured: float, subject: str = "production", expires: str = "2025-01-10"
) -> dict[str, Any]:
    return {
        "rule": "power.ups",
        "subject": subject,
        "document": f"UPS {attested} 放电测试报告",
        "date": attested,
        "expires": expires,
        "measured": measured,
    }


def test_power_ups_a_site_of_another_role_first_does_not_stop_the_others() -> None:
    data = config_dict(
        attestations=[
            attestation("2024-01-10", 4.5),
            attestation("2024-01-10", 4.5, "disaster-recovery"),
        ]
    )
    data["sites"] = list(reversed(data["sites"]))  # the vault first
    config = Config.model_validate(data)
    judged = {
        f.subject: f.status
        for f in evaluate_all(config, PACK, CALENDAR, snapshot(), local(date(2024, 3, 1)))
        if f.rule == "power.ups"
    }
    assert judged == {"production": Status.COMPLIANT, "disaster-recovery": Status.COMPLIANT}


def test_power_ups_the_newest_attestation_is_judged_whatever_the_order() -> None:
    config = Config.model_validate(
        config_dict(attestations=[attestation("2024-02-20", 3.0), attestation("2024-01-10", 4.5)])
    )
    finding = one("power.ups", snapshot(), local(date(2024, 3, 1)), "production", config=config)
    assert finding.status is Status.NON_COMPLIANT
    assert finding.measured.endswith("attested 10 day(s) ago")
    assert "UPS 2024-02-20" in finding.evidence


def test_power_ups_an_attestation_dated_today_counts() -> None:
    config = Config.model_validate(config_dict(attestations=[attestation("2024-03-01", 4.5)]))
    finding = one("power.ups", snapshot(), local(date(2024, 3, 1)), "production", config=config)
    assert finding.status is Status.COMPLIANT
    assert finding.measured.endswith("attested 0 day(s) ago")


def test_restore_duration_a_restore_finished_at_the_moment_of_judgement_counts() -> None:
    at = local(date(2024, 3, 5), 3)
    finished = at.timestamp()
    timing = RestoreTiming(
        SYSTEM, "ledger", "verify", "verify x", finished - 60, finished, 60.0, 600.0, "passed"
    )
    snap = replace(snapshot(), restore_timings=(timing,))
    data = config_dict()
    data["systems"][0]["restore_time_objective_seconds"] = 600
    config = Config.model_validate(data)
    finding = one("restore.duration", snap, at, SYSTEM, config=config)
    assert finding.status is Status.COMPLIANT
    assert "ledger 60 s (verify)" in finding.measured


def ups_status(attested: str, expires: str, on: date) -> Status:
    config = Config.model_validate(
        config_dict(attestations=[attestation(attested, 4.5, expires=expires)])
    )
    return one("power.ups", snapshot(), local(on), "production", config=config).status


def test_power_ups_an_attestation_is_valid_through_its_expiry_and_365_days() -> None:
    assert ups_status("2024-01-10", "2024-03-01", date(2024, 3, 1)) is Status.COMPLIANT
    assert ups_status("2024-01-10", "2024-02-29", date(2024, 3, 1)) is Status.NON_COMPLIANT
    # 2023-03-02 → 2024-03-01 is 365 days (2024 is a leap year)
    assert ups_status("2023-03-02", "2025-01-10", date(2024, 3, 1)) is Status.COMPLIANT
    assert ups_status("2023-03-01", "2025-01-10", date(2024, 3, 1)) is Status.NON_COMPLIANT


def test_restore_duration_without_a_timed_restore_this_year_says_so() -> None:
    data = config_dict()
    data["systems"][0]["restore_time_objective_seconds"] = 600
    config = Config.model_validate(data)
    finding = one("restore.duration", snapshot(), local(date(2024, 3, 5)), SYSTEM, config=config)
    assert finding.status is Status.UNKNOWN
    assert (finding.measured, finding.threshold, finding.evidence, finding.reason) == (
        "no timed restore in 2024",
        "every restore of a dataset ≤ 600 s",
        "catalog restore_timings (sampled checks and drill failover/failback)",
        "no restore of the system was timed in this year",
    )


def test_restore_duration_a_restore_of_exactly_the_objective_is_within_it() -> None:
    data = config_dict()
    data["systems"][0]["restore_time_objective_seconds"] = 600
    config = Config.model_validate(data)

    def timed(day: date, seconds: float) -> RestoreTiming:
        finished = local(day, 3).timestamp()
        return RestoreTiming(
            SYSTEM,
            "ledger",
            "verify",
            "verify x",
            finished - seconds,
            finished,
            seconds,
            600.0,
            "passed",
        )

    snap = replace(
        snapshot(), restore_timings=(timed(date(2024, 3, 1), 600), timed(date(2024, 3, 4), 600))
    )
    finding = one("restore.duration", snap, local(date(2024, 3, 5)), SYSTEM, config=config)
    assert finding.status is Status.COMPLIANT
    assert (
        finding.evidence == "catalog restore_timings (sampled checks and drill failover/failback)"
    )


@pytest.mark.parametrize(("convention", "shown"), [(None, "strict"), ("inclusive", "inclusive")])
def test_switchover_threshold_names_the_pack_s_counting_convention(
    convention: str | None, shown: str
) -> None:
    rules = tuple(
        replace(rule, counting_convention=convention) if rule.id == "switchover.notice" else rule
        for rule in PACK.rules
    )
    pack = replace(PACK, rules=rules)
    finding = one("switchover.notice", snapshot(), local(date(2024, 3, 1)), "all", pack=pack)
    assert finding.threshold.endswith(f"working day ({shown} counting)")


def test_restore_duration_reasons_name_every_late_dataset_or_say_all_were_within() -> None:
    data = config_dict()
    data["systems"][0]["restore_time_objective_seconds"] = 600
    config = Config.model_validate(data)

    def timed(dataset: str, seconds: float) -> RestoreTiming:
        finished = local(date(2024, 3, 4), 3).timestamp()
        return RestoreTiming(
            SYSTEM,
            dataset,
            "verify",
            "verify x",
            finished - seconds,
            finished,
            seconds,
            600.0,
            "passed",
        )

    at = local(date(2024, 3, 5))
    late = replace(snapshot(), restore_timings=(timed("ledger", 900), timed("files", 700)))
    assert one("restore.duration", late, at, SYSTEM, config=config).reason == (
        "the latest restore took longer than the objective: files, ledger"
    )
    within = replace(snapshot(), restore_timings=(timed("ledger", 60),))
    assert one("restore.duration", within, at, SYSTEM, config=config).reason == (
        "every restore this year finished within the objective"
    )
