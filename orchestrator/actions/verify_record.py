"""The catalog side of a validity check (`drctl verify`): its verification row from start to
finish or abort, its items, and the record its signed report carries so that
`drctl catalog rebuild` can restore it exactly. The checking itself is verify_sample.py."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from orchestrator.evidence.package import Package
from orchestrator.model import catalog as cat
from orchestrator.model import integrity, schema
from orchestrator.model.plan import SamplePlan, plan_dict
from orchestrator.runtime import Runtime
from orchestrator.timefmt import sortable_id

if TYPE_CHECKING:
    from orchestrator.actions.verify_points import ItemResult
    from orchestrator.actions.verify_sample import SampleOutcome


def start_verification(runtime: Runtime, plan: SamplePlan, started: float) -> str:
    """Record a running, not yet counted check of the plan; return its id."""
    verification_id = sortable_id()
    with runtime.catalog.begin() as connection:
        connection.execute(
            schema.verifications.insert().values(
                id=verification_id,
                kind="sample",
                started_at=started,
                status="running",
                counted=False,
                seed=plan.seed,
                population_points=plan.population_points,
                population_bytes=plan.population_bytes,
                sample_points=len(plan.items),
                sample_bytes=plan.sample_bytes,
                detail={"plan": plan_dict(plan)},
            )
        )
    return verification_id


KILLED = "killed before it finished (found by the next check); nothing counted"


def abort_killed_checks(runtime: Runtime) -> list[str]:
    """Record as aborted every validity check still `running` in the catalog; return their
    ids. Called by a check holding the `verify sample` lease, so none of them can be running:
    their process was killed before it could record its end."""
    table = schema.verifications.c
    with runtime.catalog.begin() as connection:
        rows = connection.execute(
            schema.verifications.select().where(table.kind == "sample", table.status == "running")
        ).all()
        for row in rows:
            detail = {**(row.detail or {}), "error": KILLED}
            _update(connection, row.id, status="aborted", finished_at=time.time(), detail=detail)
    return [row.id for row in rows]


def abort_verification(
    runtime: Runtime,
    verification_id: str,
    plan: SamplePlan,
    wipe: dict[str, Any],
    error: BaseException,
    results: list[ItemResult],
) -> None:
    """Record the check aborted by `error`, with the wipe and the mismatches found so far."""
    mismatches = [m for r in results for m in r.mismatches]
    detail = {"plan": plan_dict(plan), "wipe": wipe, "error": str(error), "mismatches": mismatches}
    with runtime.catalog.begin() as connection:
        values = {"status": "aborted", "finished_at": time.time(), "detail": detail}
        _update(connection, verification_id, **values)


def pending_verdict(outcome: SampleOutcome, finished: float) -> Callable[[Connection], None]:
    """Return the write of the check's verdict that the rules judge its package from, inside a
    transaction that is rolled back (actions/rule_status.rule_findings): it is committed only
    by finish_verification, together with its evidence."""

    def write(connection: Connection) -> None:
        _update(connection, outcome.verification_id, **_verdict(outcome, finished))

    return write


def finish_verification(
    runtime: Runtime, outcome: SampleOutcome, finished: float, package: Package, detected_by: str
) -> None:
    """Record, in one transaction, the check's verdict, whether it counts, and its evidence
    package, on its row and on the integrity failures it recorded (`detected_by`)."""
    detail = {
        "plan": plan_dict(outcome.plan),
        "wipe": outcome.wipe,
        "mismatches": outcome.mismatches,
    }
    with runtime.catalog.begin() as connection:
        _update(
            connection,
            outcome.verification_id,
            **_verdict(outcome, finished),
            evidence_path=str(package.path),
            evidence_manifest_sha256=package.manifest_sha256,
            detail=detail,
        )
        integrity.attach_evidence(
            connection, detected_by, str(package.path), package.manifest_sha256
        )


def _verdict(outcome: SampleOutcome, finished: float) -> dict[str, Any]:
    status = "passed" if outcome.passed else "failed"
    return {
        "finished_at": finished,
        "status": status,
        "counted": outcome.counted,
        # What was judged (the plan less points retention removed while they were checked).
        "sample_points": len(outcome.plan.items),
        "sample_bytes": outcome.plan.sample_bytes,
    }


def _update(connection: Connection, verification_id: str, **values: Any) -> None:
    table = schema.verifications
    connection.execute(table.update().where(table.c.id == verification_id).values(**values))


def catalog_record(outcome: SampleOutcome, started: float, finished: float) -> dict[str, Any]:
    """Return the catalog rows of a finished check (its verification and items), carried in
    its signed report so `drctl catalog rebuild` can restore them exactly."""
    plan = outcome.plan
    return {
        "table": "verifications",
        "id": outcome.verification_id,
        "kind": "sample",
        "started_at": started,
        "finished_at": finished,
        "status": "passed" if outcome.passed else "failed",
        "counted": outcome.counted,
        "seed": plan.seed,
        "population_points": plan.population_points,
        "population_bytes": plan.population_bytes,
        "sample_points": len(plan.items),
        "sample_bytes": plan.sample_bytes,
        "items": [
            {
                "recovery_point_id": result.item.recovery_point,
                "store": result.item.store,
                "status": result.status,
                "checked_at": result.checked_at,
            }
            for result in outcome.items
        ],
    }


def record_items(runtime: Runtime, outcome: SampleOutcome) -> None:
    """Record each checked item; a passed one marks its point verified now."""
    with runtime.catalog.begin() as connection:
        for result in outcome.items:
            item = result.item
            connection.execute(
                schema.verification_items.insert().values(
                    verification_id=outcome.verification_id,
                    recovery_point_id=item.recovery_point,
                    store=item.store,
                    status=result.status,
                    checked_at=result.checked_at,
                    detail={
                        "source": item.source,
                        "reason": item.reason,
                        "bytes": item.bytes,
                        "manifest_sha256": result.manifest_sha256,
                        "mismatches": result.mismatches,
                    },
                )
            )
            if result.status == "passed":
                cat.mark_recovery_point(
                    connection, item.recovery_point, last_verified_at=result.checked_at
                )
