"""Gaps in rules/evaluate_mirroring.py that mutation testing found (issue 16): the finding an
auditor reads is pinned whole (threshold, measured, evidence), the last probe is the one at the
very moment of judgement (a stopped link without a lag says "lag unknown"), and the measured
text lists every link, in the order of dr.yml, with its own figures. The year's monitored
period starts at midnight on 1 January in Asia/Shanghai. The reasons name every short link,
say when a link was never probed or all is well, and exactly the required share is enough."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from orchestrator.model.replication import ProbeRow
from orchestrator.model.settings import Config
from orchestrator.rules.status import Status
from tests.fixtures.catalog_rows import SYSTEM, config_dict, local, one, snapshot
from tests.unit.test_evaluate_mirroring import AT, DRILL, SETTINGS, every, mirror, probe


def test_the_compliant_finding_in_full() -> None:
    finding = mirror(every(300, 288), DRILL, AT)
    assert finding.status is Status.COMPLIANT
    assert finding.threshold == (
        "failover and failback drilled in 2024; every link healthy (streaming, lag ≤ 30 s) "
        "≥ 99 % of the monitored period"
    )
    assert finding.measured == (
        "ledger-pg: healthy 100 % of 1 d (288 probes; last streaming, lag 1 s); "
        "drill drill-2024-02-01 verified both ways"
    )
    assert finding.evidence == "mirroring ledger (replication_probes) and catalog drills"


def test_a_probe_at_the_moment_of_judgement_is_the_last_and_may_have_no_lag() -> None:
    probes = [*every(300, 287), probe(AT.timestamp(), state="stopped", lag=None)]
    finding = mirror(probes, (), AT)
    assert finding.measured == (
        "ledger-pg: healthy 100 % of 1 d (288 probes; last stopped, lag unknown); "
        "no drill verified both ways"
    )


def test_every_link_is_described_with_its_own_probes() -> None:
    second = {**SETTINGS["links"][0], "name": "cards-pg"}  # type: ignore[index]
    data = config_dict()
    data["systems"][0]["replication"] = {**SETTINGS, "links": [SETTINGS["links"][0], second]}  # type: ignore[index]
    healthy = every(300, 288)
    broken = [
        ProbeRow(SYSTEM, "cards-pg", "postgresql", p.probed_at, "stopped", None) for p in healthy
    ]
    snap: Any = replace(snapshot(drills=DRILL), replication_probes=tuple(healthy + broken))
    finding = one("dr.mirroring", snap, AT, SYSTEM, config=Config.model_validate(data))
    assert finding.status is Status.NON_COMPLIANT
    assert finding.measured == (
        "ledger-pg: healthy 100 % of 1 d (288 probes; last streaming, lag 1 s); "
        "cards-pg: healthy 0 % of 1 d (288 probes; last stopped, lag unknown); "
        "drill drill-2024-02-01 verified both ways"
    )


def test_the_monitored_period_starts_at_the_shanghai_new_year() -> None:
    # Probed every 5 min from noon on 31 December to noon on 1 January (Asia/Shanghai): the
    # 2024 figure covers the half day since midnight, with the 145 probes inside it.
    start = local(date(2023, 12, 31), 12).timestamp()
    probes = [probe(start + i * 300) for i in range(289)]
    finding = mirror(probes, (), local(date(2024, 1, 1), 12))
    assert finding.measured == (
        "ledger-pg: healthy 100 % of 0.5 d (145 probes; last streaming, lag 1 s); "
        "no drill verified both ways"
    )


def two_links(probes: list[ProbeRow], ratio: float = 0.99) -> Any:
    second = {**SETTINGS["links"][0], "name": "cards-pg"}  # type: ignore[index]
    data = config_dict()
    data["systems"][0]["replication"] = {
        **SETTINGS,
        "min_healthy_ratio": ratio,
        "links": [SETTINGS["links"][0], second],  # type: ignore[index]
    }
    snap: Any = replace(snapshot(drills=DRILL), replication_probes=tuple(probes))
    return one("dr.mirroring", snap, AT, SYSTEM, config=Config.model_validate(data))


def cards(probes: list[ProbeRow], state: str = "streaming") -> list[ProbeRow]:
    lag = 1.0 if state == "streaming" else None
    return [ProbeRow(SYSTEM, "cards-pg", "postgresql", p.probed_at, state, lag) for p in probes]


def test_the_reasons_name_what_is_missing_or_say_all_is_well() -> None:
    healthy = every(300, 288)
    assert two_links(healthy + cards(healthy)).reason == (
        "both directions drilled and every link healthy within the objective"
    )
    never = two_links(healthy)
    assert never.status is Status.UNKNOWN
    assert never.reason == "a link was never probed in this year: mirroring cannot be shown"
    stopped = every(300, 288, state="stopped", lag=None)
    assert two_links(stopped + cards(healthy, "stopped")).reason == (
        "mirroring below the healthy share objective on ledger-pg, cards-pg"
    )


def test_a_link_healthy_exactly_the_required_share_meets_it() -> None:
    healthy = every(300, 288)
    half = healthy[:144] + every(300, 288, state="stopped", lag=None)[144:]
    finding = two_links(half + cards(healthy), ratio=0.5)
    assert finding.status is Status.COMPLIANT, finding.measured
