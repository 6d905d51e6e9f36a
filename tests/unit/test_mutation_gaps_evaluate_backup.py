"""Gaps in rules/evaluate_backup.py that mutation testing found (issue 16).

- offsite.copy: an off-site copy that was verified and later rotated away (deleted) still shows
  the point was copied off-site; a lost one does not. A copy verified at the very moment of
  judgement counts; one verified a second past the 24 h lag is late, and a point exactly the
  lag old without a copy is missing. Five missing or late points are named, more are marked.
- backup.rotation: a copy found bad is a damaged generation, named like a lost one; the
  bounds are exact (a copy deleted at the moment of judgement is counted, one deleted exactly
  7×24 h after it was written is not early, exactly the required generations kept is enough,
  a loss exactly the rotation period ago is no longer recent); too few generations are named
  on the store that deleted; every open bad point, recent loss and broken gap is listed, and
  the reason for a bad point says how it is resolved.
- backup.full_interval: a gap that ends on 1 January is one of the new year's; a dataset with
  no backup that is not due yet says when its first one is due.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from orchestrator.model.snapshot import FailureRow, PointRow
from orchestrator.rules.status import Status
from tests.fixtures.catalog_rows import copies, daily_points, local, one, point, snapshot

LEDGER = "core-banking/ledger"


def test_offsite_a_copy_rotated_away_after_verification_still_counts() -> None:
    p = point("ledger", date(2024, 3, 1))
    rows = copies(p, offsite="deleted", deleted_after=86400.0)  # off-site copy deleted 2 March
    finding = one("offsite.copy", snapshot([p], rows), local(date(2024, 3, 4), 22), LEDGER)
    assert finding.status is Status.COMPLIANT
    assert finding.measured.startswith("1 of 1 due")


def test_offsite_a_lost_copy_does_not_count() -> None:
    p = point("ledger", date(2024, 3, 1))
    rows = copies(p, offsite="lost")
    finding = one("offsite.copy", snapshot([p], rows), local(date(2024, 3, 4), 22), LEDGER)
    assert finding.status is Status.NON_COMPLIANT
    assert finding.measured.startswith("0 of 1 due") and p.id in finding.reason


def test_offsite_a_copy_verified_at_the_moment_of_judgement_counts() -> None:
    p = point("ledger", date(2024, 3, 1))  # finished 20:00 local
    rows = copies(p, offsite_after=600.0)  # verified 20:10 local
    finding = one("offsite.copy", snapshot([p], rows), local(date(2024, 3, 1), 20, 10), LEDGER)
    assert finding.status is Status.COMPLIANT
    assert finding.measured.startswith("1 of 1 due point(s) copied off-site; 0 within the lag")


def test_rotation_a_bad_copy_is_a_damaged_generation() -> None:
    points = daily_points("ledger", date(2024, 3, 1), 3)
    rows = [c for p in points[1:] for c in copies(p)] + copies(points[0], primary="bad")
    finding = one("backup.rotation", snapshot(points, rows), local(date(2024, 3, 3), 22), LEDGER)
    assert finding.status is Status.PARTIAL
    assert f"{points[0].id}@primary (bad)" in finding.reason


def test_full_interval_a_gap_ending_on_new_year_s_day_belongs_to_the_new_year() -> None:
    points = [point("ledger", date(2024, 12, 27)), point("ledger", date(2025, 1, 1))]
    finding = one("backup.full_interval", snapshot(points), local(date(2025, 1, 1), 22), LEDGER)
    # 30 and 31 December are the working days between; 1 January is a holiday.
    assert "longest in 2025: 2 (2024-12-27 → 2025-01-01)" in finding.measured


def test_full_interval_a_dataset_not_yet_due_says_when_its_first_backup_is_due() -> None:
    others = [point("config", date(2024, 3, 1))]
    finding = one("backup.full_interval", snapshot(others), local(date(2024, 3, 1), 22), LEDGER)
    assert finding.status is Status.UNKNOWN
    assert finding.reason.startswith("no complete full backup of this dataset is recorded; ")
    assert "the first is due within 1 working day(s) of 2024-03-01" in finding.reason


def test_full_interval_every_broken_gap_of_the_year_is_listed() -> None:
    days = [date(2024, 3, 4), date(2024, 3, 7), date(2024, 3, 8), date(2024, 3, 12)]
    points = [point("ledger", day) for day in [*days, date(2024, 3, 13)]]
    finding = one("backup.full_interval", snapshot(points), local(date(2024, 3, 13), 22), LEDGER)
    assert finding.status is Status.PARTIAL
    assert finding.reason.endswith(
        "2 gap(s) this year exceeded it: 2024-03-04 → 2024-03-07 (3), 2024-03-08 → 2024-03-12 (2)"
    )


def test_rotation_a_copy_deleted_at_the_moment_of_judgement_is_an_early_deletion() -> None:
    points = daily_points("ledger", date(2024, 3, 1), 2)
    rows = copies(points[0], primary="deleted", deleted_after=86400.0) + copies(points[1])
    finding = one("backup.rotation", snapshot(points, rows), local(date(2024, 3, 2), 20), LEDGER)
    assert finding.status is Status.NON_COMPLIANT
    assert finding.reason.startswith("deleted before 7 days: ")
    assert "1 early deletion(s)" in finding.measured


def test_rotation_a_copy_deleted_exactly_after_the_rotation_period_is_not_early() -> None:
    points = daily_points("ledger", date(2024, 3, 1), 8)
    rows = copies(points[0], primary="deleted", deleted_after=7 * 86400.0)
    rows += [c for p in points[1:] for c in copies(p)]
    finding = one("backup.rotation", snapshot(points, rows), local(date(2024, 3, 8), 22), LEDGER)
    assert "0 early deletion(s)" in finding.measured


def test_rotation_too_few_generations_are_named_on_the_store_that_deleted() -> None:
    points = daily_points("ledger", date(2024, 3, 1), 3)
    rows = copies(points[0], primary="deleted", deleted_after=8 * 86400.0)
    rows += [c for p in points[1:] for c in copies(p)]
    finding = one("backup.rotation", snapshot(points, rows), local(date(2024, 3, 10), 22), LEDGER)
    assert finding.status is Status.NON_COMPLIANT
    assert finding.reason == (
        "fewer than 8 generations kept on primary although older ones were deleted"
    )


def test_rotation_exactly_the_required_generations_kept_after_deletions_is_compliant() -> None:
    points = daily_points("ledger", date(2024, 3, 1), 9)
    rows = copies(points[0], primary="deleted", deleted_after=8 * 86400.0)
    rows += [c for p in points[1:] for c in copies(p)]
    finding = one("backup.rotation", snapshot(points, rows), local(date(2024, 3, 9), 22), LEDGER)
    assert finding.status is Status.COMPLIANT
    assert "primary: 8 generation(s) kept of 9 written" in finding.measured


def test_rotation_a_copy_lost_exactly_the_rotation_period_ago_is_no_longer_recent() -> None:
    points = daily_points("ledger", date(2024, 3, 1), 8)
    rows = copies(points[0], primary="lost") + [c for p in points[1:] for c in copies(p)]
    catalog = snapshot(points, rows)
    at_end = one("backup.rotation", catalog, local(date(2024, 3, 8), 20), LEDGER)
    assert at_end.status is Status.COMPLIANT
    within = one("backup.rotation", catalog, local(date(2024, 3, 8), 19, 59), LEDGER)
    assert within.status is Status.PARTIAL


def test_rotation_every_open_bad_point_is_listed() -> None:
    points = daily_points("ledger", date(2024, 3, 1), 2)
    failures = tuple(
        FailureRow(
            p.id, p.system, p.dataset, "offsite", "ledger.db", "mismatch", p.finished_at + 60, None
        )
        for p in points
    )
    catalog = replace(snapshot(points), failures=failures)
    finding = one("backup.rotation", catalog, local(date(2024, 3, 2), 22), LEDGER)
    assert finding.status is Status.NON_COMPLIANT
    assert (
        f"{points[0].id}@offsite ledger.db: mismatch, {points[1].id}@offsite ledger.db: mismatch"
        in finding.reason
    )


def test_rotation_lists_five_bad_points_and_marks_more() -> None:
    points = daily_points("ledger", date(2024, 3, 1), 6)

    def bad(p: PointRow) -> FailureRow:
        return FailureRow(
            p.id, p.system, p.dataset, "offsite", "ledger.db", "mismatch", p.finished_at + 60, None
        )

    at = local(date(2024, 3, 6), 22)
    five = one(
        "backup.rotation",
        replace(snapshot(points), failures=tuple(map(bad, points[:5]))),
        at,
        LEDGER,
    )
    assert f"{points[4].id}@offsite ledger.db: mismatch; bad for good" in five.reason
    six = one(
        "backup.rotation", replace(snapshot(points), failures=tuple(map(bad, points))), at, LEDGER
    )
    assert f"{points[4].id}@offsite ledger.db: mismatch …; bad for good" in six.reason
    assert points[5].id not in six.reason


def test_rotation_the_bad_point_reason_says_how_it_is_resolved() -> None:
    p = point("ledger", date(2024, 3, 1))
    failure = FailureRow(
        p.id, p.system, p.dataset, "offsite", "ledger.db", "mismatch", p.finished_at + 60, None
    )
    catalog = replace(snapshot([p]), failures=(failure,))
    finding = one("backup.rotation", catalog, local(date(2024, 3, 2), 22), LEDGER)
    assert finding.reason.endswith(
        "bad for good, open until a newer point passes `drctl verify --recheck`"
    )


def test_rotation_every_recent_loss_is_listed() -> None:
    points = daily_points("ledger", date(2024, 3, 1), 3)
    rows = copies(points[0], primary="lost") + copies(points[1], primary="bad")
    rows += copies(points[2])
    finding = one("backup.rotation", snapshot(points, rows), local(date(2024, 3, 3), 22), LEDGER)
    assert finding.status is Status.PARTIAL
    assert finding.reason == (
        "generations within the rotation period were lost or damaged: "
        f"{points[0].id}@primary (lost), {points[1].id}@primary (bad)"
    )


def test_offsite_a_copy_verified_a_second_past_the_24_hour_lag_is_late() -> None:
    p = point("ledger", date(2024, 3, 1))
    on_time = copies(p, offsite_after=24 * 3600.0)
    late = copies(p, offsite_after=24 * 3600.0 + 1)
    at = local(date(2024, 3, 4), 22)
    assert one("offsite.copy", snapshot([p], on_time), at, LEDGER).status is Status.COMPLIANT
    finding = one("offsite.copy", snapshot([p], late), at, LEDGER)
    assert finding.status is Status.PARTIAL and finding.measured.endswith("1 late")


def test_offsite_a_point_exactly_the_lag_old_without_a_copy_is_missing() -> None:
    p = point("ledger", date(2024, 3, 1))  # finished 20:00 local
    rows = copies(p, offsite_after=None)
    finding = one("offsite.copy", snapshot([p], rows), local(date(2024, 3, 2), 20), LEDGER)
    assert finding.status is Status.NON_COMPLIANT
    assert finding.measured == "0 of 1 due point(s) copied off-site; 0 within the lag; 0 late"


def test_offsite_names_five_missing_points_and_marks_more() -> None:
    points = daily_points("ledger", date(2024, 3, 1), 6)
    at = local(date(2024, 3, 10), 22)
    five = [c for p in points[:5] for c in copies(p, offsite_after=None)] + copies(points[5])
    assert one("offsite.copy", snapshot(points, five), at, LEDGER).reason == (
        "no verified off-site copy: " + ", ".join(p.id for p in points[:5])
    )
    six = [c for p in points for c in copies(p, offsite_after=None)]
    assert one("offsite.copy", snapshot(points, six), at, LEDGER).reason == (
        "no verified off-site copy: " + ", ".join(p.id for p in points[:5]) + " …"
    )


def test_offsite_names_the_first_five_late_points() -> None:
    points = daily_points("ledger", date(2024, 3, 1), 6)
    rows = [c for p in points for c in copies(p, offsite_after=2 * 86400.0)]
    finding = one("offsite.copy", snapshot(points, rows), local(date(2024, 3, 10), 22), LEDGER)
    assert finding.status is Status.PARTIAL
    assert finding.reason == "copied off-site later than the lag: " + ", ".join(
        p.id for p in points[:5]
    )
