"""Alembic's environment: migrations run on the connection `model/migrate.py` hands over
(never from a URL in an ini file), in one transaction, with batch mode on SQLite so a later
migration can alter columns there too."""

from __future__ import annotations

from alembic import context

from orchestrator.model.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
