"""Gaps in rules/evaluate_governance.py and rules/evaluate_content.py that mutation testing
found (issue 16).

- verify.sample: the bytes ratio is judged against the bytes bar and the recovery-points ratio
  against the points bar (a site may set them apart), and the threshold names each; every
  earlier short check is named, one exactly a year old included; a last check without sizes
  is unknown, word for word.
- verify.interval: a gap of exactly the limit is not over it; a gap ending exactly a year ago
  still counts; every long gap is listed; a check counts only for the systems it touched; a
  system not backed up does not hide the next one.
- backup.content: every category not declared is named.
- drill.yearly: the long gap of the last year is named; under a site's stricter limit there
  can be two, and both are named.
- dr.bidirectional: a failed direction and a drill without evidence, word for word.
- logs retention: a recovery point recorded without any copy row is not kept (and does not
  stop the judgement); a dataset not backed up does not hide the next one; the bounds at
  exactly the minimum age (a deleted point that old is no early deletion, but the oldest kept
  one is then too young; an oldest kept point exactly that old is enough).
"""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import date, timedelta
from fractions import Fraction

import pytest

from orchestrator.model.settings import Config
from orchestrator.model.snapshot import VerificationRow
from orchestrator.rules.rule import RulePack
from orchestrator.rules.status import Status
from tests.fixtures.catalog_rows import (
    DAY,
    PACK,
    check,
    config_dict,
    copies,
    daily_points,
    drill,
    judge,
    local,
    one,
    point,
    snapshot,
    with_rule,
)

HISTORY = [point("ledger", date(2024, 1, 2))]


def _points_bar_half() -> RulePack:
    rule = PACK.get("verify.sample")
    bar = rule.threshold("min_points_ratio")
    return with_rule(
        PACK,
        "verify.sample",
        thresholds={**rule.thresholds, "min_points_ratio": replace(bar, value=Fraction(1, 2))},
    )


@pytest.mark.parametrize(
    ("sample", "status"),
    [
        ((120, 1000, 6, 10), Status.COMPLIANT),  # bytes 12 % ≥ 10 %, points 60 % ≥ 50 %
        ((120, 1000, 4, 10), Status.NON_COMPLIANT),  # points 40 % < 50 %
        ((90, 1000, 9, 10), Status.NON_COMPLIANT),  # bytes 9 % < 10 %
    ],
)
def test_sample_each_ratio_is_judged_against_its_own_bar(
    sample: tuple[int, int, int, int], status: Status
) -> None:
    snap = snapshot(HISTORY, verifications=[check(date(2024, 3, 1), sample=sample)])
    finding = one("verify.sample", snap, local(date(2024, 3, 2)), "all", pack=_points_bar_half())
    assert finding.status is status, finding


def test_sample_every_earlier_short_check_is_named() -> None:
    checks = [
        check(date(2024, 1, 5), sample=(10, 1000, 1, 10), ident="a"),
        check(date(2024, 2, 5), sample=(10, 1000, 1, 10), ident="b"),
        check(date(2024, 3, 1), ident="c"),
    ]
    finding = one(
        "verify.sample", snapshot(HISTORY, verifications=checks), local(date(2024, 3, 2)), "all"
    )
    assert finding.status is Status.PARTIAL
    assert finding.reason == "earlier checks in the last year sampled too little: a, b"


def test_retention_a_point_without_any_copy_is_not_kept() -> None:
    points = daily_points("oplogs", date(2024, 3, 1), 3)
    finding = one(
        "logs.operation_retention",
        snapshot(points, []),
        local(date(2024, 3, 4), 22),
        "core-banking/oplogs",
    )
    assert finding.measured.endswith("; oldest kept none")


def _two_log_datasets() -> Config:
    data = config_dict()
    data["systems"][0]["datasets"].append(
        {"name": "applogs", "engine": "files", "category": "logs", "path": "applogs"}
    )
    return Config.model_validate(data)


def test_retention_a_dataset_not_backed_up_does_not_hide_the_next_one() -> None:
    points = daily_points("applogs", date(2024, 3, 1), 3)
    findings = judge(
        "logs.operation_retention",
        snapshot(points),
        local(date(2024, 3, 4), 22),
        config=_two_log_datasets(),
    )
    assert [(f.subject, f.status) for f in findings] == [
        ("core-banking/oplogs", Status.UNKNOWN),
        ("core-banking/applogs", Status.COMPLIANT),
    ]


MIN_DAYS = 184  # logs.operation_retention in the rule pack


