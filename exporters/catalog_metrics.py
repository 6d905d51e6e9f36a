"""Metric families for backups, off-site copies, restore verification and drills, built from
one catalog snapshot per scrape (names and meanings: docs/metrics.md)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import Connection, Row

from orchestrator.errors import CalendarDataMissing
from orchestrator.model import aggregates
from orchestrator.model.settings import Config
from orchestrator.model.snapshot import JobRow, Snapshot
from orchestrator.rules.evaluate_governance import sample_ratios
from orchestrator.rules.rule import RulePack
from orchestrator.rules.workdays import WorkdayCalendar, business_date

DATASET = ["system", "dataset"]
DRILL_OUTCOMES = ("passed", "failed", "aborted")


@dataclass(frozen=True)
class DatasetFigures:
    """Per-dataset aggregates of one scrape (model/aggregates.py): the newest complete point,
    the newest point with a verified present copy per store, verification items (last passed,
    failed count) and rotation coverage (points in rotation, verified)."""

    newest: dict[tuple[str, str], Any]
    copied: dict[tuple[str, str, str], float]
    items: dict[tuple[str, str], tuple[float | None, int]]
    coverage: dict[tuple[str, str], tuple[int, int]]


def read_figures(connection: Connection, at: float) -> DatasetFigures:
    """Read the per-dataset aggregates of one scrape, as of its instant `at`: a row dated
    after it (a clock that ran ahead, a forged row) is not counted, as `drctl status` counts
    none (docs/metrics.md)."""
    return DatasetFigures(
        aggregates.newest_points(connection, at),
        aggregates.newest_copied(connection, at, verified=True),
        aggregates.verification_items(connection, at),
        aggregates.rotation_coverage(connection, at),
    )


@dataclass(frozen=True)
class ScrapeData:
    """What one scrape read: config, rule pack, calendar, the catalog snapshot, per-dataset
    aggregates, drill measurements, and when."""

    config: Config
    pack: RulePack
    calendar: WorkdayCalendar
    snapshot: Snapshot
    figures: DatasetFigures
    drill_rows: Sequence[Row[Any]]
    at: float

    @cached_property
    def backup_jobs(self) -> dict[str, list[JobRow]]:
        """Return the backup jobs finished by the scrape's instant, grouped by the system of
        their subject."""
        grouped: dict[str, list[JobRow]] = {}
        for job in self.snapshot.jobs:
            if job.kind == "backup" and job.finished_at is not None and job.finished_at <= self.at:
                grouped.setdefault(job.subject.partition("@")[0], []).append(job)
        return grouped


def _datasets(config: Config) -> Iterator[tuple[str, str]]:
    for system in config.systems:
        for dataset in system.datasets:
            yield system.name, dataset.name


Families = dict[str, GaugeMetricFamily | CounterMetricFamily]


def _backup_families() -> Families:
    """Return the dr_backup_* families, empty, in exposition order."""
    return {
        "last_success": GaugeMetricFamily(
            "dr_backup_last_success_timestamp_seconds",
            "Finish time of the newest full backup that is not marked bad (a bad newest point "
            "falls back to the previous good one)",
            labels=DATASET,
        ),
        "last_attempt": GaugeMetricFamily(
            "dr_backup_last_attempt_timestamp_seconds",
            "Finish time of the last full backup run (any outcome)",
            labels=DATASET,
        ),
        "size": GaugeMetricFamily(
            "dr_backup_last_size_bytes", "Size of the last successful full backup", labels=DATASET
        ),
        "duration": GaugeMetricFamily(
            "dr_backup_last_duration_seconds",
            "Duration of the last full backup run",
            labels=DATASET,
        ),
        "working_days": GaugeMetricFamily(
            "dr_backup_open_gap_workdays",
            "Statutory working days (a count) in (business date of the last successful full "
            "backup, today]; absent without calendar data for a day involved",
            labels=DATASET,
        ),
        "runs": CounterMetricFamily(
            "dr_backup_runs", "Full backup runs of the dataset's system", labels=DATASET
        ),
        "failures": CounterMetricFamily(
            "dr_backup_failures",
            "Full backup runs of the dataset's system that failed or were aborted (the process "
            "died; recorded when the next run took its lease over)",
            labels=DATASET,
        ),
        "objective": GaugeMetricFamily(
            "dr_backup_max_gap_objective_workdays",
            "Allowed statutory working days (a count) between full backups",
            labels=DATASET,
        ),
    }


def backup_metrics(data: ScrapeData) -> list[Metric]:
    """Return the dr_backup_* families."""
    families = _backup_families()
    allowed = float(data.pack["backup.full_interval"].value("max_working_days"))
    today = business_date(
        datetime.fromtimestamp(data.at, UTC), data.config.calendar.business_date_cutoff_hour
    )
    for system, dataset in _datasets(data.config):
        labels = [system, dataset]
        families["objective"].add_metric(labels, allowed)
        _add_last_backup(families, data, labels, today)
        _add_backup_runs(families, data, labels)
    return list(families.values())


def _add_last_backup(families: Families, data: ScrapeData, labels: list[str], today: date) -> None:
    last = data.figures.newest.get((labels[0], labels[1]))
    if last is None:
        return
    families["last_success"].add_metric(labels, last.finished_at)
    families["size"].add_metric(labels, float(last.total_bytes))
    try:
        gap = data.calendar.working_days_between(date.fromisoformat(last.business_date), today)
    except CalendarDataMissing:
        return
    families["working_days"].add_metric(labels, float(gap))


def _add_backup_runs(families: Families, data: ScrapeData, labels: list[str]) -> None:
    jobs = data.backup_jobs.get(labels[0], [])
    families["runs"].add_metric(labels, float(len(jobs)))
    # A run whose process died (state aborted) did not succeed either: a retry that later
    # succeeded must not make it disappear from the count.
    failed = sum(j.state in ("failed", "aborted") for j in jobs)
    families["failures"].add_metric(labels, float(failed))
    if jobs:
        newest = max(jobs, key=lambda j: j.finished_at or 0)
        families["last_attempt"].add_metric(labels, newest.finished_at or 0)
        families["duration"].add_metric(labels, (newest.finished_at or 0) - newest.started_at)


def offsite_metrics(data: ScrapeData) -> list[Metric]:
    """Return the dr_offsite_* families."""
    newest = GaugeMetricFamily(
        "dr_offsite_newest_copy_timestamp_seconds",
        "Creation time of the newest full backup confirmed at the off-site store",
        labels=[*DATASET, "site"],
    )
    objective = GaugeMetricFamily(
        "dr_offsite_max_lag_objective_seconds",
        "Allowed lag of the newest off-site copy",
        labels=DATASET,
    )
    lag = float(data.pack["offsite.copy"].value("max_lag_hours") * 3600)
    for system in data.config.systems:
        store = data.config.store(system.offsite_store)
        for dataset in system.datasets:
            labels = [system.name, dataset.name]
            objective.add_metric(labels, lag)
            confirmed = data.figures.copied.get((system.name, dataset.name, store.name))
            if confirmed is not None:
                newest.add_metric([*labels, store.site], confirmed)
    return [newest, objective]


def _finished_checks(data: ScrapeData) -> list[Any]:
    """Return the checks (verifications rows) finished by the scrape's instant."""
    return [
        v
        for v in data.snapshot.verifications
        if v.finished_at is not None and v.finished_at <= data.at
    ]


