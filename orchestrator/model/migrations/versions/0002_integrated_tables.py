"""The tables and columns the integrated branches added before migrations reached them: the
job lease (who holds a running job, until when), bad points (integrity_failures), the S3
object version of every stored key (object_versions), scratch areas (the journal of places
holding data only while a job runs) and recorded switchover plans.

A catalog made before migrations by a drctl that already had them (their tables made by
`create_all`, the lease columns added at open) has some or all of these; this revision adds
only what it lacks, so such a catalog upgrades in place and keeps its rows.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# the job lease (model/lease.py), all nullable: a job row from before has no holder
LEASE_COLUMNS = (
    ("holder_user", sa.String(64)),
    ("holder_host", sa.String(255)),
    ("holder_pid", sa.Integer),
    ("holder_start", sa.Integer),
    ("lease_expires_at", sa.Float),
)


def _integrity_failures() -> None:
    op.create_table(
        "integrity_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("recovery_point_id", sa.String(64), nullable=False),
        sa.Column("system", sa.String(64), nullable=False),
        sa.Column("dataset", sa.String(64), nullable=False),
        sa.Column("store", sa.String(64), nullable=False),
        sa.Column("file", sa.String(1000), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("expected", sa.String(2000), nullable=False),
        sa.Column("actual", sa.String(2000), nullable=False),
        sa.Column("detected_at", sa.Float, nullable=False),
        sa.Column("detected_by", sa.String(200), nullable=False),
        sa.Column("evidence_path", sa.String(1000)),
        sa.Column("evidence_manifest_sha256", sa.String(64)),
        sa.Column("resolved_at", sa.Float),
        sa.Column("resolved_by", sa.String(200)),
    )
    op.create_index(
        "ix_integrity_failures_recovery_point_id", "integrity_failures", ["recovery_point_id"]
    )


def _object_versions() -> None:
    op.create_table(
        "object_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("recovery_point_id", sa.String(64), nullable=False),
        sa.Column("store", sa.String(64), nullable=False),
        sa.Column("key", sa.String(1000), nullable=False),
        sa.Column("version_id", sa.String(1024), nullable=False),
        sa.Column("recorded_at", sa.Float, nullable=False),
        sa.UniqueConstraint("store", "key", name="uq_object_version_store_key"),
    )
    op.create_index(
        "ix_object_versions_recovery_point_id", "object_versions", ["recovery_point_id"]
    )


def _scratch_areas() -> None:
    op.create_table(
        "scratch_areas",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("place", sa.String(255), nullable=False),
        sa.Column("location", sa.String(1000), nullable=False),
        sa.Column("detail", sa.JSON),
        sa.Column("job", sa.String(300), nullable=False),
        sa.Column("holder_user", sa.String(64), nullable=False),
        sa.Column("holder_host", sa.String(255), nullable=False),
        sa.Column("holder_pid", sa.Integer, nullable=False),
        sa.Column("holder_start", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )


def _switchover_plans() -> None:
    op.create_table(
        "switchover_plans",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("system", sa.String(64), nullable=False),
        sa.Column("start_date", sa.String(10), nullable=False),
        sa.Column("end_date", sa.String(10), nullable=False),
        sa.Column("notice_date", sa.String(10), nullable=False),
        sa.Column("convention", sa.String(16), nullable=False),
        sa.Column("emergency_channel", sa.String(500)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("recorded_at", sa.Float, nullable=False),
        sa.Column("recorded_by", sa.String(255), nullable=False),
        sa.Column("verdict", sa.JSON),
    )
    op.create_index("ix_switchover_plans_system", "switchover_plans", ["system"])


TABLES: dict[str, Callable[[], None]] = {
    "integrity_failures": _integrity_failures,
    "object_versions": _object_versions,
    "scratch_areas": _scratch_areas,
    "switchover_plans": _switchover_plans,
}


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    present = {column["name"] for column in inspector.get_columns("jobs")}
    missing = [(name, kind) for name, kind in LEASE_COLUMNS if name not in present]
    if missing:
        with op.batch_alter_table("jobs") as batch:
            for name, kind in missing:
                batch.add_column(sa.Column(name, kind))
    existing = set(inspector.get_table_names())
    for name, create in TABLES.items():
        if name not in existing:
            create()


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
    with op.batch_alter_table("jobs") as batch:
        for name, _kind in reversed(LEASE_COLUMNS):
            batch.drop_column(name)