def test_retention_a_deleted_point_as_old_as_the_minimum_is_judged_by_the_oldest_kept() -> None:
    first = date(2024, 1, 1)
    points = daily_points("oplogs", first, 10)
    deleted_after = (MIN_DAYS - 1) * DAY  # deleted a day before it is judged
    rows = copies(points[0], primary="deleted", offsite="deleted", deleted_after=deleted_after)
    rows += [c for p in points[1:] for c in copies(p)]
    at = local(first + timedelta(days=MIN_DAYS))  # the first point is exactly 184 d old
    finding = one("logs.operation_retention", snapshot(points, rows), at, "core-banking/oplogs")
    # the history is exactly the minimum old, so the oldest kept (183 d) is too young
    assert finding.status is Status.NON_COMPLIANT
    assert finding.reason == ("the oldest kept recovery point is 183 d old; the history is 184 d")


def test_retention_the_oldest_kept_exactly_at_the_minimum_age_is_enough() -> None:
    first = date(2024, 1, 1)
    points = daily_points("oplogs", first, 10)
    at = local(first + timedelta(days=MIN_DAYS))
    finding = one("logs.operation_retention", snapshot(points), at, "core-banking/oplogs")
    assert finding.status is Status.COMPLIANT
    assert finding.reason == "records older than 184 days are kept"


def test_retention_nothing_kept_of_an_old_history_is_non_compliant() -> None:
    first = date(2024, 1, 1)
    points = daily_points("oplogs", first, 3)
    rows = [c for p in points for c in copies(p, primary="lost", offsite="lost")]
    at = local(first + timedelta(days=200))
    finding = one("logs.operation_retention", snapshot(points, rows), at, "core-banking/oplogs")
    assert finding.status is Status.NON_COMPLIANT
    assert finding.reason == "the oldest kept recovery point is 0 d old; the history is 200 d"


def _checks_every(first: date, step: int, until: date) -> list[VerificationRow]:
    days = range(0, (until - first).days + 1, step)
    return [check(first + timedelta(days=n), ident=f"c{n}") for n in days]


def test_interval_a_gap_of_exactly_the_limit_is_not_over_it() -> None:
    checks = _checks_every(date(2024, 1, 10), 30, date(2024, 6, 10))
    finding = one(
        "verify.interval",
        snapshot(HISTORY, verifications=checks),
        local(date(2024, 6, 10)),
        "core-banking",
    )
    assert (finding.status, finding.reason) == (
        Status.COMPLIANT,
        "checked within 30 days throughout",
    )


def test_interval_every_long_gap_is_listed_and_one_ending_a_year_ago_counts() -> None:
    # 2025-03-10 is judged; a year back is 2024-03-10, where the first long gap ends
    checks = [check(date(2024, 2, 8), ident="a"), check(date(2024, 3, 10), ident="b")]
    checks += [check(date(2024, 5, 1), ident="c")]
    checks += _checks_every(date(2024, 5, 31), 30, date(2025, 3, 10))
    finding = one(
        "verify.interval",
        snapshot(HISTORY, verifications=checks),
        local(date(2025, 3, 10)),
        "core-banking",
    )
    assert finding.status is Status.PARTIAL
    assert finding.reason == (
        "gaps over the limit in the last year: 2024-02-08 → 2024-03-10 (31 d), "
        "2024-03-10 → 2024-05-01 (52 d)"
    )


def test_drill_the_long_gap_of_the_last_year_is_named() -> None:
    drills = [drill(date(2023, 1, 10)), drill(date(2024, 1, 20))]
    finding = one("drill.yearly", snapshot(HISTORY, drills=drills), local(date(2024, 6, 1)), "all")
    assert finding.status is Status.PARTIAL
    assert finding.reason == "gaps over the limit: 2023-01-10 → 2024-01-20 (375 d)"


def _payments_first() -> Config:
    """The sandbox config with a second system, payments, listed before core-banking."""
    data = config_dict()
    payments = copy.deepcopy(data["systems"][0])
    payments["name"] = "payments"
    for dataset in payments["datasets"]:
        dataset["path"] = "payments/" + dataset["path"]
    data["systems"].insert(0, payments)
    return Config.model_validate(data)


