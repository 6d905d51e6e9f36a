"""What a scheduler pass finds due, from hand-made catalog snapshots (no I/O)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from orchestrator.actions.run_due import plan_due
from orchestrator.model.snapshot import JobRow
from tests.fixtures.catalog_rows import (
    DATASETS,
    PACK,
    all_datasets_daily,
    check,
    copies,
    drill,
    local,
    model,
    point,
    snapshot,
)

TODAY = date(2024, 3, 10)


def kinds(jobs: list) -> list[tuple[str, str]]:
    return [(job.kind, job.subject) for job in jobs]


def done_today(hour: int = 1) -> list[JobRow]:
    started = local(TODAY, hour).timestamp()
    return [JobRow(1, "due:retention", "all", "succeeded", started, started + 1)]


def settled(**extra: object) -> dict:
    """A catalog where today's work is done: backups, copies, a recent check, retention."""
    points = all_datasets_daily(TODAY - timedelta(days=2), 3)
    return {
        "points": points,
        "verifications": [check(TODAY - timedelta(days=3))],
        "drills": [drill(TODAY - timedelta(days=30))],
        "jobs": done_today(),
        **extra,
    }


def test_fresh_catalog_needs_every_backup_and_the_daily_rotation() -> None:
    jobs = plan_due(model(), snapshot(), local(TODAY, 21), PACK)
    assert kinds(jobs) == [("backup", "core-banking"), ("retention", "all")]
    assert jobs[0].datasets == DATASETS and "2024-03-10" in jobs[0].reason


def test_nothing_due_once_today_is_done() -> None:
    data = settled()
    snap = snapshot(
        data["points"],
        verifications=data["verifications"],
        drills=data["drills"],
        jobs=data["jobs"],
    )
    assert plan_due(model(), snap, local(TODAY, 21), PACK) == []


def test_backups_run_every_calendar_day_even_on_holidays() -> None:
    # 2024-02-10 is Spring Festival: still due, so holiday transactions stay protected.
    festival = date(2024, 2, 10)
    points = all_datasets_daily(festival - timedelta(days=1), 1)
    jobs = plan_due(model(), snapshot(points), local(festival, 21), PACK)
    assert ("backup", "core-banking") in kinds(jobs)


def test_before_the_cutoff_yesterdays_business_date_is_today() -> None:
    points = all_datasets_daily(TODAY - timedelta(days=1), 1)
    jobs = plan_due(model(), snapshot(points), local(TODAY, 5), PACK)
    assert ("backup", "core-banking") not in kinds(jobs)
    jobs = plan_due(model(), snapshot(points), local(TODAY, 7), PACK)
    assert ("backup", "core-banking") in kinds(jobs)


def test_only_missing_datasets_are_backed_up() -> None:
    data = settled()
    points = [p for p in data["points"] if not (p.dataset == "audit" and p.business_date == TODAY)]
    snap = snapshot(
        points, verifications=data["verifications"], drills=data["drills"], jobs=data["jobs"]
    )
    jobs = plan_due(model(), snap, local(TODAY, 21), PACK)
    assert kinds(jobs) == [("backup", "core-banking")] and jobs[0].datasets == ("audit",)


def test_offsite_copy_due_for_a_point_without_a_verified_offsite_copy() -> None:
    data = settled()
    rows = [
        c
        for p in data["points"]
        for c in copies(p, offsite_after=None if p.dataset == "ledger" else 600.0)
    ]
    snap = snapshot(
        data["points"],
        rows,
        verifications=data["verifications"],
        drills=data["drills"],
        jobs=data["jobs"],
    )
    jobs = plan_due(model(), snap, local(TODAY, 21), PACK)
    assert kinds(jobs) == [("copy_offsite", "core-banking")] and "3 recovery" in jobs[0].reason


def test_validity_check_every_28_days() -> None:
    data = settled()
    for age, due in ((27, False), (28, True)):
        snap = snapshot(
            data["points"],
            verifications=[check(TODAY - timedelta(days=age))],
            drills=data["drills"],
            jobs=data["jobs"],
        )
        jobs = plan_due(model(), snap, local(TODAY, 12, 1), PACK)
        assert (("verify", "all") in kinds(jobs)) is due, age


