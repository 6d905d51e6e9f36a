"""Time every restore against the system's objective (R140) and record it per dataset.

A sampled validity check times each point it restores (fetch and hash from the store,
restore into the enclave, fingerprint and invariants compared); a drill times its failover
and failback steps, which restore the system's datasets together, and records the step's
duration for each dataset restored (model/restore_times.py). Reports show each duration
beside the objective, and the check or drill's own `restore.duration` finding
(actions/restore_timing_report.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from orchestrator.model.restore_times import RestoreTiming, record_timing
from orchestrator.model.settings import Config
from orchestrator.runtime import Runtime

if TYPE_CHECKING:
    from orchestrator.actions.verify_points import ItemResult


def objective(config: Config, system: str) -> float | None:
    """Return the system's restore-time objective in seconds (None when it declares none)."""
    return config.system(system).restore_time_objective_seconds


def verify_timings(
    config: Config, verification_id: str, results: Sequence[ItemResult]
) -> list[RestoreTiming]:
    """Return one timing per checked point that reached the restore (a point refused before
    it, at its manifest or listing, was never restored)."""
    return [
        RestoreTiming(
            system=r.item.system,
            dataset=r.item.dataset,
            kind="verify",
            source=f"verify {verification_id}",
            started_at=r.started_at,
            finished_at=r.checked_at,
            duration_seconds=round(r.checked_at - r.started_at, 3),
            objective_seconds=objective(config, r.item.system),
            status=r.status,
            recovery_point_id=r.item.recovery_point,
        )
        for r in results
        if r.fingerprint and r.started_at
    ]


# drill step actions that restore, and the kind of restore they time
RESTORE_ACTIONS = {
    "failover": "failover",
    "test_failover": "failover",
    "failback": "failback",
    "test_failback": "failback",
}


def step_timings(
    config: Config,
    system: str,
    drill_id: str,
    action: str,
    detail: Mapping[str, Any],
    started: float,
    finished: float,
) -> list[RestoreTiming]:
    """Return one timing per dataset a passed drill step of a restoring action restored
    (the datasets its detail names, else every dataset of the system); [] for other steps."""
    kind = RESTORE_ACTIONS.get(action)
    if kind is None:
        return []
    restored: Mapping[str, str | None] = detail.get("restored") or {
        target["dataset"]: None for target in detail.get("targets", []) if "dataset" in target
    }
    if not restored:
        restored = {dataset.name: None for dataset in config.system(system).datasets}
    return [
        RestoreTiming(
            system=system,
            dataset=dataset,
            kind=kind,
            source=f"drill {drill_id}",
            started_at=started,
            finished_at=finished,
            duration_seconds=round(finished - started, 3),
            objective_seconds=objective(config, system),
            status="passed",
            recovery_point_id=point,
        )
        for dataset, point in sorted(restored.items())
    ]


def record_timings(runtime: Runtime, timings: Sequence[RestoreTiming]) -> None:
    """Record the timings in the catalog."""
    with runtime.catalog.begin() as connection:
        for timing in timings:
            record_timing(connection, timing)
