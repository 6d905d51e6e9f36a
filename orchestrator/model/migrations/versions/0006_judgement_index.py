"""An index for the per-dataset aggregates that `drctl status` and a /metrics scrape read
(model/aggregates.py, model/judged_snapshot.py): copies by (point, status, store,
verified_at, written_at, deleted_at), covering the newest (verified) copy per dataset and store,
rotation coverage and whether a copy is held at an instant, so they read the index instead of
the table (docs/benchmarks.md, catalog scale). An index on
recovery_points (system, dataset, finished_at) was measured too and left out: SQLite then
drives the joins from it with a table lookup per point, several times slower.

Only indexes: no row or column changes. An index a catalog already has is left alone.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_copies_point_status_store": (
        "copies",
        ["recovery_point_id", "status", "store", "verified_at", "written_at", "deleted_at"],
    ),
}


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    for name, (table, columns) in INDEXES.items():
        if name not in {index["name"] for index in inspector.get_indexes(table)}:
            op.create_index(name, table, columns)


def downgrade() -> None:
    for name, (table, _columns) in INDEXES.items():
        op.drop_index(name, table_name=table)