def test_validity_check_due_from_the_start_of_its_calendar_day() -> None:
    # The rule counts calendar days between completion dates (Asia/Shanghai): a check that
    # finished at 23:50 is due again from 00:00 of day 28, not from 23:50 of it; a site whose
    # schedule_days is its max_days was left ten minutes to finish the next one in time.
    data = settled()
    late = local(TODAY - timedelta(days=28), 23, 50).timestamp()
    snap = snapshot(
        data["points"],
        verifications=[replace(check(TODAY - timedelta(days=28)), finished_at=late)],
        drills=data["drills"],
        jobs=data["jobs"],
    )
    assert ("verify", "all") in kinds(plan_due(model(), snap, local(TODAY, 0, 10), PACK))
    at_its_day_27 = local(TODAY - timedelta(days=1), 23, 55)
    assert ("verify", "all") not in kinds(plan_due(model(), snap, at_its_day_27, PACK))


def test_a_failed_job_waits_an_hour_and_a_running_one_is_not_started_again() -> None:
    at = local(TODAY, 21)
    failed = [
        JobRow(
            2,
            "due:backup",
            "core-banking",
            "failed",
            at.timestamp() - 1800,
            at.timestamp() - 1700,
            "host down",
        )
    ]
    assert ("backup", "core-banking") not in kinds(
        plan_due(model(), snapshot(jobs=failed), at, PACK)
    )
    later = at + timedelta(hours=1)
    assert ("backup", "core-banking") in kinds(
        plan_due(model(), snapshot(jobs=failed), later, PACK)
    )
    running = [JobRow(3, "due:backup", "core-banking", "running", at.timestamp() - 60)]
    assert ("backup", "core-banking") not in kinds(
        plan_due(model(), snapshot(jobs=running), later, PACK)
    )


def test_drill_reminder_after_330_days_once_a_day() -> None:
    data = settled()
    old = [drill(TODAY - timedelta(days=331))]
    snap = snapshot(
        data["points"], verifications=data["verifications"], drills=old, jobs=data["jobs"]
    )
    jobs = plan_due(model(), snap, local(TODAY, 21), PACK)
    assert kinds(jobs) == [("drill_reminder", "all")] and "331 days" in jobs[0].reason
    reminded = data["jobs"] + [
        JobRow(5, "due:drill_reminder", "all", "succeeded", local(TODAY, 8).timestamp())
    ]
    snap = snapshot(data["points"], verifications=data["verifications"], drills=old, jobs=reminded)
    assert plan_due(model(), snap, local(TODAY, 21), PACK) == []


def test_retention_is_due_again_the_next_day() -> None:
    data = settled()
    points = data["points"] + [point(name, TODAY + timedelta(days=1)) for name in DATASETS]
    snap = snapshot(
        points, verifications=data["verifications"], drills=data["drills"], jobs=data["jobs"]
    )
    jobs = plan_due(model(), snap, local(TODAY + timedelta(days=1), 21), PACK)
    assert kinds(jobs) == [("retention", "all")]


def test_manual_dry_run_does_not_count_as_the_days_rotation() -> None:
    data = settled()
    points = data["points"] + [point(name, TODAY + timedelta(days=1)) for name in DATASETS]
    tomorrow = local(TODAY + timedelta(days=1), 9).timestamp()
    jobs_with_dry_run = data["jobs"] + [
        JobRow(90, "retention_dry_run", "all", "succeeded", tomorrow)
    ]
    snap = snapshot(
        points, verifications=data["verifications"], drills=data["drills"], jobs=jobs_with_dry_run
    )
    jobs = plan_due(model(), snap, local(TODAY + timedelta(days=1), 21), PACK)
    assert kinds(jobs) == [("retention", "all")]
    real_run = data["jobs"] + [JobRow(91, "retention", "all", "succeeded", tomorrow)]
    snap = snapshot(
        points, verifications=data["verifications"], drills=data["drills"], jobs=real_run
    )
    assert plan_due(model(), snap, local(TODAY + timedelta(days=1), 21), PACK) == []
