"""The snapshot `drctl status` and a /metrics scrape judge at one instant, with copies bounded
by what is held then instead of the whole history.

`read_judged` reads what `snapshot.read_snapshot` reads, but only the copies (written by `at`)
that can decide a verdict row by row: every copy of a point held somewhere at `at` (rotation's
kept generations, off-site copies of retained points, encryption of what is held, content
retention's oldest kept point), every lost or bad copy, and every copy deleted sooner than
`early_seconds` after being written (rotation's early deletions). What the rules need from the
other copies — the history of a rotation — comes as per-dataset aggregates (`CopyHistory`),
computed in SQL at the same `at` with the same comparisons the evaluators make, and read by
rules/finding.py's Context instead of rows when the snapshot carries them. Points are bounded
the same way: the points of those copies (any status) and each dataset's first and newest
complete points by `at` (ties included); counts, business dates, this year's gaps in working
days and the encrypted points come as `PointHistory` (model/point_history.py). Only reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date
from types import MappingProxyType

from sqlalchemy import ColumnElement, Connection, and_, case, func, or_, select

from orchestrator.model import schema
from orchestrator.model.point_history import read_point_history
from orchestrator.model.snapshot import (
    CopyHistory,
    CopyRow,
    PointRow,
    Snapshot,
    point_rows,
    read_snapshot,
)

_POINTS = schema.recovery_points.c
_COPIES = schema.copies.c
StoreKey = tuple[str, str, str]  # (system, dataset, store)
DatasetKey = tuple[str, str]  # (system, dataset)


def _held(at: float) -> ColumnElement[bool]:
    """The SQL condition of CopyRow.present_at(at) for a copy row of `copies`."""
    return and_(
        _COPIES.written_at <= at,
        or_(
            _COPIES.status == "present",
            and_(_COPIES.status == "deleted", _COPIES.deleted_at > at),
        ),
    )


def _kept(at: float, early_seconds: float) -> ColumnElement[bool]:
    """The copies the bounded snapshot holds as rows (see the module's docstring)."""
    held_points = select(_COPIES.recovery_point_id).where(_held(at))
    return and_(
        _COPIES.written_at <= at,
        or_(
            _COPIES.recovery_point_id.in_(held_points),
            _COPIES.status.in_(("lost", "bad")),
            and_(
                _COPIES.status == "deleted",
                _COPIES.deleted_at - _COPIES.written_at < early_seconds,
            ),
        ),
    )


def _copies(connection: Connection, at: float, early_seconds: float) -> tuple[CopyRow, ...]:
    query = (
        select(
            _COPIES.recovery_point_id,
            _COPIES.store,
            _COPIES.site,
            _COPIES.written_at,
            _COPIES.verified_at,
            _COPIES.status,
            _COPIES.deleted_at,
            _COPIES.retain_until,
            _COPIES.delete_reason,
            _COPIES.approver,
        )
        .where(_kept(at, early_seconds))
        .order_by(_COPIES.written_at)
    )
    return tuple(
        CopyRow(point, store, site, written, verified, status, deleted, keep, reason, approver)
        for point, store, site, written, verified, status, deleted, keep, reason, approver in (
            connection.execute(query).all()
        )
    )


def _points(connection: Connection, at: float, early_seconds: float) -> tuple[PointRow, ...]:
    """The points of the copies held as rows (any status), and every point that finished at
    the first or the newest finish time of its dataset's complete points by `at`."""
    dataset = (_POINTS.system, _POINTS.dataset)
    ends = (
        select(
            _POINTS.id,
            _POINTS.finished_at,
            func.min(_POINTS.finished_at).over(partition_by=dataset).label("first"),
            func.max(_POINTS.finished_at).over(partition_by=dataset).label("last"),
        )
        .where(_POINTS.status == "complete", _POINTS.finished_at <= at)
        .subquery()
    )
    at_ends = select(ends.c.id).where(
        or_(ends.c.finished_at == ends.c.first, ends.c.finished_at == ends.c.last)
    )
    of_copies = select(_COPIES.recovery_point_id).where(_kept(at, early_seconds))
    return point_rows(connection, or_(_POINTS.id.in_(at_ends), _POINTS.id.in_(of_copies)))


def _generations(connection: Connection, at: float) -> tuple[dict[StoreKey, int], set[StoreKey]]:
    query = (
        select(
            _POINTS.system,
            _POINTS.dataset,
            _COPIES.store,
            func.count(_POINTS.business_date.distinct()),
            func.max(case((_COPIES.status == "deleted", 1), else_=0)),
        )
        .join_from(schema.copies, schema.recovery_points, _POINTS.id == _COPIES.recovery_point_id)
        .where(_POINTS.status == "complete", _POINTS.finished_at <= at, _COPIES.written_at <= at)
        .group_by(_POINTS.system, _POINTS.dataset, _COPIES.store)
    )
    generations: dict[StoreKey, int] = {}
    deleted: set[StoreKey] = set()
    for system, dataset, store, count, any_deleted in connection.execute(query):
        generations[(system, dataset, store)] = int(count)
        if any_deleted:
            deleted.add((system, dataset, store))
    return generations, deleted


def _dropped(
    connection: Connection, at: float, windows: list[float]
) -> dict[float, dict[DatasetKey, tuple[int, str]]]:
    """Per window and dataset: its complete points finished less than the window before `at`
    whose copies (written by `at`) include a deleted one and none held at `at`, counted, with
    the oldest one's id by (finished_at, id). One pass over the widest window's points'
    copies, grouped by point: every window ends at `at`, so the points within a narrower one
    are the newest of the widest one's, and its oldest is the one ranked (in oldest-first
    order) at the widest one's count less its own, plus one."""
    if not windows:
        return {}
    held = case((_held(at), 1), else_=0)
    deleted = case((_COPIES.status == "deleted", 1), else_=0)
    dropped = (
        select(_POINTS.system, _POINTS.dataset, _POINTS.id, _POINTS.finished_at)
        .join_from(
            schema.recovery_points,
            schema.copies,
            and_(_COPIES.recovery_point_id == _POINTS.id, _COPIES.written_at <= at),
        )
        .where(
            _POINTS.status == "complete",
            _POINTS.finished_at <= at,
            at - _POINTS.finished_at < max(windows),
        )
        .group_by(_POINTS.id, _POINTS.system, _POINTS.dataset, _POINTS.finished_at)
        .having(and_(func.max(held) == 0, func.max(deleted) == 1))
        .subquery()
    )
    key = (dropped.c.system, dropped.c.dataset)
    within = [
        func.count(case((at - dropped.c.finished_at < window, 1)))
        .over(partition_by=key)
        .label(f"within_{index}")
        for index, window in enumerate(windows)
    ]
    ranked = select(
        dropped.c.system,
        dropped.c.dataset,
        dropped.c.id,
        func.row_number()
        .over(partition_by=key, order_by=(dropped.c.finished_at, dropped.c.id))
        .label("rank"),
        func.count().over(partition_by=key).label("dropped"),
        *within,
    ).subquery()
    oldest = [
        ranked.c.rank == ranked.c.dropped - ranked.c[f"within_{index}"] + 1
        for index in range(len(windows))
    ]
    found: dict[float, dict[DatasetKey, tuple[int, str]]] = {window: {} for window in windows}
    for row in connection.execute(select(ranked).where(or_(*oldest))):
        for index, window in enumerate(windows):
            count = int(row._mapping[f"within_{index}"])
            if row.rank == row.dropped - count + 1:  # never for a count of 0
                found[window][(row.system, row.dataset)] = (count, row.id)
    return found


def read_history(connection: Connection, at: float, windows: Iterable[float]) -> CopyHistory:
    """Given a connection, a time and the content rules' windows (seconds), return the
    per-dataset aggregates of every copy written by `at` (see CopyHistory)."""
    generations, deleted = _generations(connection, at)
    dropped = {
        window: MappingProxyType(found)
        for window, found in _dropped(connection, at, sorted(set(windows))).items()
    }
    return CopyHistory(
        at, MappingProxyType(generations), frozenset(deleted), MappingProxyType(dropped)
    )


def read_judged(
    connection: Connection,
    at: float,
    early_seconds: float,
    windows: Iterable[float],
    dates: tuple[date, int, Mapping[date, int] | None],
) -> Snapshot:
    """Given an open connection, the instant to judge, rotation's early-deletion bound, the
    content rules' windows (seconds) and backup.full_interval's (business date of `at`,
    limit, the calendar's working-day numbers of that year: model/point_history.py), return
    the snapshot with points and copies bounded as the module says and the rest of their
    history as aggregates."""
    today, limit, ordinals = dates
    return replace(
        read_snapshot(connection, bounded=True),
        points=_points(connection, at, early_seconds),
        copies=_copies(connection, at, early_seconds),
        copy_history=read_history(connection, at, windows),
        point_history=read_point_history(connection, at, today, limit, ordinals),
    )
