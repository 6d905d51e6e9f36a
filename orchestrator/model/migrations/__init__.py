"""Alembic migrations of the catalog (SQLite and PostgreSQL). How to add one: docs/catalog.md."""
