"""Every finding of every rule, word for word, for catalog states that reach each branch.

The other rule tests check statuses and the phrase that matters; this one pins what an
auditor reads in status output and evidence — measured, threshold, evidence, reason — for
every subject, against `findings_in_full.json` beside this file. When a finding's wording
changes on purpose, update the JSON in the same commit and read its diff: each changed line
is a changed sentence in evidence.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from orchestrator.config import Config
from orchestrator.model.snapshot import Snapshot
from orchestrator.rules.evaluate import evaluate_all
from orchestrator.rules.rule import RulePack
from tests.fixtures.catalog_rows import (
    CALENDAR,
    DATASETS,
    PACK,
    all_datasets_daily,
    check,
    config_dict,
    copies,
    daily_points,
    drill,
    local,
    model,
    snapshot,
    with_rule,
)

GOLDEN = Path(__file__).with_name("findings_in_full.json")
Scenario = tuple[Snapshot, datetime, Config, RulePack]


def _config(**changes: Any) -> Config:
    data = config_dict(**changes)
    data["systems"][0]["datasets"].append(
        {"name": "changes", "engine": "files", "category": "accounting_changes", "path": "changes"}
    )
    return Config.model_validate(data)


def _attestation(measured: float | None, attested: str, expires: str, site: str) -> dict:
    return {
        "rule": "power.ups",
        "subject": site,
        "document": f"UPS-{attested} 放电测试报告",
        "date": attested,
        "expires": expires,
        "measured": measured,
    }


def empty() -> Scenario:
    return snapshot(), local(date(2024, 3, 8), 22), model(), PACK


def healthy() -> Scenario:
    points = all_datasets_daily(date(2024, 2, 20), 18) + daily_points(
        "changes", date(2024, 2, 20), 18
    )
    at = local(date(2024, 3, 8), 22)
    config = _config(
        attestations=[
            _attestation(4.5, "2024-01-10", "2025-01-10", "production"),
            _attestation(6, "2024-02-01", "2025-02-01", "disaster-recovery"),
        ],
        network={"paths": [{"name": "dc-dr-link", "target": "10.0.0.1:443"}]},
    )
    snap = snapshot(
        points,
        verifications=[check(date(2024, 2, 1), ident="a"), check(date(2024, 2, 28), ident="b")],
        drills=[drill(date(2024, 1, 15))],
    )
    return snap, at, config, PACK


def broken() -> Scenario:
    ledger = daily_points("ledger", date(2024, 1, 1), 60)
    rows = [
        c
        for p in ledger[:50]
        for c in copies(p, primary="deleted", offsite="deleted", deleted_after=3 * 86400.0)
    ]
    rows += [c for p in ledger[50:57] for c in copies(p, offsite_after=None)]
    rows += [c for p in ledger[57:] for c in copies(p, offsite_after=2 * 86400.0)]
    oplogs = daily_points("oplogs", date(2024, 1, 1), 40)
    rows += [
        c
        for p in oplogs
        for c in copies(p, primary="deleted", offsite="deleted", deleted_after=8 * 86400.0)
    ]
    changes = daily_points("changes", date(2024, 1, 1), 10)
    rows += [c for p in changes for c in copies(p, primary="lost", offsite="bad")]
    at = local(date(2024, 3, 20), 22)
    config = _config(
        attestations=[
            _attestation(3.5, "2024-01-10", "2025-01-10", "production"),
            _attestation(5, "2023-01-10", "2024-01-10", "disaster-recovery"),
        ]
    )
    snap = snapshot(
        ledger + oplogs + changes,
        rows,
        verifications=[
            check(date(2024, 1, 20), sample=(50, 1000, 2, 10), ident="short"),
            check(date(2024, 2, 1), counted=False, ident="uncounted"),
        ],
        drills=[
            drill(date(2023, 3, 1)),
            drill(date(2024, 3, 1), status="failed"),
        ],
    )
    return snap, at, config, PACK


def partial() -> Scenario:
    points = [p for name in DATASETS for p in daily_points(name, date(2024, 2, 26), 12)]
    points = [
        p for p in points if not (p.dataset == "ledger" and p.business_date == date(2024, 3, 5))
    ]
    points = [
        p for p in points if not (p.dataset == "ledger" and p.business_date == date(2024, 3, 6))
    ]
    rows = [c for p in points if p.dataset != "config" for c in copies(p)]
    config_points = [p for p in points if p.dataset == "config"]
    rows += copies(config_points[0], primary="lost")
    rows += [c for p in config_points[1:] for c in copies(p, offsite_after=3 * 86400.0)]
    at = local(date(2024, 3, 8), 22)
    config = _config(
        attestations=[_attestation(None, "2024-01-10", "2025-01-10", "production")],
        network={"paths": [{"name": "a", "target": "10.0.0.1:1"}, {"name": "b", "target": "x:2"}]},
    )
    snap = snapshot(
        points,
        rows,
        verifications=[
            check(date(2023, 12, 1), ident="old"),
            check(date(2024, 1, 25), sample=(120, 1000, 1, 20), ident="few-points"),
            check(date(2024, 2, 12), ident="last"),
        ],
        drills=[drill(date(2023, 6, 1), failover=True, failback=None)],
    )
    return snap, at, config, PACK


def no_calendar() -> Scenario:
    points = all_datasets_daily(date(2026, 12, 28), 3)
    return snapshot(points), local(date(2027, 1, 4), 22), model(), PACK


def strict_site() -> Scenario:
    pack = with_rule(
        PACK,
        "backup.rotation",
        thresholds={
            **PACK.get("backup.rotation").thresholds,
            "min_days": replace(PACK.get("backup.rotation").threshold("min_days"), value=21),
        },
    )
    pack = with_rule(pack, "backup.content", required_categories=())
    points = daily_points("ledger", date(2024, 3, 1), 12)
    rows = [c for p in points[1:] for c in copies(p)]
    rows += copies(points[0], primary="deleted", deleted_after=10 * 86400.0)
    data = config_dict()
    data["systems"][0]["datasets"] = [
        d for d in data["systems"][0]["datasets"] if d["category"] != "audit"
    ]
    return snapshot(points, rows), local(date(2024, 3, 25), 22), Config.model_validate(data), pack


def long_history() -> Scenario:
    """Operation logs kept for 200 days, accounting changes for 1100: both old enough."""
    points = daily_points("oplogs", date(2023, 8, 1), 200)
    points += daily_points("changes", date(2021, 3, 1), 1100)
    return snapshot(points), local(date(2024, 3, 5), 22), _config(), PACK


def young_kept() -> Scenario:
    """Ten old operation-log points deleted 190 days after writing (none early), then no
    backup until 99 days ago: the oldest kept point is younger than 184 days while the
    history is older."""
    old = daily_points("oplogs", date(2023, 8, 1), 10)
    rows = [
        c
        for p in old
        for c in copies(p, primary="deleted", offsite="deleted", deleted_after=190 * 86400.0)
    ]
    recent = daily_points("oplogs", date(2023, 11, 27), 99)
    rows += [c for p in recent for c in copies(p)]
    return snapshot(old + recent, rows), local(date(2024, 3, 5), 22), model(), PACK


SCENARIOS: dict[str, Callable[[], Scenario]] = {
    "empty": empty,
    "healthy": healthy,
    "broken": broken,
    "partial": partial,
    "no_calendar": no_calendar,
    "strict_site": strict_site,
    "long_history": long_history,
    "young_kept": young_kept,
}


def findings(name: str) -> list[dict[str, str]]:
    snap, at, config, pack = SCENARIOS[name]()
    return [
        {
            "rule": f.rule,
            "subject": f.subject,
            "status": str(f.status),
            "severity": str(f.severity),
            "measured": f.measured,
            "threshold": f.threshold,
            "evidence": f.evidence,
            "reason": f.reason,
        }
        for f in evaluate_all(config, pack, CALENDAR, snap, at)
    ]


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_finding_word_for_word(name: str) -> None:
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))[name]
    actual = findings(name)
    assert [(f["rule"], f["subject"]) for f in actual] == [
        (f["rule"], f["subject"]) for f in expected
    ]
    for got, want in zip(actual, expected, strict=True):
        assert got == want, f"{want['rule']} {want['subject']}"


def test_the_scenarios_reach_every_status() -> None:
    statuses = {f["status"] for name in SCENARIOS for f in findings(name)}
    assert statuses == {"compliant", "partial", "non_compliant", "unknown", "not_applicable"}
