"""Encryption at rest: the cipher each recovery point was sealed with (NULL: written in clear),
what the encryption rule judges per store.

A catalog whose recovery_points table an earlier drctl made with `create_all` at this schema
keeps it. Existing points stay NULL: they were written before encryption existed, in clear.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {
        column["name"] for column in sa.inspect(op.get_bind()).get_columns("recovery_points")
    }
    if "cipher" not in columns:
        with op.batch_alter_table("recovery_points") as batch:
            batch.add_column(sa.Column("cipher", sa.String(32)))


def downgrade() -> None:
    with op.batch_alter_table("recovery_points") as batch:
        batch.drop_column("cipher")
