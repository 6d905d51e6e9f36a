"""A read-once snapshot of the catalog rows the rule evaluators and the scheduler judge.

`read_catalog` reads recovery points, copies, verifications (with the systems their items
touch), drills, jobs, integrity failures and the network outage ledger in one transaction and
returns frozen values, so every evaluator is a pure function of (config, rule pack, calendar,
snapshot, time). It only reads: it never creates or alters a table.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, select

from orchestrator.model import catalog as cat
from orchestrator.model import schema
from orchestrator.model.catalog import Catalog
from orchestrator.model.link_probe import ProbeRow
from orchestrator.model.outage_records import PathHistory
from orchestrator.model.outages import read_ledger
from orchestrator.model.replication import load_probes
from orchestrator.model.restore_times import RestoreTiming, load_timings
from orchestrator.model.switchover_plans import PlanRow, load_plans

logger = logging.getLogger(__name__)
# Replication probes older than this are not read (a year of the mirroring SLI and a margin).
REPLICATION_HISTORY_SECONDS = 400 * 86400


@dataclass(frozen=True, slots=True)
class PointRow:
    """One recovery point (a full backup of one dataset)."""

    id: str
    system: str
    dataset: str
    business_date: date
    started_at: float
    finished_at: float
    source_site: str
    status: str  # complete | bad
    total_bytes: int = 0
    cipher: str | None = None  # the data cipher of an encrypted point; None = stored in clear


@dataclass(frozen=True, slots=True)
class CopyRow:
    """One copy of a recovery point in one store."""

    recovery_point_id: str
    store: str
    site: str
    written_at: float
    verified_at: float | None
    status: str  # present | deleted | lost | bad
    deleted_at: float | None = None
    retain_until: float | None = None
    delete_reason: str | None = None
    approver: str | None = None

    def present_at(self, moment: float) -> bool:
        """Given a time, return whether this copy existed then (written, not yet deleted)."""
        if self.written_at > moment:
            return False
        if self.status == "present":
            return True
        return self.status == "deleted" and self.deleted_at is not None and self.deleted_at > moment


@dataclass(frozen=True, slots=True)
class VerificationRow:
    """One validity check or integrity scan; `systems` are those its items touched."""

    id: str
    kind: str
    started_at: float
    finished_at: float | None
    status: str
    counted: bool
    population_points: int | None = None
    population_bytes: int | None = None
    sample_points: int | None = None
    sample_bytes: int | None = None
    evidence_path: str | None = None
    systems: frozenset[str] = frozenset()


@dataclass(frozen=True)
class DrillRow:
    """One drill run."""

    id: str
    scenario: str
    started_at: float
    finished_at: float | None
    status: str
    failover_ok: bool | None = None
    failback_ok: bool | None = None
    evidence_path: str | None = None
    system: str | None = None  # the scenario's system (None: recorded before it was kept)
    rto_seconds: float | None = None
    rpo_seconds: float | None = None
    objectives: Mapping[str, float | None] = field(default_factory=dict)  # rto/rpo_seconds


@dataclass(frozen=True, slots=True)
class JobRow:
    """One job of the job table (scheduler passes, backups, copies …)."""

    id: int
    kind: str
    subject: str
    state: str  # running | succeeded | failed
    started_at: float
    finished_at: float | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class FailureRow:
    """One integrity failure of a recovery point (model/integrity.py); open while resolved_at
    is None."""

    recovery_point_id: str
    system: str
    dataset: str
    store: str
    file: str
    kind: str
    detected_at: float
    resolved_at: float | None = None

    def open_at(self, moment: float) -> bool:
        """Given a time, return whether the failure was known and not yet resolved then."""
        return self.detected_at <= moment and (
            self.resolved_at is None or self.resolved_at > moment
        )


@dataclass(frozen=True)
class CopyHistory:
    """Per-dataset aggregates over every copy written by `at` of a complete point finished by
    `at` (model/judged_snapshot.py): what the evaluators would otherwise count from all rows."""

    at: float
    generations: Mapping[tuple[str, str, str], int]  # (system, dataset, store) → dates written
    deleted: frozenset[tuple[str, str, str]]  # stores where a copy of the dataset is deleted
    # window seconds → (system, dataset) → (points finished less than the window before `at`,
    # held nowhere at `at`, with a deleted copy: how many, the oldest's id by (finished_at, id))
    dropped: Mapping[float, Mapping[tuple[str, str], tuple[int, str]]]


@dataclass(frozen=True, slots=True)
class DatasetDates:
    """One dataset's complete points finished by PointHistory.at, aggregated."""

    count: int  # how many
    last: date | None  # the newest business date by PointHistory.today
    before: date | None  # the newest business date before 1 January of today's year
    first: date | None  # the oldest business date this year, by today
    dates: int  # distinct business dates this year, by today
    # this year's gaps between consecutive business dates (from, to, working days) that are
    # the first longest or over PointHistory.limit, in date order (not the one from `before`)
    gaps: tuple[tuple[date, date, int], ...] = ()


