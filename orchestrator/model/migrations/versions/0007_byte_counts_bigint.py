"""Byte counts as 64-bit integers on PostgreSQL: recovery_points.total_bytes, a check's
verifications.population_bytes and sample_bytes, and replication_probes.lag_bytes.

They were INTEGER, which PostgreSQL keeps in 32 bits: a full backup over 2 GiB could not be
recorded, nor could a validity check whose population holds more than 2 GiB (the check failed
before restoring anything, every time, so the 30-day clock ran out). SQLite's INTEGER is 64
bits already and its tables are left alone (no copy of a table with millions of rows).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

COLUMNS = (
    ("recovery_points", "total_bytes", False),
    ("verifications", "population_bytes", True),
    ("verifications", "sample_bytes", True),
    ("replication_probes", "lag_bytes", True),
)


def upgrade() -> None:
    _retype(sa.BigInteger(), sa.Integer())


def downgrade() -> None:
    _retype(sa.Integer(), sa.BigInteger())


def _retype(to: sa.types.TypeEngine[int], was: sa.types.TypeEngine[int]) -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column, nullable in COLUMNS:
        op.alter_column(table, column, type_=to, existing_type=was, nullable=nullable)
