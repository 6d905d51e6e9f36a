"""`drctl run-due`: one reconcile pass — work out from the rules and the catalog what is due
and run it. `drctl serve` loops over `run_due_pass`.

Due (all times Asia/Shanghai; see docs/scheduling.md):

* backup — a full backup of every dataset every calendar day (so holidays stay protected,
  requirements.md A1): due when the dataset has no complete backup with today's business date;
* copy_offsite — after each backup: due when a point kept in the primary store has no verified
  copy at a site other than the production site;
* verify — the validity check every 28 days (verify.interval schedule_days): due from the
  calendar day that many days after the last counted check's completion date, or at once when
  there is none and something has been backed up;
* retention — daily;
* drill_reminder — a logged reminder (not a drill) when the last passed drill is more than
  330 days old.

Every job runs under a catalog lock (`model.jobs.catalog_job`): a job another pass is running is
skipped, not failed, and is re-checked under the lock so it never runs twice. A job that failed
is retried after RETRY_AFTER_SECONDS. A pass first releases the locks of crashed processes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from orchestrator.config import LoadedConfig
from orchestrator.errors import ExitCode, JobBusy, OrchestratorError, worst_exit_code
from orchestrator.model.catalog_errors import catalog_problem, is_catalog_error
from orchestrator.model.jobs import CRASH_MARK, CatalogJob, catalog_job, release_stale_jobs
from orchestrator.model.settings import Config
from orchestrator.model.snapshot import PointRow, Snapshot, read_catalog
from orchestrator.rules.rule import RulePack
from orchestrator.rules.timezone import SHANGHAI
from orchestrator.rules.workdays import business_date
from orchestrator.runtime import Runtime

logger = logging.getLogger(__name__)

VERIFY_EVERY_DAYS = 28
DRILL_REMINDER_DAYS = 330
RETRY_AFTER_SECONDS = 3600.0
MAX_ROUNDS = 3
_DAY = 86400.0


@dataclass(frozen=True)
class DueJob:
    """One job a pass should run: its kind, subject (a system, or `all`), and why."""

    kind: str
    subject: str
    reason: str
    datasets: tuple[str, ...] = ()

    @property
    def lock_kind(self) -> str:
        """Return the job kind under which the pass takes its catalog lock."""
        return f"due:{self.kind}"

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.subject}"


@dataclass(frozen=True)
class JobOutcome:
    """What became of one due job: succeeded, failed or skipped."""

    kind: str
    subject: str
    status: str
    message: str
    exit_code: int = ExitCode.OK


@dataclass(frozen=True)
class PassResult:
    """One reconcile pass: when, how many stale locks it released, and each job's outcome."""

    at: datetime
    released_stale: int
    outcomes: tuple[JobOutcome, ...] = field(default_factory=tuple)

    @property
    def ran(self) -> tuple[JobOutcome, ...]:
        """Return the jobs that were actually started (not skipped)."""
        return tuple(o for o in self.outcomes if o.status != "skipped")

    @property
    def exit_code(self) -> int:
        """Return the pass's exit code: the worst of its failed jobs by the CLI contract (a
        mismatch, 1, wins over an infrastructure failure, 3: errors.worst_exit_code), else 0."""
        return worst_exit_code(o.exit_code for o in self.outcomes if o.status == "failed")

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "released_stale_jobs": self.released_stale,
            "jobs": [o.__dict__ for o in self.outcomes],
        }


def _local_date(moment: float) -> date:
    return datetime.fromtimestamp(moment, SHANGHAI).date()


def _blocked(snapshot: Snapshot, job: DueJob, now: float) -> bool:
    """Return whether the job is running now or failed less than RETRY_AFTER_SECONDS ago (a
    job failed by a crash is retried at once)."""
    for row in snapshot.jobs:
        if row.kind != job.lock_kind or row.subject != job.subject:
            continue
        if row.state == "running":
            return True
        crashed = CRASH_MARK in (row.error or "")  # released by release_stale_jobs: retry now
        if (
            row.state == "failed"
            and not crashed
            and now - (row.finished_at or row.started_at) < RETRY_AFTER_SECONDS
        ):
            return True
    return False


def _done_today(snapshot: Snapshot, kinds: tuple[str, ...], now: float) -> bool:
    today = _local_date(now)
    return any(
        row.kind in kinds and row.state == "succeeded" and _local_date(row.started_at) == today
        for row in snapshot.jobs
    )


