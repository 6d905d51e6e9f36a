"""The issue register (问题清单) of the compliance report: each issue, its remediation status
(整改状态), owner and due date (model/issue_register.py, `drctl issue`).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "issue_register" in sa.inspect(op.get_bind()).get_table_names():
        return  # made by an earlier drctl's create_all before this revision existed
    op.create_table(
        "issue_register",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("description", sa.String(2000), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("due_date", sa.String(10)),
        sa.Column("requirement", sa.String(64)),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("updated_by", sa.String(255), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("issue_register")
