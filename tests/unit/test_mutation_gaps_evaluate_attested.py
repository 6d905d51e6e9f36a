"""Gaps in rules/evaluate_attested.py and rules/evaluate_restore_time.py that mutation testing
found (issue 16).

- power.ups: a site of another role listed first does not stop the judgement of the sites
  after it; of several attestations the newest is judged, whatever their order in dr.yml; an
  attestation dated today counts; one is valid through its expiry date and up to exactly
  365 days old, and either limit alone makes it expired.
- restore.duration: a restore finished at the very moment of judgement counts.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

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
