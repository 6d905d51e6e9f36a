"""`drctl drill run`: run a scenario's steps, measure RTO and RPO, write the evidence.

Outcomes: `passed` (exit 0); `failed` (exit 1): a step ran to completion and found a data
mismatch or a check that did not hold; `aborted` (exit 3): a step could not run — a host or
store unreachable, refused or timed out, or drctl itself failed — before it could compare
anything. An aborted drill is recorded as aborted and yields no rule verdict: drill.yearly
and dr.bidirectional count passed drills only, and its evidence carries no finding.

The first failed or aborted step stops the drill; the remaining steps are skipped except a
`wipe` step, which always runs, so no drill-scoped target outlives the drill. Evidence is
written either way. A `switchover` scenario is recorded as a job (kind switchover), not as a
drill: it is not a test and does not count as one. A drill (job kind drill) and a switchover
(job kind switchover) of a system hold one catalog lock, `sites:<system>`, for their run: a
second drill or a switchover of the same system — either way round — is refused with exit 3,
naming the holder, before it seeds, backs up, restores or destroys anything.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from orchestrator.actions import drill_steps
from orchestrator.actions.drill_report import make_report
from orchestrator.actions.drill_state import DrillState
from orchestrator.actions.evidence_setup import prepare_evidence, write_site_package
from orchestrator.actions.restore_timing import record_timings, step_timings
from orchestrator.actions.restore_timing_report import timing_dict, timing_text
from orchestrator.actions.rule_status import rule_findings
from orchestrator.actions.switchover import Clearance
from orchestrator.errors import CheckFailed, ExitCode, InputError, OrchestratorError
from orchestrator.model import schema
from orchestrator.model.holders import Liveness, current_holder, liveness
from orchestrator.model.jobs import catalog_job
from orchestrator.model.scenario import Scenario, Step
from orchestrator.runtime import Runtime
from orchestrator.timefmt import sortable_id

logger = logging.getLogger(__name__)
KILLED = "killed before it finished (found by the next drill of its scenario); nothing counted"
# The rules a drill evidences; its package states them as the rules judge them (never by hand).
# The rules a drill's package states, as `status` judges them once the drill is recorded:
# site-wide ones, and the per-system ones for the scenario's system.
DRILL_RULES = ("dr.bidirectional", "drill.yearly", "drill.objectives", "restore.duration")
OUTCOME_EXIT = {
    "passed": ExitCode.OK,
    "failed": ExitCode.CHECK_FAILED,
    "aborted": ExitCode.INFRASTRUCTURE,
}


@dataclass
class StepRecord:
    name: str
    action: str
    status: str = "running"  # passed | failed | aborted | skipped
    started_at: float = 0.0
    finished_at: float = 0.0
    message: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_seconds(self) -> float:
        return round(self.finished_at - self.started_at, 3)


@dataclass
class DrillOutcome:
    drill_id: str
    scenario: str
    outcome: str  # passed | failed | aborted
    steps: list[StepRecord]
    measurements: dict[str, Any]
    evidence_path: Path | None
    evidence_manifest_sha256: str | None
    finished_at: float = 0.0

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

    @property
    def exit_code(self) -> ExitCode:
        return OUTCOME_EXIT[self.outcome]


def run_drill(
    runtime: Runtime,
    scenario: Scenario,
    scenario_path: Path,
    *,
    on_step: Callable[[StepRecord], None] | None = None,
    clearance: Clearance | None = None,
    allow_replica_writes: bool = False,
) -> DrillOutcome:
    """Run a scenario's steps in order (see the module docstring); record the run in the
    catalog, write its evidence package and return the outcome. A switchover runs only with
    its clearance (actions/switchover.py: plan, confirmation, the recovery points to restore);
    raise InputError, before anything is touched, without one. A restore into a database
    server that feeds replicas is refused unless allow_replica_writes (model/downstream.py)."""
    prepare_evidence(runtime.config)  # no drill starts that could not be evidenced (exit 2)
    # One drill or switchover of a system at a time: a second one would seed, back up, restore
    # and destroy under the first one's steps and measurements (JobBusy, exit 3, at once).
    lock = f"sites:{scenario.system}"
    if scenario.kind != "switchover":
        with catalog_job(runtime.catalog, "drill", scenario.system, lock=lock) as job:
            record = _DrillRecord(runtime, scenario, sortable_id(), time.time())
            record.start()
            outcome, state = _run(
                runtime, scenario, scenario_path, record, on_step, None, allow_replica_writes
            )
            record.end(outcome, state)
            job.detail = {"drill_id": outcome.drill_id, "outcome": outcome.outcome}
            if not outcome.passed:
                job.fail(f"drill {outcome.outcome}")
        return outcome
    if clearance is None:
        raise InputError(
            str(scenario_path), ["kind: a switchover runs only once cleared (plan, --confirm)"]
        )
    record = _DrillRecord(runtime, scenario, sortable_id(), time.time())
    with catalog_job(runtime.catalog, "switchover", scenario.system, lock=lock) as job:
        outcome, _state = _run(
            runtime, scenario, scenario_path, record, on_step, clearance, allow_replica_writes
        )
        job.detail = {
            "drill_id": outcome.drill_id,
            "scenario": scenario.name,
            "outcome": outcome.outcome,
            "evidence_path": str(outcome.evidence_path),
            "rto_seconds": outcome.measurements.get("rto_seconds"),
            "plan": clearance.plan.get("id"),
        }
        if not outcome.passed:
            job.fail(f"switchover {outcome.outcome}")
    return outcome


def _run(
    runtime: Runtime,
    scenario: Scenario,
    scenario_path: Path,
    record: _DrillRecord,
    on_step: Callable[[StepRecord], None] | None,
    clearance: Clearance | None,
    allow_replica_writes: bool = False,
) -> tuple[DrillOutcome, DrillState]:
    """Run the steps, write the evidence package; return the outcome and the state."""
    state = DrillState(
        scenario=scenario,
        runtime=runtime,
        drill_id=record.drill_id,
        cleared_points=dict(clearance.points) if clearance else None,
        allow_replica_writes=allow_replica_writes,
    )
    records = _run_steps(state, scenario, on_step)
    outcome = _outcome(records)
    measurements = state.measurements()
    finished = time.time()
    row = None if clearance else record.values(outcome, measurements, state, finished)
    findings: list[dict[str, Any]] = []
    if row is not None and outcome != "aborted":
        # Judged with the verdict written in a rolled-back transaction: it is committed only
        # with its evidence (record.end), so a drill killed in between stays running, uncounted.
        findings = [
            f.to_dict()
            for f in rule_findings(runtime, DRILL_RULES, record.pending(row))
            if f.subject in ("all", scenario.system)
        ]
    report = make_report(
        record.drill_id,
        scenario,
        scenario_path,
        records,
        measurements,
        outcome,
        record.started,
        finished,
        runtime,
        findings,
    )
    if clearance:
        report["switchover"] = clearance.as_record()
    else:  # a switchover is a job, not a drill row
        report["record"] = row
    package = write_site_package(runtime.config, "drill", report, state.attachments())
    result = DrillOutcome(
        record.drill_id,
        scenario.name,
        outcome,
        records,
        measurements,
        package.path,
        package.manifest_sha256,
        finished,
    )
    return result, state


def _run_steps(
    state: DrillState, scenario: Scenario, on_step: Callable[[StepRecord], None] | None
) -> list[StepRecord]:
    records: list[StepRecord] = []
    stopped = False
    for step in scenario.steps:
        if stopped and step.action != "wipe":
            record = StepRecord(
                step.name,
                step.action,
                status="skipped",
                message="not run: an earlier step did not pass",
            )
        else:
            record = _run_one(state, step)
        records.append(record)
        stopped = stopped or record.status in ("failed", "aborted")
        if on_step:
            on_step(record)
    return records


def _run_one(state: DrillState, step: Step) -> StepRecord:
    record = StepRecord(step.name, step.action, started_at=time.time())
    try:
        record.message, record.detail = drill_steps.STEP_ACTIONS[step.action](state, step)
        record.status = "passed"
    except CheckFailed as error:
        record.status, record.message = "failed", str(error)
    except OrchestratorError as error:
        # Unreachable, refused, timed out, or input found wrong only now: nothing compared.
        record.status, record.message = "aborted", str(error)
    except Exception as error:
        logger.exception("drill step %s crashed", step.name)
        record.status, record.message = "aborted", f"internal error, please report: {error}"
    record.finished_at = time.time()
    if record.status == "passed":
        _time_restore(state, record)
    return record


def _time_restore(state: DrillState, record: StepRecord) -> None:
    """Record how long a passed restoring step took per dataset, against the objective."""
    timings = step_timings(
        state.runtime.config.model,
        state.scenario.system,
        state.drill_id,
        record.action,
        record.detail,
        record.started_at,
        record.finished_at,
    )
    if timings:
        record_timings(state.runtime, timings)
        record.detail["restore_times"] = [timing_dict(t) for t in timings]
        record.message += "; " + timing_text(timings[0])


def _outcome(records: list[StepRecord]) -> str:
    """Failed when any step found a mismatch (a verdict was reached), else aborted when any
    step could not run, else passed."""
    statuses = {record.status for record in records}
    if "failed" in statuses:
        return "failed"
    return "aborted" if "aborted" in statuses else "passed"


class _DrillRecord:
    """A drill's row in the catalog: `running` at the start, its outcome at the end. An
    aborted drill keeps no measurement and no failover/failback verdict. (A switchover has no
    row: it is a `switchover` job.)"""

    def __init__(self, runtime: Runtime, scenario: Scenario, drill_id: str, started: float):
        self.runtime, self.scenario = runtime, scenario
        self.drill_id, self.started = drill_id, started

    def start(self) -> None:
        """Record the drill `running`, naming this process as its holder, after recording
        `aborted` the scenario's running drills whose holder is dead (abort_killed_drills)."""
        holder = current_holder()
        killed = abort_killed_drills(self.runtime, self.scenario.name)
        if killed:
            logger.warning("recorded aborted: drill(s) %s, %s", ", ".join(killed), KILLED)
        with self.runtime.catalog.begin() as connection:
            connection.execute(
                schema.drills.insert().values(
                    id=self.drill_id,
                    scenario=self.scenario.name,
                    started_at=self.started,
                    status="running",
                    detail={
                        "holder": {
                            "user": holder.user,
                            "host": holder.host,
                            "pid": holder.pid,
                            "process_start": holder.process_start,
                        }
                    },
                )
            )

    def values(
        self, outcome: str, measured: Mapping[str, Any], state: DrillState, finished: float
    ) -> dict[str, Any]:
        """Return the drill's catalog row (without its evidence), also carried in the signed
        report so `drctl catalog rebuild` can restore it exactly."""
        counted = outcome != "aborted"
        return {
            "table": "drills",
            "id": self.drill_id,
            "scenario": self.scenario.name,
            "kind": self.scenario.kind,
            "started_at": self.started,
            "finished_at": finished,
            "status": outcome,
            "rto_seconds": measured.get("rto_seconds") if counted else None,
            "rpo_seconds": measured.get("rpo_seconds") if counted else None,
            "failover_ok": state.failover_ok if counted else None,
            "failback_ok": state.failback_ok if counted else None,
            "system": self.scenario.system,
            "objectives": self.scenario.objectives.model_dump(),
        }

    def pending(self, row: Mapping[str, Any]) -> Callable[[Connection], None]:
        """Return the write of the drill's verdict the rules judge its package from, inside a
        transaction that is rolled back (actions/rule_status.rule_findings); `end` commits it
        with the evidence."""
        keys = ("finished_at", "status", "rto_seconds", "rpo_seconds", "failover_ok", "failback_ok")

        def write(connection: Connection) -> None:
            connection.execute(
                schema.drills.update()
                .where(schema.drills.c.id == self.drill_id)
                .values(**{key: row[key] for key in keys}, detail=self.detail(row))
            )

        return write

    def detail(self, row: Mapping[str, Any], **more: Any) -> dict[str, Any]:
        """Return the drill row's detail: what the rules read beside the columns (the
        scenario's kind, system and RTO/RPO objectives) and anything more."""
        keys = ("kind", "system", "objectives")
        return {**{key: row[key] for key in keys}, **more}

    def end(self, outcome: DrillOutcome, state: DrillState) -> None:
        row = self.values(outcome.outcome, outcome.measurements, state, outcome.finished_at)
        with self.runtime.catalog.begin() as connection:
            connection.execute(
                schema.drills.update()
                .where(schema.drills.c.id == self.drill_id)
                .values(
                    finished_at=row["finished_at"],
                    status=row["status"],
                    rto_seconds=row["rto_seconds"],
                    rpo_seconds=row["rpo_seconds"],
                    failover_ok=row["failover_ok"],
                    failback_ok=row["failback_ok"],
                    evidence_path=str(outcome.evidence_path),
                    evidence_manifest_sha256=outcome.evidence_manifest_sha256,
                    detail=self.detail(row, measurements=outcome.measurements),
                )
            )


def abort_killed_drills(runtime: Runtime, scenario: str) -> list[str]:
    """Record as aborted every drill of the scenario still `running` whose holder provably
    cannot run any more (on this host: no such process, or its pid now another process's);
    return their ids. A drill has no lease: a row naming no holder (written before holders
    were recorded) or one on another host is left as it is, since it may still be running."""
    table = schema.drills.c
    killed = []
    with runtime.catalog.begin() as connection:
        rows = connection.execute(
            schema.drills.select().where(table.scenario == scenario, table.status == "running")
        ).all()
        for row in rows:
            holder = (row.detail or {}).get("holder")
            if not holder:
                continue
            alive = liveness(holder["host"], int(holder["pid"]), int(holder["process_start"]))
            if alive is not Liveness.DEAD:
                continue
            connection.execute(
                schema.drills.update()
                .where(table.id == row.id, table.status == "running")
                .values(
                    status="aborted",
                    finished_at=time.time(),
                    detail={**(row.detail or {}), "error": KILLED},
                )
            )
            killed.append(row.id)
    return killed