def plan_due(
    config: Config | LoadedConfig, snapshot: Snapshot, at: datetime, pack: RulePack | None = None
) -> list[DueJob]:
    """Given the config, a catalog snapshot, a timezone-aware time and optionally the site's
    rule pack (for the verification cadence), return the jobs due now, in run order."""
    model = config.model if isinstance(config, LoadedConfig) else config
    now = at.timestamp()
    today = business_date(at.astimezone(UTC), model.calendar.business_date_cutoff_hour)
    complete = [p for p in snapshot.points if p.status == "complete" and p.finished_at <= now]
    backed_up_today = {(p.system, p.dataset) for p in complete if p.business_date == today}
    by_system: dict[str, list[PointRow]] = {}
    for point in complete:
        by_system.setdefault(point.system, []).append(point)
    copies = snapshot.copies_by_point()
    jobs: list[DueJob] = []
    for system in model.systems:
        missing = tuple(
            d.name for d in system.datasets if (system.name, d.name) not in backed_up_today
        )
        if missing:
            jobs.append(
                DueJob("backup", system.name, f"no full backup for business date {today}", missing)
            )
        uncopied = [
            p
            for p in by_system.get(system.name, [])
            if any(
                c.store == system.primary_store and c.status == "present"
                for c in copies.get(p.id, [])
            )
            and not any(
                c.site != system.production_site
                and c.status == "present"
                and c.verified_at is not None
                for c in copies.get(p.id, [])
            )
        ]
        if uncopied:
            jobs.append(
                DueJob(
                    "copy_offsite",
                    system.name,
                    f"{len(uncopied)} recovery point(s) without a verified off-site copy",
                )
            )
    jobs += _plan_periodic(snapshot, now, complete, pack)
    return [job for job in jobs if not _blocked(snapshot, job, now)]


def _plan_periodic(
    snapshot: Snapshot, now: float, complete: list[Any], pack: RulePack | None
) -> list[DueJob]:
    every = VERIFY_EVERY_DAYS
    if pack is not None and "verify.interval" in pack:
        every = int(pack.get("verify.interval").value("schedule_days"))
    jobs = []
    counted = [
        v.finished_at
        for v in snapshot.verifications
        if v.counted and v.finished_at is not None and v.finished_at <= now
    ]
    # Days as the rule counts them (calendar days between completion dates, Asia/Shanghai):
    # due from local midnight of day `every`, not `every` × 24 h after the last finish, which
    # left a check finished late in the evening only the rest of its due day.
    if complete and (not counted or (_local_date(now) - _local_date(max(counted))).days >= every):
        jobs.append(
            DueJob(
                "verify",
                "all",
                "no counted validity check yet"
                if not counted
                else f"last counted check {(now - max(counted)) / _DAY:.1f} days ago "
                f"(every {every} days)",
            )
        )
    if not _done_today(snapshot, ("due:retention", "retention"), now):
        jobs.append(DueJob("retention", "all", "daily rotation"))
    drills = [
        d.finished_at
        for d in snapshot.drills
        if d.status == "passed" and d.finished_at is not None and d.finished_at <= now
    ]
    reference = max(drills) if drills else min((p.finished_at for p in complete), default=None)
    if (
        reference is not None
        and now - reference > DRILL_REMINDER_DAYS * _DAY
        and not _done_today(snapshot, ("due:drill_reminder",), now)
    ):
        jobs.append(
            DueJob(
                "drill_reminder",
                "all",
                f"{(now - reference) / _DAY:.0f} days since the last passed drill "
                "(第十三条 「每年至少演练一次」)",
            )
        )
    return jobs


def run_due_pass(runtime: Runtime, at: datetime | None = None) -> PassResult:
    """Release stale locks, then run every due job under its lock; after jobs that changed the
    catalog (e.g. a backup), plan again so the off-site copy follows in the same pass.

    `at` (default: now) is the time the pass plans for. Never raises for one job's failure:
    each outcome says what happened.
    """
    released = release_stale_jobs(runtime.catalog)
    if released:
        logger.warning("run-due: released %d job lock(s) left by a crashed process", released)
    pack = runtime.pack
    attempted: set[str] = set()
    outcomes: list[JobOutcome] = []
    moment = at or datetime.now(UTC)
    for _round in range(MAX_ROUNDS):
        moment = at or datetime.now(UTC)
        due = [
            job
            for job in plan_due(runtime.config, read_catalog(runtime.catalog), moment, pack)
            if job.key not in attempted
        ]
        if not due:
            break
        for job in due:
            attempted.add(job.key)
            outcomes.append(_run_locked(runtime, job, moment, pack))
    return PassResult(moment, released, tuple(outcomes))


def _run_locked(runtime: Runtime, job: DueJob, at: datetime, pack: RulePack) -> JobOutcome:
    try:
        with catalog_job(
            runtime.catalog,
            job.lock_kind,
            job.subject,
            {"reason": job.reason, "datasets": list(job.datasets)},
        ) as held:
            return _run_held(runtime, job, at, pack, held)
    except JobBusy:
        return JobOutcome(job.kind, job.subject, "skipped", "another pass is running it")


