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

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    and_,
    create_engine,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine

metadata = MetaData()

recovery_points = Table(
    "recovery_points",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("system", String(64), nullable=False, index=True),
    Column("dataset", String(64), nullable=False, index=True),
    Column("engine", String(32), nullable=False),
    Column("business_date", String(10), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float, nullable=False),
    Column("source_site", String(64), nullable=False),
    Column("source_host", String(255), nullable=False),
    Column("hash_algorithm", String(16), nullable=False),
    Column("manifest_sha256", String(64), nullable=False),
    Column("total_bytes", Integer, nullable=False),
    Column("file_count", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # complete | bad
    Column("last_verified_at", Float),
)

copies = Table(
    "copies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recovery_point_id", String(64), nullable=False, index=True),
    Column("store", String(64), nullable=False),
    Column("site", String(64), nullable=False),
    Column("written_at", Float, nullable=False),
    Column("verified_at", Float),
    Column("retain_until", Float),
    Column("status", String(16), nullable=False),  # present | deleted | bad
    Column("deleted_at", Float),
    Column("delete_reason", String(500)),
    Column("approver", String(255)),
    UniqueConstraint("recovery_point_id", "store", name="uq_copy_point_store"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("state", String(16), nullable=False),  # running | succeeded | failed | aborted
    Column("lock_key", String(300), unique=True),  # set only while running: the lease
    Column("owner", String(255), nullable=False),
    # the lease (model/lease.py): who holds it, renewed until lease_expires_at
    Column("holder_user", String(64)),
    Column("holder_host", String(255)),
    Column("holder_pid", Integer),
    Column("holder_start", Integer),
    Column("lease_expires_at", Float),
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float),
    Column("error", String(2000)),
    Column("detail", JSON),
)

verifications = Table(
    "verifications",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),  # sample | all | drill
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float),
    Column("status", String(16), nullable=False),  # running | passed | failed | aborted
    Column("counted", Boolean, nullable=False, default=False),
    Column("seed", String(128)),
    Column("population_points", Integer),
    Column("population_bytes", Integer),
    Column("sample_points", Integer),
    Column("sample_bytes", Integer),
    Column("evidence_path", String(1000)),
    Column("evidence_manifest_sha256", String(64)),
    Column("detail", JSON),
)

verification_items = Table(
    "verification_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("verification_id", String(64), nullable=False, index=True),
    Column("recovery_point_id", String(64), nullable=False, index=True),
    Column("store", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # passed | failed
    Column("checked_at", Float, nullable=False),
    Column("detail", JSON),
)

# A digest, fingerprint or invariant mismatch found in a recovery point (docs/verification.md
# "Bad points"). Rows are never deleted: the point stays bad for good; `resolved_*` is set when
# a newer good point of the dataset passed `drctl verify --recheck` (requirements.md A5).
integrity_failures = Table(
    "integrity_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recovery_point_id", String(64), nullable=False, index=True),
    Column("system", String(64), nullable=False),
    Column("dataset", String(64), nullable=False),
    Column("store", String(64), nullable=False),
    Column("file", String(1000), nullable=False),  # path under data/, manifest.json, (table) t
    Column("kind", String(32), nullable=False),
    Column("expected", String(2000), nullable=False),
    Column("actual", String(2000), nullable=False),
    Column("detected_at", Float, nullable=False),
    Column("detected_by", String(200), nullable=False),  # e.g. verify-all:<id>, restore:<purpose>
    Column("evidence_path", String(1000)),
    Column("evidence_manifest_sha256", String(64)),
    Column("resolved_at", Float),
    Column("resolved_by", String(200)),
)

# The S3 object version drctl wrote for each key of a recovery point in each store: verify and
# restore read that version, whatever was put or deleted over the key later (docs/stores.md).
object_versions = Table(
    "object_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recovery_point_id", String(64), nullable=False, index=True),
    Column("store", String(64), nullable=False),
    Column("key", String(1000), nullable=False),
    Column("version_id", String(1024), nullable=False),
    Column("recorded_at", Float, nullable=False),
    UniqueConstraint("store", "key", name="uq_object_version_store_key"),
)

drills = Table(
    "drills",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("scenario", String(128), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float),
    Column("status", String(16), nullable=False),  # running | passed | failed | aborted
    Column("rto_seconds", Float),
    Column("rpo_seconds", Float),
    Column("failover_ok", Boolean),
    Column("failback_ok", Boolean),
    Column("evidence_path", String(1000)),
    Column("evidence_manifest_sha256", String(64)),
    Column("detail", JSON),
)

# Scratch areas: places that hold customer data or partial writes only while a job runs (a
# dump in a host's spool, a restore in the enclave, a scratch database, a recovery point being
# written to a store). Journalled before the first byte, deleted once cleaned; a row whose
# holder died is cleaned by the next run (actions/scratch.py) and the cleaning recorded as a job.
scratch_areas = Table(
    "scratch_areas",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # host_path | database | store_prefix
    Column("place", String(255), nullable=False),  # inventory host or store name
    Column("location", String(1000), nullable=False),  # path, database name or key prefix
    Column("detail", JSON),  # what cleaning needs (the engine item of a database)
    Column("job", String(300), nullable=False),  # kind:subject of the job that made it
    Column("holder_user", String(64), nullable=False),
    Column("holder_host", String(255), nullable=False),
    Column("holder_pid", Integer, nullable=False),
    Column("holder_start", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
)

# Planned switchovers that went through the 第十条 notice check (`drctl plan switchover
# --record`); a switchover scenario runs only inside the window of a passing one.
switchover_plans = Table(
    "switchover_plans",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("system", String(64), nullable=False, index=True),
    Column("start_date", String(10), nullable=False),
    Column("end_date", String(10), nullable=False),
    Column("notice_date", String(10), nullable=False),
    Column("convention", String(16), nullable=False),
    Column("emergency_channel", String(500)),
    Column("status", String(16), nullable=False),  # the switchover.notice verdict
    Column("recorded_at", Float, nullable=False),
    Column("recorded_by", String(255), nullable=False),
    Column("verdict", JSON),
)


def now() -> float:
    """Return the current UTC time in epoch seconds (one place, so tests can reason about it)."""
    return time.time()


class Catalog:
    """A connection pool to the catalog database; tables are created on first open."""

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.url = url
        self.engine: Engine = create_engine(url, future=True)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        metadata.create_all(self.engine)
        add_missing_columns(self.engine)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            yield connection

    def close(self) -> None:
        self.engine.dispose()


def add_missing_columns(engine: Engine) -> None:
    """Add the nullable columns a catalog made by an older drctl lacks (the job lease's holder
    and expiry), so it keeps working after an upgrade. Stands in until the catalog has
    migrations; never drops or changes a column."""
    from sqlalchemy import inspect, text

    inspector = inspect(engine)
    with engine.begin() as connection:
        for table in metadata.sorted_tables:
            present = {column["name"] for column in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name not in present and column.nullable:
                    kind = column.type.compile(dialect=engine.dialect)
                    connection.execute(
                        text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}')
                    )


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


def get_recovery_point(connection: Connection, recovery_point_id: str) -> Any:
    return connection.execute(
        select(recovery_points).where(recovery_points.c.id == recovery_point_id)
    ).first()


def list_copies(connection: Connection, recovery_point_id: str | None = None) -> list[Any]:
    query = select(copies).order_by(copies.c.written_at)
    if recovery_point_id:
        query = query.where(copies.c.recovery_point_id == recovery_point_id)
    return list(connection.execute(query))
