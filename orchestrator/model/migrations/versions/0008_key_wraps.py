"""The key wraps drctl wrote beside points (a key rotation's `keys/<kek_id>.json`, or a copy
carrying one off-site), per point and store: a recorded wrap that is gone from its store is a
missing file of the point, not a key this site lacks.

A catalog whose table an earlier drctl made with `create_all` keeps it. Wraps written before
this revision are not recorded: until the next rotation, such a wrap deleted from a store
still ends a restore with `key unavailable` (exit 3), as before.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "key_wraps" in set(sa.inspect(op.get_bind()).get_table_names()):
        return
    op.create_table(
        "key_wraps",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("recovery_point_id", sa.String(64), nullable=False),
        sa.Column("store", sa.String(64), nullable=False),
        sa.Column("kek_id", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.Float, nullable=False),
        sa.UniqueConstraint(
            "recovery_point_id", "store", "kek_id", name="uq_key_wrap_point_store_kek"
        ),
    )
    op.create_index("ix_key_wraps_recovery_point_id", "key_wraps", ["recovery_point_id"])


def downgrade() -> None:
    op.drop_table("key_wraps")