@dataclass(frozen=True)
class PointHistory:
    """Per-dataset aggregates over the complete points finished by `at` (model/point_history.py):
    what the evaluators would otherwise count from every point row."""

    at: float
    today: date  # the business date of `at`
    limit: int  # backup.full_interval's max_working_days the gaps were chosen by
    counted: bool  # False: the calendar has no data for today's year, so no gap is counted
    encrypted: int  # points of any status and time with a cipher
    datasets: Mapping[tuple[str, str], DatasetDates]


@dataclass(frozen=True)
class Snapshot:
    """The catalog as read at `taken_at` (UTC epoch seconds), rows ordered by time."""

    taken_at: float
    points: tuple[PointRow, ...] = ()
    copies: tuple[CopyRow, ...] = ()
    verifications: tuple[VerificationRow, ...] = ()
    drills: tuple[DrillRow, ...] = ()
    jobs: tuple[JobRow, ...] = ()
    failures: tuple[FailureRow, ...] = ()
    network: Mapping[str, PathHistory] = field(default_factory=lambda: MappingProxyType({}))
    replication_probes: tuple[ProbeRow, ...] = ()  # the last REPLICATION_HISTORY_SECONDS
    restore_timings: tuple[RestoreTiming, ...] = ()
    switchover_plans: tuple[PlanRow, ...] = ()
    # Set by model/judged_snapshot.py: `copies` then holds only the copies that decide a
    # verdict row by row at copy_history.at, and the rest of their history is aggregated here.
    copy_history: CopyHistory | None = None
    # Set with copy_history: `points` then holds only the points of those copies and each
    # dataset's first and newest complete point; the rest is aggregated here.
    point_history: PointHistory | None = None

    def copies_by_point(self) -> dict[str, list[CopyRow]]:
        """Return the copies grouped by recovery point id."""
        grouped: dict[str, list[CopyRow]] = {}
        for copy in self.copies:
            grouped.setdefault(copy.recovery_point_id, []).append(copy)
        return grouped


def read_catalog(catalog: Catalog) -> Snapshot:
    """Given a catalog, read every row the evaluators need once and return the snapshot."""
    with catalog.begin() as connection:
        return read_snapshot(connection)


def read_snapshot(connection: Connection, *, bounded: bool = False) -> Snapshot:
    """Given an open connection (and its transaction, with what it has written so far),
    read every row the evaluators need once and return the snapshot (without points and
    copies when `bounded`: model/judged_snapshot.py reads its own)."""
    taken_at = cat.now()
    points = () if bounded else point_rows(connection)
    copy_rows = () if bounded else _copies(connection)
    systems_by_verification = _verification_systems(connection)
    verifications = tuple(
        _verification(row, systems_by_verification.get(row.id, frozenset()))
        for row in connection.execute(
            select(schema.verifications).order_by(schema.verifications.c.started_at)
        )
    )
    drills = tuple(
        _drill(row)
        for row in connection.execute(select(schema.drills).order_by(schema.drills.c.started_at))
    )
    jobs = tuple(
        _job(row) for row in connection.execute(select(schema.jobs).order_by(schema.jobs.c.id))
    )
    failures = tuple(
        _failure(row, taken_at)
        for row in connection.execute(
            select(schema.integrity_failures).order_by(schema.integrity_failures.c.detected_at)
        )
    )
    network = read_ledger(connection)
    replication_probes = tuple(
        load_probes(connection, since=taken_at - REPLICATION_HISTORY_SECONDS)
    )
    restore_timings = tuple(load_timings(connection))
    plans = tuple(load_plans(connection))
    return Snapshot(
        taken_at,
        points,
        copy_rows,
        verifications,
        drills,
        jobs,
        failures,
        MappingProxyType(network),
        replication_probes,
        restore_timings,
        plans,
    )


