"""Per-dataset aggregates of the catalog for the status table and the exporter: one query each,
grouped by (system, dataset) with GROUP BY, EXISTS and a row_number() window (SQLite and
PostgreSQL alike), so a reader gets one row per dataset whatever the history's length. Only
reads."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, case, exists, func, select

from orchestrator.model import schema

Key = tuple[str, str]  # (system, dataset)
_POINTS = schema.recovery_points.c
_COPIES = schema.copies.c
_ITEMS = schema.verification_items.c
_CHECKS = schema.verifications.c
# An item passed counts as a verification only once its check committed its verdict (passed
# or failed, committed with its evidence: docs/crash-safety.md): a check killed before that
# recorded its items first (its row `running`, later `aborted`), and status must not claim a
# check that is not committed. A failed item counts at once: a failure never waits.
_COMMITTED = exists().where(
    _CHECKS.id == _ITEMS.verification_id, _CHECKS.status.in_(("passed", "failed"))
)


def _complete(at: float | None) -> Any:
    condition = _POINTS.status == "complete"
    return condition if at is None else and_(condition, _POINTS.finished_at <= at)


def newest_points(connection: Connection, at: float | None = None) -> dict[Key, Any]:
    """Return, per dataset, its newest complete point (finished by `at`, when given) with
    id, business_date, finished_at, total_bytes and `points`: how many complete points it
    has (finished by `at`)."""
    newest_first = func.row_number().over(
        partition_by=(_POINTS.system, _POINTS.dataset),
        order_by=(_POINTS.finished_at.desc(), _POINTS.id.desc()),
    )
    ranked = (
        select(
            _POINTS.system,
            _POINTS.dataset,
            _POINTS.id,
            _POINTS.business_date,
            _POINTS.finished_at,
            _POINTS.total_bytes,
            newest_first.label("rank"),
            func.count().over(partition_by=(_POINTS.system, _POINTS.dataset)).label("points"),
        )
        .where(_complete(at))
        .subquery()
    )
    rows = connection.execute(select(ranked).where(ranked.c.rank == 1))
    return {(row.system, row.dataset): row for row in rows}


def newest_copied(
    connection: Connection, at: float | None = None, *, verified: bool = False
) -> dict[tuple[str, str, str], float]:
    """Return, per dataset and store, the finish time of its newest complete point (finished
    by `at`, when given) with a present copy there written by `at` (and checksum-verified,
    with verified)."""
    condition = and_(_complete(at), _COPIES.status == "present")
    if at is not None:
        condition = and_(condition, _COPIES.written_at <= at)
    if verified:
        condition = and_(condition, _COPIES.verified_at.is_not(None))
    query = (
        select(_POINTS.system, _POINTS.dataset, _COPIES.store, func.max(_POINTS.finished_at))
        .join_from(schema.copies, schema.recovery_points, _POINTS.id == _COPIES.recovery_point_id)
        .where(condition)
        .group_by(_POINTS.system, _POINTS.dataset, _COPIES.store)
    )
    return {(s, d, store): newest for s, d, store, newest in connection.execute(query)}


def verification_items(
    connection: Connection, at: float | None = None
) -> dict[Key, tuple[float | None, int]]:
    """Return, per dataset, (when an item of one of its points last passed, by `at` when
    given, in a check whose verdict is committed, or None; how many of its items failed, by
    `at` when given), over points of any status."""
    passed = and_(_ITEMS.status == "passed", _COMMITTED)
    failed = _ITEMS.status == "failed"
    if at is not None:
        passed = and_(passed, _ITEMS.checked_at <= at)
        failed = and_(failed, _ITEMS.checked_at <= at)
    query = (
        select(
            _POINTS.system,
            _POINTS.dataset,
            func.max(case((passed, _ITEMS.checked_at))),
            func.sum(case((failed, 1), else_=0)),
        )
        .join_from(
            schema.verification_items,
            schema.recovery_points,
            _POINTS.id == _ITEMS.recovery_point_id,
        )
        .group_by(_POINTS.system, _POINTS.dataset)
    )
    return {
        (s, d): (passed, int(failed or 0)) for s, d, passed, failed in connection.execute(query)
    }


def rotation_coverage(
    connection: Connection, at: float | None = None
) -> dict[Key, tuple[int, int]]:
    """Return, per dataset, (its complete points, finished by `at` when given, with a copy
    present in some store — those in rotation —, how many of them an item passed in a
    committed check, by `at` when given)."""
    held = and_(_COPIES.recovery_point_id == _POINTS.id, _COPIES.status == "present")
    present = exists().where(held if at is None else and_(held, _COPIES.written_at <= at))
    checked = and_(_ITEMS.recovery_point_id == _POINTS.id, _ITEMS.status == "passed", _COMMITTED)
    passed = exists().where(checked if at is None else and_(checked, _ITEMS.checked_at <= at))
    query = (
        select(
            _POINTS.system,
            _POINTS.dataset,
            func.count(),
            func.sum(case((passed, 1), else_=0)),
        )
        .where(_complete(at), present)
        .group_by(_POINTS.system, _POINTS.dataset)
    )
    return {(s, d): (int(n), int(v or 0)) for s, d, n, v in connection.execute(query)}
