"""A read-once snapshot of the catalog rows the rule evaluators and the scheduler judge.

`load_snapshot` reads recovery points, copies, verifications (with the systems their items
touch), drills and jobs in one transaction and returns frozen values, so every evaluator is a
pure function of (config, rule pack, calendar, snapshot, time). Other modules (e.g. the network
outage ledger) add their own rows with `register_snapshot_part`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from orchestrator.model import catalog as cat

if TYPE_CHECKING:
    from orchestrator.model.catalog import Catalog

logger = logging.getLogger(__name__)

SnapshotPart = Callable[[Connection], Any]
_EXTRA_PARTS: dict[str, SnapshotPart] = {}


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class JobRow:
    """One job of the job table (scheduler passes, backups, copies …)."""

    id: int
    kind: str
    subject: str
    state: str  # running | succeeded | failed
    started_at: float
    finished_at: float | None = None
    error: str | None = None


@dataclass(frozen=True)
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
class Snapshot:
    """The catalog as read at `taken_at` (UTC epoch seconds), rows ordered by time."""

    taken_at: float
    points: tuple[PointRow, ...] = ()
    copies: tuple[CopyRow, ...] = ()
    verifications: tuple[VerificationRow, ...] = ()
    drills: tuple[DrillRow, ...] = ()
    jobs: tuple[JobRow, ...] = ()
    failures: tuple[FailureRow, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def copies_by_point(self) -> dict[str, list[CopyRow]]:
        """Return the copies grouped by recovery point id."""
        grouped: dict[str, list[CopyRow]] = {}
        for copy in self.copies:
            grouped.setdefault(copy.recovery_point_id, []).append(copy)
        return grouped


def register_snapshot_part(name: str, loader: SnapshotPart) -> None:
    """Given a name and a function reading rows from a catalog connection, make every later
    snapshot carry its result in `Snapshot.extra[name]`."""
    _EXTRA_PARTS[name] = loader


def load_snapshot(runtime: Any) -> Snapshot:
    """Given a Runtime (anything with a `.catalog`), return a snapshot of its catalog."""
    return read_catalog(runtime.catalog)


def read_catalog(catalog: Catalog) -> Snapshot:
    """Given a catalog, read every row the evaluators need once and return the snapshot."""
    from orchestrator.rules.evaluate import load_plugins

    load_plugins()  # plugins register their snapshot parts on import
    taken_at = cat.now()
    with catalog.begin() as connection:
        points = tuple(_point(row) for row in cat.list_recovery_points(connection))
        copies = tuple(_copy(row) for row in cat.list_copies(connection))
        systems_by_verification = _verification_systems(connection)
        verifications = tuple(
            _verification(row, systems_by_verification.get(row.id, frozenset()))
            for row in connection.execute(
                select(cat.verifications).order_by(cat.verifications.c.started_at)
            )
        )
        drills = tuple(
            DrillRow(
                row.id,
                row.scenario,
                row.started_at,
                row.finished_at,
                row.status,
                row.failover_ok,
                row.failback_ok,
                row.evidence_path,
            )
            for row in connection.execute(select(cat.drills).order_by(cat.drills.c.started_at))
        )
        jobs = tuple(
            JobRow(
                row.id, row.kind, row.subject, row.state, row.started_at, row.finished_at, row.error
            )
            for row in connection.execute(select(cat.jobs).order_by(cat.jobs.c.id))
        )
        failures = tuple(
            FailureRow(
                row.recovery_point_id,
                row.system,
                row.dataset,
                row.store,
                row.file,
                row.kind,
                row.detected_at,
                row.resolved_at,
            )
            for row in connection.execute(
                select(cat.integrity_failures).order_by(cat.integrity_failures.c.detected_at)
            )
        )
        extra = {name: loader(connection) for name, loader in _EXTRA_PARTS.items()}
    return Snapshot(
        taken_at,
        points,
        copies,
        verifications,
        drills,
        jobs,
        failures,
        MappingProxyType(extra),
    )


def _point(row: Any) -> PointRow:
    return PointRow(
        row.id,
        row.system,
        row.dataset,
        date.fromisoformat(row.business_date),
        row.started_at,
        row.finished_at,
        row.source_site,
        row.status,
        row.total_bytes or 0,
    )


def _copy(row: Any) -> CopyRow:
    return CopyRow(
        row.recovery_point_id,
        row.store,
        row.site,
        row.written_at,
        row.verified_at,
        row.status,
        row.deleted_at,
        row.retain_until,
        row.delete_reason,
        row.approver,
    )


def _verification(row: Any, systems: frozenset[str]) -> VerificationRow:
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
    query = select(cat.verification_items.c.verification_id, cat.recovery_points.c.system).join(
        cat.recovery_points,
        cat.recovery_points.c.id == cat.verification_items.c.recovery_point_id,
    )
    grouped: dict[str, set[str]] = {}
    for verification_id, system in connection.execute(query):
        grouped.setdefault(verification_id, set()).add(system)
    return {key: frozenset(value) for key, value in grouped.items()}