def _drill(row: Row[Any]) -> DrillRow:
    return DrillRow(
        row.id,
        row.scenario,
        row.started_at,
        row.finished_at,
        row.status,
        row.failover_ok,
        row.failback_ok,
        row.evidence_path,
        (row.detail or {}).get("system"),
        row.rto_seconds,
        row.rpo_seconds,
        (row.detail or {}).get("objectives") or {},
    )


def _job(row: Row[Any]) -> JobRow:
    return JobRow(
        row.id, row.kind, row.subject, row.state, row.started_at, row.finished_at, row.error
    )


# How long before the reading a failure dated after it counts as detected: a command judges as
# of the moment it started, just before it reads.
AHEAD_DETECTED_SECONDS = 60.0


def believed_detected_at(detected_at: float, read_at: float) -> float:
    """Given a failure's recorded detection time and when it was read, return when to take it
    as detected: a failure dated after the reading (a node whose clock runs ahead wrote it) is
    taken as detected just before the reading. A bad mark is believed whatever its date, never
    hidden until the clock catches up; a resolution dated ahead is not yet in force, which
    keeps its failure open."""
    return detected_at if detected_at <= read_at else read_at - AHEAD_DETECTED_SECONDS


def _failure(row: Row[Any], taken_at: float) -> FailureRow:
    return FailureRow(
        row.recovery_point_id,
        row.system,
        row.dataset,
        row.store,
        row.file,
        row.kind,
        believed_detected_at(row.detected_at, taken_at),
        row.resolved_at,
    )


def point_rows(
    connection: Connection, where: ColumnElement[bool] | None = None
) -> tuple[PointRow, ...]:
    """Every recovery point (those matching `where` when given), oldest finish first: only
    the columns a PointRow holds, fetched at once (the catalog's order, as
    cat.list_recovery_points)."""
    table = schema.recovery_points.c
    query = select(
        table.id,
        table.system,
        table.dataset,
        table.business_date,
        table.started_at,
        table.finished_at,
        table.source_site,
        table.status,
        table.total_bytes,
        table.cipher,
    ).order_by(table.finished_at)
    if where is not None:
        query = query.where(where)
    parse = date.fromisoformat
    return tuple(
        PointRow(i, sy, ds, parse(day), start, end, site, status, size or 0, cipher)
        for i, sy, ds, day, start, end, site, status, size, cipher in connection.execute(
            query
        ).all()
    )


def _copies(connection: Connection) -> tuple[CopyRow, ...]:
    """Every copy, oldest write first (the order of cat.list_copies), fetched at once."""
    table = schema.copies.c
    query = select(
        table.recovery_point_id,
        table.store,
        table.site,
        table.written_at,
        table.verified_at,
        table.status,
        table.deleted_at,
        table.retain_until,
        table.delete_reason,
        table.approver,
    ).order_by(table.written_at)
    return tuple(
        CopyRow(point, store, site, written, verified, status, deleted, keep, reason, approver)
        for point, store, site, written, verified, status, deleted, keep, reason, approver in (
            connection.execute(query).all()
        )
    )


def _verification(row: Row[Any], systems: frozenset[str]) -> VerificationRow:
    return VerificationRow(
        row.id,
        row.kind,
        row.started_at,
        row.finished_at,
        row.status,
        bool(row.counted),
        row.population_points,
        row.population_bytes,
        row.sample_points,
        row.sample_bytes,
        row.evidence_path,
        systems,
    )


def _verification_systems(connection: Connection) -> dict[str, frozenset[str]]:
    query = select(
        schema.verification_items.c.verification_id, schema.recovery_points.c.system
    ).join(
        schema.recovery_points,
        schema.recovery_points.c.id == schema.verification_items.c.recovery_point_id,
    )
    grouped: dict[str, set[str]] = {}
    for verification_id, system in connection.execute(query):
        grouped.setdefault(verification_id, set()).add(system)
    return {key: frozenset(value) for key, value in grouped.items()}