def verification_metrics(data: ScrapeData) -> list[Metric]:
    """Return the dr_restore_* families."""
    last_check = GaugeMetricFamily(
        "dr_restore_verification_last_check_timestamp_seconds",
        "Completion time of the last counted validity check",
    )
    ratio = GaugeMetricFamily(
        "dr_restore_sample_last_ratio",
        "Share of the population verified by the last counted check",
        labels=["basis"],
    )
    last_success = GaugeMetricFamily(
        "dr_restore_verification_last_success_timestamp_seconds",
        "Last successful restore verification of a recovery point of the dataset",
        labels=DATASET,
    )
    failures = CounterMetricFamily(
        "dr_restore_verification_failures", "Failed restore verifications", labels=DATASET
    )
    coverage = GaugeMetricFamily(
        "dr_restore_sample_coverage_ratio",
        "Share of in-rotation recovery points ever verified",
        labels=DATASET,
    )
    counted = [v for v in _finished_checks(data) if v.counted]
    if counted:
        last = max(counted, key=lambda v: v.finished_at or 0)
        last_check.add_metric([], last.finished_at or 0)
        ratios = sample_ratios(last)  # the rule's own reading: a 0-byte population is 1
        if ratios is not None:
            ratio.add_metric(["bytes"], float(ratios[0]))
            ratio.add_metric(["recovery_points"], float(ratios[1]))
    for system, dataset in _datasets(data.config):
        passed, failed = data.figures.items.get((system, dataset), (None, 0))
        if passed is not None:
            last_success.add_metric([system, dataset], passed)
        failures.add_metric([system, dataset], float(failed))
        in_rotation, verified = data.figures.coverage.get((system, dataset), (0, 0))
        if in_rotation:
            coverage.add_metric([system, dataset], verified / in_rotation)
    return [last_check, ratio, last_success, failures, coverage]