def _crashed(runtime: Runtime, job: DueJob, held: CatalogJob, error: Exception) -> JobOutcome:
    """Return the outcome of a due job that raised an unexpected error: the catalog's (locked,
    unreachable) on one line naming it, anything else an internal error with its traceback."""
    if is_catalog_error(error):
        problem = catalog_problem(error, runtime.catalog.url)
        held.fail(problem)
        logger.error("run-due: %s %s failed: %s", job.kind, job.subject, problem)
        return JobOutcome(job.kind, job.subject, "failed", problem, ExitCode.INFRASTRUCTURE)
    held.fail(f"internal error: {error}")
    logger.exception("run-due: %s %s crashed", job.kind, job.subject)
    return JobOutcome(
        job.kind, job.subject, "failed", f"internal error: {error}", ExitCode.INFRASTRUCTURE
    )


def _run_held(
    runtime: Runtime, job: DueJob, at: datetime, pack: RulePack, held: CatalogJob
) -> JobOutcome:
    """Run a due job whose catalog lock is held; the outcome is recorded on the job row."""
    fresh = read_catalog(runtime.catalog)  # re-checked under the lock, without our own row
    fresh = replace(fresh, jobs=tuple(row for row in fresh.jobs if row.id != held.id))
    if job.key not in {j.key for j in plan_due(runtime.config, fresh, at, pack)}:
        held.detail = {"skipped": "already done"}
        return JobOutcome(job.kind, job.subject, "skipped", "already done by another pass")
    try:
        status, message = JOB_RUNNERS[job.kind](runtime, job)
    except JobBusy as busy:
        held.detail = {"skipped": str(busy)}
        return JobOutcome(job.kind, job.subject, "skipped", str(busy))
    except OrchestratorError as error:
        held.fail(str(error))
        logger.error("run-due: %s %s failed: %s", job.kind, job.subject, error)
        return JobOutcome(job.kind, job.subject, "failed", str(error), int(error.exit_code))
    except Exception as error:  # noqa: BLE001 - one job's crash must not stop the pass
        return _crashed(runtime, job, held, error)
    if status != "succeeded":
        held.fail(message)
    held.detail = {"message": message}
    logger.info("run-due: %s %s %s: %s", job.kind, job.subject, status, message)
    code = ExitCode.CHECK_FAILED if status == "failed" else ExitCode.OK
    return JobOutcome(job.kind, job.subject, status, message, int(code))


def _run_backup(runtime: Runtime, job: DueJob) -> tuple[str, str]:
    from orchestrator.actions.backup import run_backup

    outcomes = run_backup(runtime, job.subject, datasets=list(job.datasets))
    return "succeeded", f"{len(outcomes)} full recovery point(s) written"


def _run_copy(runtime: Runtime, job: DueJob) -> tuple[str, str]:
    from orchestrator.actions.copy_offsite import run_copy_offsite

    outcomes = run_copy_offsite(runtime, systems=[job.subject])
    return "succeeded", f"{len(outcomes)} recovery point(s) copied off-site and verified there"


def _run_verify(runtime: Runtime, job: DueJob) -> tuple[str, str]:
    """Run the sampled validity check; it succeeds only if it passed and counts (both bars
    met), as `drctl verify` exits 0 only then. Anything else is a failure, never a default."""
    from orchestrator.actions.verify_sample import run_verify_sample

    outcome = run_verify_sample(runtime, seed=None)
    verdict = "passed" if outcome.passed else "FAILED"
    why = outcome.not_counted_because
    counted = f"NOT counted: {why[0]}" if why else "counted"
    status = "succeeded" if outcome.passed and outcome.counted else "failed"
    return status, f"validity check {outcome.verification_id} {verdict} ({counted})"


def _run_retention(runtime: Runtime, job: DueJob) -> tuple[str, str]:
    from orchestrator.actions.retention import run_retention

    needs_approver = runtime.config.model.retention.require_approver
    result = run_retention(runtime, dry_run=needs_approver, approver=None)
    if needs_approver:
        return "succeeded", (
            f"{len(result.plan.deletions)} deletion(s) planned; this site needs "
            "an approver: run `drctl retention --approver NAME`"
        )
    if result.left:  # recorded deleted, files kept by a store fault: the next pass removes them
        return "failed", (
            f"{len(result.deleted)} expired copy(ies) deleted; the files of {len(result.left)} "
            "could not be removed (the next retention pass removes them)"
        )
    return "succeeded", f"{len(result.deleted)} expired copy(ies) deleted"


def _run_drill_reminder(runtime: Runtime, job: DueJob) -> tuple[str, str]:
    message = f"drill reminder: {job.reason}; schedule a drill (drctl drill run)"
    logger.warning("%s", message)
    return "succeeded", message


JOB_RUNNERS: dict[str, Callable[[Runtime, DueJob], tuple[str, str]]] = {
    "backup": _run_backup,
    "copy_offsite": _run_copy,
    "verify": _run_verify,
    "retention": _run_retention,
    "drill_reminder": _run_drill_reminder,
}
