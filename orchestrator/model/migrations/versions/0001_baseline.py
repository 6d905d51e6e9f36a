"""Baseline: the catalog as it was when migrations began (recovery points, copies, jobs,
validity checks and their items, drills, and the network outage ledger).

A catalog made before migrations existed already has some or all of these tables (made by
`create_all`), without `alembic_version`; this revision creates only the tables it lacks, so
such a catalog upgrades in place and keeps its rows.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _recovery_points() -> None:
    op.create_table(
        "recovery_points",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("system", sa.String(64), nullable=False),
        sa.Column("dataset", sa.String(64), nullable=False),
        sa.Column("engine", sa.String(32), nullable=False),
        sa.Column("business_date", sa.String(10), nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float, nullable=False),
        sa.Column("source_site", sa.String(64), nullable=False),
        sa.Column("source_host", sa.String(255), nullable=False),
        sa.Column("hash_algorithm", sa.String(16), nullable=False),
        sa.Column("manifest_sha256", sa.String(64), nullable=False),
        sa.Column("total_bytes", sa.Integer, nullable=False),
        sa.Column("file_count", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("last_verified_at", sa.Float),
    )
    op.create_index("ix_recovery_points_system", "recovery_points", ["system"])
    op.create_index("ix_recovery_points_dataset", "recovery_points", ["dataset"])


def _copies() -> None:
    op.create_table(
        "copies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("recovery_point_id", sa.String(64), nullable=False),
        sa.Column("store", sa.String(64), nullable=False),
        sa.Column("site", sa.String(64), nullable=False),
        sa.Column("written_at", sa.Float, nullable=False),
        sa.Column("verified_at", sa.Float),
        sa.Column("retain_until", sa.Float),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("deleted_at", sa.Float),
        sa.Column("delete_reason", sa.String(500)),
        sa.Column("approver", sa.String(255)),
        sa.UniqueConstraint("recovery_point_id", "store", name="uq_copy_point_store"),
    )
    op.create_index("ix_copies_recovery_point_id", "copies", ["recovery_point_id"])


def _jobs() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("lock_key", sa.String(300), unique=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float),
        sa.Column("error", sa.String(2000)),
        sa.Column("detail", sa.JSON),
    )


def _verifications() -> None:
    op.create_table(
        "verifications",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("counted", sa.Boolean, nullable=False),
        sa.Column("seed", sa.String(128)),
        sa.Column("population_points", sa.Integer),
        sa.Column("population_bytes", sa.Integer),
        sa.Column("sample_points", sa.Integer),
        sa.Column("sample_bytes", sa.Integer),
        sa.Column("evidence_path", sa.String(1000)),
        sa.Column("evidence_manifest_sha256", sa.String(64)),
        sa.Column("detail", sa.JSON),
    )


def _verification_items() -> None:
    op.create_table(
        "verification_items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("verification_id", sa.String(64), nullable=False),
        sa.Column("recovery_point_id", sa.String(64), nullable=False),
        sa.Column("store", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("checked_at", sa.Float, nullable=False),
        sa.Column("detail", sa.JSON),
    )
    op.create_index(
        "ix_verification_items_verification_id", "verification_items", ["verification_id"]
    )
    op.create_index(
        "ix_verification_items_recovery_point_id", "verification_items", ["recovery_point_id"]
    )


def _drills() -> None:
    op.create_table(
        "drills",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("scenario", sa.String(128), nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rto_seconds", sa.Float),
        sa.Column("rpo_seconds", sa.Float),
        sa.Column("failover_ok", sa.Boolean),
        sa.Column("failback_ok", sa.Boolean),
        sa.Column("evidence_path", sa.String(1000)),
        sa.Column("evidence_manifest_sha256", sa.String(64)),
        sa.Column("detail", sa.JSON),
    )


def _network_outages() -> None:
    op.create_table(
        "network_outages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("start_ms", sa.BigInteger, nullable=False),
        sa.Column("end_ms", sa.BigInteger),
        sa.Column("declared_ms", sa.BigInteger, nullable=False),
        sa.Column("closed_by", sa.String(16)),
        sa.Column("vantages", sa.JSON, nullable=False),
        sa.Column("merged", sa.Integer, nullable=False),
    )
    op.create_index("ix_network_outages_target", "network_outages", ["target"])


def _network_observations() -> None:
    op.create_table(
        "network_observations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("start_ms", sa.BigInteger, nullable=False),
        sa.Column("last_ms", sa.BigInteger, nullable=False),
        sa.Column("end_ms", sa.BigInteger),
        sa.Column("closed_by", sa.String(16)),
    )
    op.create_index("ix_network_observations_target", "network_observations", ["target"])


def _network_probe_counters() -> None:
    op.create_table(
        "network_probe_counters",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("vantage", sa.String(64), nullable=False),
        sa.Column("probes_total", sa.BigInteger, nullable=False),
        sa.Column("failures_total", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("target", "vantage", name="uq_probe_counter"),
    )


TABLES: dict[str, Callable[[], None]] = {
    "recovery_points": _recovery_points,
    "copies": _copies,
    "jobs": _jobs,
    "verifications": _verifications,
    "verification_items": _verification_items,
    "drills": _drills,
    "network_outages": _network_outages,
    "network_observations": _network_observations,
    "network_probe_counters": _network_probe_counters,
}


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, create in TABLES.items():
        if name not in existing:
            create()


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
