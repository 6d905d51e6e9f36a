"""The backup rules judged from hand-made catalog snapshots: compliant, non-compliant, unknown
(and partial where the rule has one)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from orchestrator.model.settings import Config
from orchestrator.model.snapshot import FailureRow, PointRow
from orchestrator.rules.evaluate import evaluate_all
from orchestrator.rules.status import Status
from tests.fixtures.catalog_rows import (
    CALENDAR,
    DATASETS,
    PACK,
    all_datasets_daily,
    config_dict,
    copies,
    daily_points,
    local,
    model,
    one,
    point,
    snapshot,
    with_rule,
)

LEDGER = "core-banking/ledger"


# -- backup.full_interval --------------------------------------------------------------------


def test_full_interval_spring_festival_gap_is_one_working_day() -> None:
    # Fri 2024-02-09 → Sun 2024-02-18 (a make-up working day): 9 calendar days, 1 working day.
    points = [point("ledger", date(2024, 2, 9)), point("ledger", date(2024, 2, 18))]
    finding = one("backup.full_interval", snapshot(points), local(date(2024, 2, 18), 22), LEDGER)
    assert finding.status is Status.COMPLIANT
    assert "open gap 0" in finding.measured and "longest in 2024: 1" in finding.measured
    assert "第七条" in finding.clause.quote() and finding.clause.text.startswith("数据完全备份")


def test_full_interval_open_gap_counts_up_to_at() -> None:
    points = [point("ledger", date(2024, 3, 4))]  # Monday
    finding = one("backup.full_interval", snapshot(points), local(date(2024, 3, 6), 10), LEDGER)
    assert finding.status is Status.NON_COMPLIANT
    assert "open gap 2" in finding.measured


def test_full_interval_before_cutoff_belongs_to_the_previous_business_date() -> None:
    points = [point("ledger", date(2024, 3, 4))]
    # Wednesday 05:00 local is still Tuesday's business date (cut-off 06:00): gap 1.
    finding = one("backup.full_interval", snapshot(points), local(date(2024, 3, 6), 5), LEDGER)
    assert finding.status is Status.COMPLIANT


def test_full_interval_past_gap_this_year_is_partial() -> None:
    points = [
        point("ledger", date(2024, 3, 4)),
        point("ledger", date(2024, 3, 7)),
        point("ledger", date(2024, 3, 8)),
    ]
    finding = one("backup.full_interval", snapshot(points), local(date(2024, 3, 8), 22), LEDGER)
    assert finding.status is Status.PARTIAL
    assert "2024-03-04 → 2024-03-07 (3)" in finding.reason


def test_full_interval_without_calendar_data_is_unknown_with_the_reason() -> None:
    points = [point("ledger", date(2026, 12, 30))]
    finding = one("backup.full_interval", snapshot(points), local(date(2027, 1, 4), 22), LEDGER)
    assert finding.status is Status.UNKNOWN
    assert "2027" in finding.reason and "calendar" in finding.reason


def test_full_interval_with_no_history_is_unknown_and_a_dataset_never_backed_up_fails() -> None:
    at = local(date(2024, 3, 8), 22)
    assert one("backup.full_interval", snapshot(), at, LEDGER).status is Status.UNKNOWN
    others = [point("config", date(2024, 3, 1))]
    finding = one("backup.full_interval", snapshot(others), at, LEDGER)
    assert finding.status is Status.NON_COMPLIANT
    assert "no complete full backup" in finding.reason


def test_full_interval_ignores_bad_and_future_points() -> None:
    points = [
        point("ledger", date(2024, 3, 4)),
        point("ledger", date(2024, 3, 5), status="bad"),
        point("ledger", date(2024, 3, 7)),
    ]
    finding = one("backup.full_interval", snapshot(points), local(date(2024, 3, 6), 10), LEDGER)
    assert finding.status is Status.NON_COMPLIANT  # the bad one does not count, 03-07 is later


# -- backup.rotation ---------------------------------------------------------------------------


def test_rotation_young_history_with_nothing_deleted_is_compliant() -> None:
    points = daily_points("ledger", date(2024, 3, 1), 3)
    finding = one("backup.rotation", snapshot(points), local(date(2024, 3, 3), 22), LEDGER)
    assert finding.status is Status.COMPLIANT
    assert "primary: 3 generation(s) kept of 3 written" in finding.measured


def test_rotation_copy_deleted_before_seven_days_is_non_compliant() -> None:
    points = daily_points("ledger", date(2024, 3, 1), 10)
    rows = [c for p in points[1:] for c in copies(p)]
    rows += copies(points[0], primary="deleted", deleted_after=3 * 86400.0)
    finding = one("backup.rotation", snapshot(points, rows), local(date(2024, 3, 10), 22), LEDGER)
    assert finding.status is Status.NON_COMPLIANT
    assert "after 3 d" in finding.reason  # exact figures print exactly (rules.figures)


def test_rotation_fewer_than_eight_generations_after_deletions_is_non_compliant() -> None:
    points = daily_points("ledger", date(2024, 3, 1), 12)
    rows = [
        c
        for p in points[:6]
        for c in copies(p, primary="deleted", offsite="deleted", deleted_after=10 * 86400.0)
    ]
    rows += [c for p in points[6:] for c in copies(p)]
    finding = one("backup.rotation", snapshot(points, rows), local(date(2024, 3, 20), 22), LEDGER)
    assert finding.status is Status.NON_COMPLIANT
    assert "primary: 6 generation(s) kept of 12 written" in finding.measured


def test_rotation_stricter_site_period_judges_deletions_against_it() -> None:
    pack = with_rule(
        PACK,
        "backup.rotation",
        thresholds={
            **PACK.get("backup.rotation").thresholds,
            "min_days": replace(
                PACK.get("backup.rotation").threshold("min_days"),
                value=PACK.get("backup.rotation").value("min_days") * 3,
            ),
        },
    )
    points = daily_points("ledger", date(2024, 3, 1), 12)
    rows = [c for p in points[1:] for c in copies(p)]
    rows += copies(points[0], primary="deleted", deleted_after=10 * 86400.0)
    at = local(date(2024, 3, 25), 22)
    assert one("backup.rotation", snapshot(points, rows), at, LEDGER).status is Status.COMPLIANT
    assert (
        one("backup.rotation", snapshot(points, rows), at, LEDGER, pack=pack).status
        is Status.NON_COMPLIANT
    )


def test_rotation_lost_generation_is_partial_and_no_points_is_unknown() -> None:
    points = daily_points("ledger", date(2024, 3, 1), 3)
    rows = [c for p in points[1:] for c in copies(p)] + copies(points[0], primary="lost")
    at = local(date(2024, 3, 3), 22)
    assert one("backup.rotation", snapshot(points, rows), at, LEDGER).status is Status.PARTIAL
    assert one("backup.rotation", snapshot(), at, LEDGER).status is Status.UNKNOWN


def _failure(p: PointRow, detected: float, resolved: float | None = None) -> FailureRow:
    return FailureRow(
        p.id, p.system, p.dataset, "offsite", "ledger.db", "mismatch", detected, resolved
    )


def test_rotation_open_bad_point_is_non_compliant_until_resolved() -> None:
    points = daily_points("ledger", date(2024, 3, 1), 3)
    bad = replace(points[1], status="bad")
    rows = [c for p in points for c in copies(p, offsite="bad" if p is points[1] else "present")]
    detected = local(date(2024, 3, 3), 9).timestamp()
    resolved = local(date(2024, 3, 4), 9).timestamp()
    catalog = replace(
        snapshot([points[0], bad, points[2]], rows), failures=(_failure(bad, detected, resolved),)
    )
    before = one("backup.rotation", catalog, local(date(2024, 3, 3), 8), LEDGER)
    during = one("backup.rotation", catalog, local(date(2024, 3, 3), 22), LEDGER)
    after = one("backup.rotation", catalog, local(date(2024, 3, 4), 22), LEDGER)
    assert before.status is not Status.NON_COMPLIANT
    assert during.status is Status.NON_COMPLIANT
    assert f"{bad.id}@offsite ledger.db: mismatch" in during.reason
    assert "1 bad recovery point(s) open" in during.measured
    assert after.status is not Status.NON_COMPLIANT
    assert "0 bad recovery point(s) open" in after.measured


def test_rotation_only_point_bad_is_non_compliant_not_unknown() -> None:
    bad = replace(point("ledger", date(2024, 3, 1)), status="bad")
    catalog = replace(snapshot([bad]), failures=(_failure(bad, bad.finished_at + 60),))
    finding = one("backup.rotation", catalog, local(date(2024, 3, 2), 22), LEDGER)
    assert finding.status is Status.NON_COMPLIANT


def test_full_interval_a_bad_newest_point_does_not_count() -> None:
    # Thursday's point is good; Friday's is bad: on Friday night the last backup is Thursday's.
    good = point("ledger", date(2024, 3, 7))
    bad = replace(point("ledger", date(2024, 3, 8)), status="bad")
    at = local(date(2024, 3, 11), 22)  # Monday: one working day after Friday, two after Thursday
    finding = one("backup.full_interval", snapshot([good, bad]), at, LEDGER)
    assert finding.status is Status.NON_COMPLIANT
    assert "since business date 2024-03-07" in finding.measured
    counted = one(
        "backup.full_interval", snapshot([good, replace(bad, status="complete")]), at, LEDGER
    )
    assert counted.status is Status.COMPLIANT


# -- offsite.copy ------------------------------------------------------------------------------


def test_offsite_every_due_point_copied_is_compliant() -> None:
    points = daily_points("ledger", date(2024, 3, 1), 3)
    finding = one("offsite.copy", snapshot(points), local(date(2024, 3, 4), 22), LEDGER)
    assert finding.status is Status.COMPLIANT
    assert finding.measured.startswith("3 of 3 due")


def test_offsite_missing_copy_after_the_lag_is_non_compliant() -> None:
    points = daily_points("ledger", date(2024, 3, 1), 3)
    rows = [c for p in points[1:] for c in copies(p)] + copies(points[0], offsite_after=None)
    finding = one("offsite.copy", snapshot(points, rows), local(date(2024, 3, 4), 22), LEDGER)
    assert finding.status is Status.NON_COMPLIANT and points[0].id in finding.reason


def test_offsite_copy_pending_within_the_lag_is_not_a_breach() -> None:
    points = [point("ledger", date(2024, 3, 1))]
    rows = copies(points[0], offsite_after=None)
    finding = one("offsite.copy", snapshot(points, rows), local(date(2024, 3, 1), 23), LEDGER)
    assert finding.status is Status.COMPLIANT and "1 within the lag" in finding.measured


def test_offsite_copy_at_the_production_site_does_not_count() -> None:
    p = point("ledger", date(2024, 3, 1))
    rows = copies(p, offsite_after=None)
    rows.append(replace(rows[0], store="offsite", site="production"))
    finding = one("offsite.copy", snapshot([p], rows), local(date(2024, 3, 4), 22), LEDGER)
    assert finding.status is Status.NON_COMPLIANT


def test_offsite_late_copy_is_partial_and_no_points_is_unknown() -> None:
    points = [point("ledger", date(2024, 3, 1))]
    rows = copies(points[0], offsite_after=3 * 86400.0)
    at = local(date(2024, 3, 6), 22)
    assert one("offsite.copy", snapshot(points, rows), at, LEDGER).status is Status.PARTIAL
    assert one("offsite.copy", snapshot(), at, LEDGER).status is Status.UNKNOWN


# -- logs.operation_retention, logs.accounting_retention ---------------------------------------


def test_operation_logs_young_history_kept_is_compliant() -> None:
    points = daily_points("oplogs", date(2024, 3, 1), 20)
    finding = one(
        "logs.operation_retention",
        snapshot(points),
        local(date(2024, 3, 20), 22),
        "core-banking/oplogs",
    )
    assert finding.status is Status.COMPLIANT
    assert "rotation keeps 184 d" in finding.measured


def test_operation_logs_older_history_dropped_too_early_is_non_compliant() -> None:
    first = date(2024, 1, 1)
    points = daily_points("oplogs", first, 200)
    rows = [
        c
        for p in points[:190]
        for c in copies(p, primary="deleted", offsite="deleted", deleted_after=8 * 86400.0)
    ]
    rows += [c for p in points[190:] for c in copies(p)]
    finding = one(
        "logs.operation_retention",
        snapshot(points, rows),
        local(first + timedelta(days=200), 22),
        "core-banking/oplogs",
    )
    assert finding.status is Status.NON_COMPLIANT
    assert "deleted before 184 days" in finding.reason


def test_operation_logs_not_backed_up_is_unknown() -> None:
    finding = one(
        "logs.operation_retention",
        snapshot([point("ledger", date(2024, 3, 1))]),
        local(date(2024, 3, 2), 22),
        "core-banking/oplogs",
    )
    assert finding.status is Status.UNKNOWN


def _with_accounting() -> Config:
    data = config_dict()
    data["systems"][0]["datasets"].append(
        {"name": "changes", "engine": "files", "category": "accounting_changes", "path": "changes"}
    )
    return Config.model_validate(data)


def test_accounting_retention_not_applicable_without_such_datasets() -> None:
    finding = one("logs.accounting_retention", snapshot(), local(date(2024, 3, 2)), "all")
    assert finding.status is Status.NOT_APPLICABLE


def test_accounting_retention_compliant_non_compliant_unknown() -> None:
    config = _with_accounting()
    subject = "core-banking/changes"
    at = local(date(2024, 3, 20), 22)
    assert (
        one("logs.accounting_retention", snapshot(), at, subject, config=config).status
        is Status.UNKNOWN
    )
    points = daily_points("changes", date(2024, 3, 1), 20)
    assert (
        one("logs.accounting_retention", snapshot(points), at, subject, config=config).status
        is Status.COMPLIANT
    )
    rows = [
        c
        for p in points[:5]
        for c in copies(p, primary="deleted", offsite="deleted", deleted_after=8 * 86400.0)
    ]
    rows += [c for p in points[5:] for c in copies(p)]
    finding = one("logs.accounting_retention", snapshot(points, rows), at, subject, config=config)
    assert finding.status is Status.NON_COMPLIANT and "1096" in finding.reason


# -- backup.content ----------------------------------------------------------------------------


def test_content_all_five_declared_and_backed_up_is_compliant() -> None:
    points = all_datasets_daily(date(2024, 3, 1), 1)
    finding = one("backup.content", snapshot(points), local(date(2024, 3, 1), 22), "core-banking")
    assert finding.status is Status.COMPLIANT
    assert "第六十五条" in finding.clause.quote()


def test_content_missing_category_is_non_compliant_naming_it() -> None:
    data = config_dict()
    data["systems"][0]["datasets"] = [
        d for d in data["systems"][0]["datasets"] if d["category"] != "audit"
    ]
    finding = one(
        "backup.content",
        snapshot(),
        local(date(2024, 3, 1)),
        "core-banking",
        config=Config.model_validate(data),
    )
    assert finding.status is Status.NON_COMPLIANT and "安全审计数据" in finding.reason


def test_content_declared_not_backed_up_is_partial_and_no_categories_unknown() -> None:
    points = [point(name, date(2024, 3, 1)) for name in DATASETS if name != "audit"]
    at = local(date(2024, 3, 1), 22)
    assert one("backup.content", snapshot(points), at, "core-banking").status is Status.PARTIAL
    pack = with_rule(PACK, "backup.content", required_categories=())
    assert (
        one("backup.content", snapshot(points), at, "core-banking", pack=pack).status
        is Status.UNKNOWN
    )


def test_every_rule_is_judged_for_the_sandbox_config() -> None:
    results = evaluate_all(model(), PACK, CALENDAR, snapshot(), local(date(2024, 3, 1)))
    assert {f.rule for f in results} == set(PACK.ids())
    assert all(f.clause.text and f.threshold is not None for f in results)


def test_full_interval_reports_the_longest_gap_of_this_year_only() -> None:
    points = [point("ledger", date(2023, 11, 1)), point("ledger", date(2023, 11, 10))]  # 7, 2023
    points += daily_points("ledger", date(2023, 11, 13), 114)  # every day up to Tue 2024-03-05
    points += [point("ledger", date(2024, 3, 8)), point("ledger", date(2024, 3, 11))]  # 3, then 1
    finding = one("backup.full_interval", snapshot(points), local(date(2024, 3, 12), 22), LEDGER)
    assert finding.status is Status.PARTIAL
    assert finding.measured == (
        "open gap 1 working day(s) since business date 2024-03-11; "
        "longest in 2024: 3 (2024-03-05 → 2024-03-08)"
    )
    assert finding.reason == (
        "backed up within the limit now, but 1 gap(s) this year exceeded it: "
        "2024-03-05 → 2024-03-08 (3)"
    )
    assert finding.evidence.startswith(
        "118 complete full backups in the catalog, last 20240311T200000Z-ledger "
        "(business date 2024-03-11); calendar "
    )


def test_full_interval_compliant_finding_in_full() -> None:
    points = [point("ledger", date(2024, 3, 4)), point("ledger", date(2024, 3, 5))]
    finding = one("backup.full_interval", snapshot(points), local(date(2024, 3, 5), 22), LEDGER)
    assert finding.status is Status.COMPLIANT
    assert finding.measured == (
        "open gap 0 working day(s) since business date 2024-03-05; "
        "longest in 2024: 1 (2024-03-04 → 2024-03-05)"
    )
    assert finding.reason == "every gap in 2024 and the open gap are within 1"
    assert finding.threshold == "≤ 1 working day(s) between full backups (法定工作日)"
