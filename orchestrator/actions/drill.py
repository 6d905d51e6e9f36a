"""`drctl drill run`: run a scenario's steps, measure RTO and RPO, write the evidence.

RTO = disaster declared → failover verified (every file digest, fingerprint and invariant).
RPO = disaster time − the restored recovery point's snapshot time; for the ledger also the
count of postings lost. A failed step stops the drill; evidence is written either way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.actions import drill_steps
from orchestrator.actions.drill_report import make_report
from orchestrator.errors import OrchestratorError
from orchestrator.evidence.setup import prepare_evidence, write_site_package
from orchestrator.model import catalog as cat
from orchestrator.model.scenario import Scenario, Step
from orchestrator.runtime import Runtime
from orchestrator.timefmt import sortable_id

logger = logging.getLogger(__name__)


@dataclass
class StepRecord:
    name: str
    action: str
    status: str = "running"
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
    passed: bool
    steps: list[StepRecord]
    measurements: dict[str, Any]
    evidence_path: Path | None
    evidence_manifest_sha256: str | None


def run_drill(
    runtime: Runtime,
    scenario: Scenario,
    scenario_path: Path,
    *,
    on_step: Callable[[StepRecord], None] | None = None,
) -> DrillOutcome:
    """Run every step of a scenario in order; stop at the first failure. Record the drill in
    the catalog and write its evidence package; return the outcome."""
    prepare_evidence(runtime.config)  # no drill starts that could not be evidenced (exit 2)
    started = time.time()
    drill_id = sortable_id()
    state = drill_steps.DrillState(scenario=scenario, runtime=runtime)
    with runtime.catalog.begin() as connection:
        connection.execute(
            cat.drills.insert().values(
                id=drill_id, scenario=scenario.name, started_at=started, status="running"
            )
        )
    records: list[StepRecord] = []
    passed = True
    for step in scenario.steps:
        record = StepRecord(step.name, step.action, started_at=time.time())
        records.append(record)
        try:
            record.message, record.detail = _run_step(state, step)
            record.status = "passed"
        except OrchestratorError as error:
            record.status, record.message, passed = "failed", str(error), False
        except Exception as error:
            logger.exception("drill step %s crashed", step.name)
            record.status, record.message, passed = "failed", f"internal error: {error}", False
        record.finished_at = time.time()
        if on_step:
            on_step(record)
        if not passed:
            break
    for step in scenario.steps[len(records) :]:
        records.append(
            StepRecord(
                step.name, step.action, status="skipped", message="not run: an earlier step failed"
            )
        )
        if on_step:
            on_step(records[-1])
    measurements = state.measurements()
    finished = time.time()
    report = make_report(
        drill_id, scenario, scenario_path, records, measurements, passed, started, finished, runtime
    )
    package = write_site_package(runtime.config, "drill", report, state.attachments())
    with runtime.catalog.begin() as connection:
        connection.execute(
            cat.drills.update()
            .where(cat.drills.c.id == drill_id)
            .values(
                finished_at=finished,
                status="passed" if passed else "failed",
                rto_seconds=measurements.get("rto_seconds"),
                rpo_seconds=measurements.get("rpo_seconds"),
                failover_ok=state.failover_ok,
                failback_ok=state.failback_ok,
                evidence_path=str(package.path),
                evidence_manifest_sha256=package.manifest_sha256,
                detail={"measurements": measurements},
            )
        )
    return DrillOutcome(
        drill_id,
        scenario.name,
        passed,
        records,
        measurements,
        package.path,
        package.manifest_sha256,
    )


def _run_step(state: drill_steps.DrillState, step: Step) -> tuple[str, dict[str, Any]]:
    handler = drill_steps.STEP_ACTIONS[step.action]
    return handler(state, step)
