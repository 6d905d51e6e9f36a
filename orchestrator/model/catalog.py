"""The catalog: an index of recovery points, copies, checks, drills, jobs and outages.

SQLAlchemy Core over SQLite by default, PostgreSQL when several orchestrator nodes share it.
The stores are the truth; the catalog can be rebuilt from them. Times are UTC epoch seconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Row, and_, create_engine, event, insert, select, update
from sqlalchemy.engine import Engine

from orchestrator.model.catalog_errors import catalog_address
from orchestrator.model.schema import (
    copies,
    recovery_points,
)

_OPENED: list[str] = []  # the URL of the catalog this process opened last


def opened_url() -> str | None:
    """Return the URL of the catalog this process opened last (None: none yet), for the error
    boundary to name the catalog of an error that does not carry it."""
    return _OPENED[-1] if _OPENED else None


def now() -> float:
    """Return the current UTC time in epoch seconds (one place, so tests can reason about it)."""
    return time.time()


def sqlite_file(url: str) -> Path | None:
    """Return the file a `sqlite:///` catalog URL names, or None for any other URL."""
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


class Catalog:
    """A connection pool to the catalog database. Opening it changes nothing: its schema is
    made and moved on only by `model.migrate.upgrade_catalog`.

    `postgresql://` URLs use psycopg 3 (`postgresql+psycopg://`)."""

    def __init__(self, url: str) -> None:
        if (file := sqlite_file(url)) is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        self.url = url
        _OPENED[:] = [url]
        self.engine: Engine = create_engine(url, future=True)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)

    @property
    def safe_url(self) -> str:
        """Return the URL with any password hidden, for messages."""
        return catalog_address(self.url)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            yield connection

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the exporter read while a job writes; busy_timeout queues concurrent writers.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# -- recovery points and copies ------------------------------------------------------------


def record_recovery_point(connection: Connection, row: Mapping[str, Any]) -> None:
    connection.execute(insert(recovery_points).values(**row))


def record_copy(
    connection: Connection,
    recovery_point_id: str,
    store: str,
    site: str,
    *,
    written_at: float,
    verified_at: float | None,
    retain_until: float | None = None,
) -> None:
    """Insert or refresh the copy of a recovery point in a store (present, verified)."""
    existing = connection.execute(
        select(copies.c.id).where(
            and_(copies.c.recovery_point_id == recovery_point_id, copies.c.store == store)
        )
    ).first()
    values = {
        "site": site,
        "written_at": written_at,
        "verified_at": verified_at,
        "retain_until": retain_until,
        "status": "present",
        "deleted_at": None,
        "delete_reason": None,
    }
    if existing:
        connection.execute(update(copies).where(copies.c.id == existing.id).values(**values))
    else:
        connection.execute(
            insert(copies).values(recovery_point_id=recovery_point_id, store=store, **values)
        )


def mark_copy(
    connection: Connection,
    recovery_point_id: str,
    store: str,
    status: str,
    *,
    reason: str | None = None,
    approver: str | None = None,
) -> None:
    values: dict[str, Any] = {"status": status, "delete_reason": reason, "approver": approver}
    if status == "deleted":
        values["deleted_at"] = now()
    connection.execute(
        update(copies)
        .where(and_(copies.c.recovery_point_id == recovery_point_id, copies.c.store == store))
        .values(**values)
    )


def copy_status(connection: Connection, recovery_point_id: str, store: str) -> str | None:
    """Return the status of a point's copy row in store (present, deleted, bad), or None."""
    status: str | None = connection.execute(
        select(copies.c.status).where(
            and_(copies.c.recovery_point_id == recovery_point_id, copies.c.store == store)
        )
    ).scalar()
    return status


def mark_recovery_point(connection: Connection, recovery_point_id: str, **values: Any) -> None:
    connection.execute(
        update(recovery_points).where(recovery_points.c.id == recovery_point_id).values(**values)
    )


def list_recovery_points(
    connection: Connection, *, system: str | None = None, dataset: str | None = None
) -> list[Any]:
    query = select(recovery_points).order_by(recovery_points.c.finished_at)
    if system:
        query = query.where(recovery_points.c.system == system)
    if dataset:
        query = query.where(recovery_points.c.dataset == dataset)
    return list(connection.execute(query))


def recorded_point_ids(connection: Connection, system: str) -> set[str]:
    """Return the ids of every recovery point of system the catalog records."""
    query = select(recovery_points.c.id).where(recovery_points.c.system == system)
    return set(connection.execute(query).scalars())


def get_recovery_point(connection: Connection, recovery_point_id: str) -> Row[Any] | None:
    return connection.execute(
        select(recovery_points).where(recovery_points.c.id == recovery_point_id)
    ).first()


def recorded_in_store(
    connection: Connection, store: str, system: str, dataset: str | None = None
) -> list[tuple[str, str]]:
    """Return (dataset, point id) of every point of system (or of one dataset) with a copy row
    in store that is `present` or `bad`: one query, whatever the number of datasets."""
    query = (
        select(recovery_points.c.dataset, copies.c.recovery_point_id)
        .join(recovery_points, recovery_points.c.id == copies.c.recovery_point_id)
        .where(
            copies.c.store == store,
            copies.c.status.in_(("present", "bad")),
            recovery_points.c.system == system,
        )
    )
    if dataset is not None:
        query = query.where(recovery_points.c.dataset == dataset)
    return [(row.dataset, row.recovery_point_id) for row in connection.execute(query)]


def verified_in_store(connection: Connection, store: str, system: str) -> set[str]:
    """Return the ids of system's points with a present, verified copy in store."""
    query = (
        select(copies.c.recovery_point_id)
        .join(recovery_points, recovery_points.c.id == copies.c.recovery_point_id)
        .where(
            copies.c.store == store,
            copies.c.status == "present",
            copies.c.verified_at.is_not(None),
            recovery_points.c.system == system,
        )
    )
    return set(connection.execute(query).scalars())


def list_copies(connection: Connection, recovery_point_id: str | None = None) -> list[Any]:
    query = select(copies).order_by(copies.c.written_at)
    if recovery_point_id:
        query = query.where(copies.c.recovery_point_id == recovery_point_id)
    return list(connection.execute(query))