def drill_metrics(data: ScrapeData) -> list[Metric]:
    """Return the dr_drill_* families."""
    last_success = GaugeMetricFamily(
        "dr_drill_last_success_timestamp_seconds",
        "Finish time of the last passed drill",
        labels=["scenario"],
    )
    last_run = GaugeMetricFamily(
        "dr_drill_last_run_timestamp_seconds",
        "Finish time of the last drill run",
        labels=["scenario"],
    )
    outcome = GaugeMetricFamily(
        "dr_drill_last_outcome", "1 on the outcome of the last run", labels=["scenario", "outcome"]
    )
    rto = GaugeMetricFamily(
        "dr_drill_last_rto_seconds", "Measured RTO of the last run", labels=["scenario"]
    )
    rpo = GaugeMetricFamily(
        "dr_drill_last_rpo_seconds", "Measured RPO of the last run", labels=["scenario"]
    )
    finished = [
        d for d in data.drill_rows if d.finished_at is not None and d.finished_at <= data.at
    ]
    for scenario in sorted({d.scenario for d in finished}):
        runs = sorted((d for d in finished if d.scenario == scenario), key=lambda d: d.finished_at)
        last = runs[-1]
        last_run.add_metric([scenario], last.finished_at)
        passed = [d.finished_at for d in runs if d.status == "passed"]
        if passed:
            last_success.add_metric([scenario], max(passed))
        for state in DRILL_OUTCOMES:
            outcome.add_metric([scenario, state], 1.0 if last.status == state else 0.0)
        if last.rto_seconds is not None:
            rto.add_metric([scenario], float(last.rto_seconds))
        if last.rpo_seconds is not None:
            rpo.add_metric([scenario], float(last.rpo_seconds))
    return [last_success, last_run, outcome, rto, rpo]


def integrity_metrics(data: ScrapeData) -> list[Metric]:
    """Return the bad-point and integrity-scan families (docs/verification.md "Bad points")."""
    bad = GaugeMetricFamily(
        "dr_recovery_points_bad",
        "Recovery points of the dataset marked bad whose integrity failure is still open "
        "(until a newer point passes drctl verify --recheck)",
        labels=DATASET,
    )
    scan_run = GaugeMetricFamily(
        "dr_integrity_scan_last_run_timestamp_seconds",
        "Finish time of the last drctl verify --all, whatever its outcome",
    )
    scan_success = GaugeMetricFamily(
        "dr_integrity_scan_last_success_timestamp_seconds",
        "Finish time of the last drctl verify --all that found nothing bad, open or unreachable",
    )
    open_points: dict[tuple[str, str], set[str]] = {}
    for failure in data.snapshot.failures:
        if failure.open_at(data.at):
            key = (failure.system, failure.dataset)
            open_points.setdefault(key, set()).add(failure.recovery_point_id)
    # A dataset dr.yml no longer names (removed or renamed) keeps its series while it has an
    # open failure: the failure stays open until a re-check, whatever the config says now.
    for system, dataset in sorted(set(_datasets(data.config)) | set(open_points)):
        bad.add_metric([system, dataset], float(len(open_points.get((system, dataset), ()))))
    scans = [v for v in _finished_checks(data) if v.kind == "all"]
    if scans:
        scan_run.add_metric([], max(v.finished_at or 0.0 for v in scans))
    passed = [v.finished_at or 0.0 for v in scans if v.status == "passed"]
    if passed:
        scan_success.add_metric([], max(passed))
    return [bad, scan_run, scan_success]
