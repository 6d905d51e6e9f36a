"""The mirroring SLI's replication probes (第十一条 「相互镜像」, model/replication.py) and every
timed restore beside its objective (R140, model/restore_times.py).

A catalog whose tables an earlier drctl made with `create_all` keeps them (and its rows).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _replication_probes() -> None:
    op.create_table(
        "replication_probes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("system", sa.String(64), nullable=False),
        sa.Column("link", sa.String(64), nullable=False),
        sa.Column("engine", sa.String(16), nullable=False),
        sa.Column("from_site", sa.String(64), nullable=False),
        sa.Column("to_site", sa.String(64), nullable=False),
        sa.Column("probed_at", sa.Float, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("lag_seconds", sa.Float),
        sa.Column("lag_bytes", sa.Integer),
        sa.Column("io_running", sa.Boolean),
        sa.Column("sql_running", sa.Boolean),
        sa.Column("error", sa.String(2000)),
        sa.Column("detail", sa.JSON),
    )
    for column in ("system", "link", "probed_at"):
        op.create_index(f"ix_replication_probes_{column}", "replication_probes", [column])


def _restore_timings() -> None:
    op.create_table(
        "restore_timings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("system", sa.String(64), nullable=False),
        sa.Column("dataset", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("recovery_point_id", sa.String(64)),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float, nullable=False),
        sa.Column("duration_seconds", sa.Float, nullable=False),
        sa.Column("objective_seconds", sa.Float),
        sa.Column("status", sa.String(16), nullable=False),
    )
    op.create_index("ix_restore_timings_system", "restore_timings", ["system"])


def upgrade() -> None:
    present = set(sa.inspect(op.get_bind()).get_table_names())
    if "replication_probes" not in present:
        _replication_probes()
    if "restore_timings" not in present:
        _restore_timings()


def downgrade() -> None:
    op.drop_table("restore_timings")
    op.drop_table("replication_probes")
