"""Bad recovery points and the S3 versions drctl wrote: the catalog side of trust.

A digest, fingerprint or invariant mismatch anywhere (verify, verify --all, restore,
copy-offsite, a drill) is recorded here as an integrity failure: the recovery point is marked
`bad` for good (nothing ever sets it back), the copy it was read from too, and the failure stays
*open* until `drctl verify --recheck` has verified a newer good point of the same dataset
(requirements.md A5). The same failure found again is not recorded twice.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, insert, select, update

from orchestrator.model import schema


@dataclass(frozen=True)
class Failure:
    """One mismatch in one copy of a recovery point: the file (a path under data/,
    `manifest.json`, or `(table) name` / `(invariant) name`) and both values."""

    recovery_point_id: str
    system: str
    dataset: str
    store: str
    file: str
    kind: str
    expected: str
    actual: str

    def describe(self) -> str:
        return (
            f"{self.store}: {self.system}/{self.dataset}/{self.recovery_point_id}: {self.file}: "
            f"{self.kind}: expected {self.expected}, actual {self.actual}"
        )

    def as_dict(self) -> dict[str, str]:
        return {
            "recovery_point": self.recovery_point_id,
            "system": self.system,
            "dataset": self.dataset,
            "store": self.store,
            "file": self.file,
            "kind": self.kind,
            "expected": self.expected,
            "actual": self.actual,
        }


def _clip(text: str) -> str:
    return text if len(text) <= 2000 else text[:1997] + "..."


def mark_point_bad(connection: Connection, recovery_point_id: str, store: str, reason: str) -> None:
    """Mark a recovery point bad for good, and its copy in store bad."""
    connection.execute(
        update(schema.recovery_points)
        .where(schema.recovery_points.c.id == recovery_point_id)
        .values(status="bad")
    )
    connection.execute(
        update(schema.copies)
        .where(
            and_(
                schema.copies.c.recovery_point_id == recovery_point_id,
                schema.copies.c.store == store,
                schema.copies.c.status.in_(("present", "bad")),
            )
        )
        .values(status="bad", delete_reason=_clip(reason))
    )


def attach_evidence(
    connection: Connection, detected_by: str, evidence_path: str, evidence_manifest_sha256: str
) -> None:
    """Add a check's evidence package to the failures it recorded (`detected_by`) before the
    package existed: bad marks are committed first, so a check killed before its evidence
    still leaves its points bad."""
    table = schema.integrity_failures
    connection.execute(
        table.update()
        .where(table.c.detected_by == detected_by, table.c.evidence_path.is_(None))
        .values(evidence_path=evidence_path, evidence_manifest_sha256=evidence_manifest_sha256)
    )


def record_failures(
    connection: Connection,
    failures: Iterable[Failure],
    *,
    detected_by: str,
    at: float,
    evidence_path: str | None = None,
    evidence_manifest_sha256: str | None = None,
) -> list[Failure]:
    """Record failures (marking each point and copy bad); return those not recorded before."""
    new = []
    for failure in failures:
        mark_point_bad(
            connection, failure.recovery_point_id, failure.store, f"{detected_by}: {failure.kind}"
        )
        table = schema.integrity_failures.c
        known = connection.execute(
            select(table.id).where(
                table.recovery_point_id == failure.recovery_point_id,
                table.store == failure.store,
                table.file == _clip(failure.file),
                table.kind == failure.kind,
                table.expected == _clip(failure.expected),
                table.actual == _clip(failure.actual),
            )
        ).first()
        if known is not None:
            continue
        connection.execute(
            insert(schema.integrity_failures).values(
                recovery_point_id=failure.recovery_point_id,
                system=failure.system,
                dataset=failure.dataset,
                store=failure.store,
                file=_clip(failure.file),
                kind=failure.kind,
                expected=_clip(failure.expected),
                actual=_clip(failure.actual),
                detected_at=at,
                detected_by=detected_by,
                evidence_path=evidence_path,
                evidence_manifest_sha256=evidence_manifest_sha256,
            )
        )
        new.append(failure)
    return new


def list_failures(
    connection: Connection,
    *,
    system: str | None = None,
    dataset: str | None = None,
    open_only: bool = False,
) -> list[Any]:
    """Return integrity failure rows, oldest first (only unresolved ones with open_only)."""
    table = schema.integrity_failures
    query = select(table).order_by(table.c.detected_at, table.c.id)
    if system:
        query = query.where(table.c.system == system)
    if dataset:
        query = query.where(table.c.dataset == dataset)
    if open_only:
        query = query.where(table.c.resolved_at.is_(None))
    return list(connection.execute(query))


def resolve_failures(
    connection: Connection,
    system: str,
    dataset: str,
    *,
    by: str,
    at: float,
    points: Collection[str] | None = None,
) -> int:
    """Close the open failures of a dataset (a re-check passed): those of `points`, the bad
    points the re-check was planned for, when given (a point found bad while it ran, maybe
    newer than the point it passed, stays open); return how many."""
    table = schema.integrity_failures.c
    query = update(schema.integrity_failures).where(
        table.system == system, table.dataset == dataset, table.resolved_at.is_(None)
    )
    if points is not None:
        query = query.where(table.recovery_point_id.in_(sorted(points)))
    result = connection.execute(query.values(resolved_at=at, resolved_by=by))
    return int(result.rowcount or 0)


def bad_point_ids(connection: Connection) -> set[str]:
    """Return the ids of every recovery point marked bad."""
    return {
        row.id
        for row in connection.execute(
            select(schema.recovery_points.c.id).where(schema.recovery_points.c.status == "bad")
        )
    }


# -- S3 object versions ----------------------------------------------------------------------


def record_versions(
    connection: Connection,
    recovery_point_id: str,
    store: str,
    versions: Mapping[str, str],
    *,
    at: float,
) -> None:
    """Record the version drctl wrote of each key of a point in a store (replacing a record of
    the same key, which only a re-copy of a point that was not complete there can do)."""
    table = schema.object_versions
    for key, version_id in sorted(versions.items()):
        connection.execute(table.delete().where(and_(table.c.store == store, table.c.key == key)))
        connection.execute(
            insert(table).values(
                recovery_point_id=recovery_point_id,
                store=store,
                key=key,
                version_id=version_id,
                recorded_at=at,
            )
        )


def get_versions(connection: Connection, recovery_point_id: str, store: str) -> dict[str, str]:
    """Return {key: version id} drctl recorded for a point in a store (empty if none)."""
    table = schema.object_versions.c
    return {
        row.key: row.version_id
        for row in connection.execute(
            select(table.key, table.version_id).where(
                table.recovery_point_id == recovery_point_id, table.store == store
            )
        )
    }


def open_incidents(rows: Sequence[Any]) -> dict[tuple[str, str], list[Any]]:
    """Group open failure rows by (system, dataset)."""
    grouped: dict[tuple[str, str], list[Any]] = {}
    for row in rows:
        if row.resolved_at is None:
            grouped.setdefault((row.system, row.dataset), []).append(row)
    return grouped