def test_interval_a_check_counts_only_for_the_systems_its_items_touched() -> None:
    history = HISTORY + [replace(HISTORY[0], id="p-1", system="payments")]
    touched = replace(check(date(2024, 3, 1)), systems=frozenset({"payments"}))
    findings = judge(
        "verify.interval",
        snapshot(history, verifications=[touched]),
        local(date(2024, 3, 10)),
        config=_payments_first(),
    )
    assert [(f.subject, f.status) for f in findings] == [
        ("payments", Status.COMPLIANT),
        ("core-banking", Status.NON_COMPLIANT),
    ]
    assert findings[1].measured == "no counted check; 68 day(s) since the first backup"


def test_interval_a_system_not_backed_up_does_not_hide_the_next_one() -> None:
    findings = judge(
        "verify.interval",
        snapshot(HISTORY, verifications=[check(date(2024, 3, 1))]),
        local(date(2024, 3, 10)),
        config=_payments_first(),
    )
    assert [(f.subject, f.status) for f in findings] == [
        ("payments", Status.UNKNOWN),
        ("core-banking", Status.COMPLIANT),
    ]


def test_sample_threshold_names_each_bar() -> None:
    snap = snapshot(HISTORY, verifications=[check(date(2024, 3, 1))])
    finding = one("verify.sample", snap, local(date(2024, 3, 2)), "all", pack=_points_bar_half())
    assert finding.threshold == "≥ 0.1 of bytes and ≥ 0.5 of recovery points"


def test_sample_a_last_check_without_sizes_is_unknown_word_for_word() -> None:
    snap = snapshot(HISTORY, verifications=[check(date(2024, 3, 1), sample=None, ident="c")])
    finding = one("verify.sample", snap, local(date(2024, 3, 2)), "all")
    assert (finding.status, finding.measured, finding.reason) == (
        Status.UNKNOWN,
        "check c: sizes not recorded",
        "the last counted check recorded no population or sample sizes",
    )
    assert finding.threshold == "≥ 0.1 of bytes and ≥ 0.1 of recovery points"
    assert finding.evidence == (
        "catalog verifications (population_*, sample_* of each counted check)"
    )


def test_sample_a_short_check_exactly_a_year_ago_still_counts() -> None:
    checks = [
        check(date(2023, 3, 2), sample=(10, 1000, 1, 10), ident="short"),
        check(date(2024, 3, 1), ident="last"),
    ]
    # 2023-03-02 12:00 to 2024-03-01 12:00 is exactly 365 days
    finding = one(
        "verify.sample", snapshot(HISTORY, verifications=checks), local(date(2024, 3, 1), 12), "all"
    )
    assert finding.reason == "earlier checks in the last year sampled too little: short"


def test_content_names_every_category_not_declared() -> None:
    data = config_dict()
    data["systems"][0]["datasets"] = [
        d for d in data["systems"][0]["datasets"] if d["category"] not in ("programs", "audit")
    ]
    finding = one(
        "backup.content",
        snapshot(),
        local(date(2024, 3, 2)),
        "core-banking",
        config=Config.model_validate(data),
    )
    assert finding.status is Status.NON_COMPLIANT
    assert finding.reason == "not declared: 系统程序 (programs)、安全审计数据 (audit)"


def test_bidirectional_a_failed_direction_without_evidence_word_for_word() -> None:
    failed = replace(drill(date(2024, 2, 1), failback=False), evidence_path=None)
    finding = one(
        "dr.bidirectional", snapshot(HISTORY, drills=[failed]), local(date(2024, 3, 1)), "all"
    )
    assert (finding.status, finding.reason) == (
        Status.NON_COMPLIANT,
        "the last passed drill did not verify both ways",
    )
    assert finding.measured == "drill drill-2024-02-01: failover ok, failback FAILED"
    assert finding.evidence == "catalog drills; evidence (none recorded)"


def test_drill_every_long_gap_under_a_stricter_site_limit_is_named() -> None:
    rule = PACK.get("drill.yearly")
    limit = replace(rule.threshold("max_days_between"), value=Fraction(180))
    pack = with_rule(
        PACK, "drill.yearly", thresholds={**rule.thresholds, "max_days_between": limit}
    )
    drills = [drill(date(2023, 6, 1)), drill(date(2023, 12, 10)), drill(date(2024, 6, 20))]
    snap = snapshot(HISTORY, drills=drills)
    finding = one("drill.yearly", snap, local(date(2024, 7, 1)), "all", pack=pack)
    assert finding.status is Status.PARTIAL
    assert finding.reason == (
        "gaps over the limit: 2023-06-01 → 2023-12-10 (192 d), 2023-12-10 → 2024-06-20 (193 d)"
    )
