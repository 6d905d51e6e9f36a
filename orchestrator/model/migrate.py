"""The catalog's schema version (Alembic): upgrade it — `drctl catalog upgrade`, and every
command that writes, at its start — or make sure it is current — every command that only
reads, which refuses an older or newer schema with exit 2 and says what to run.

Concurrent upgrades are serialised: a PostgreSQL advisory lock, or a lock file beside a SQLite
catalog. A catalog made before migrations existed (tables from `create_all`, no
`alembic_version`) upgrades in place: the baseline only creates the tables it lacks.
How to add a migration: docs/catalog.md.

Alembic (and the Mako and Pygments it loads) is imported only where it is used: a command
checks the stamped revision against HEAD_REVISION with one plain query, so `drctl status`, a
/metrics scrape and a command that writes to a current catalog do not pay for it
(docs/benchmarks.md, start-up).
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text

from orchestrator.errors import CatalogSchemaMismatch
from orchestrator.model.catalog import Catalog, sqlite_file
from orchestrator.model.catalog_errors import catalog_address

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
ADVISORY_LOCK_KEY = 0x6472_6374_6C  # "drctl": one key for every drctl catalog upgrade
UPGRADE_HINT = "run `drctl catalog upgrade` (every command that writes also upgrades it)"
# The newest revision in migrations/versions/, for readers that check it without Alembic.
# Adding a migration changes it too; tests/unit/test_catalog_head.py fails until it does.
HEAD_REVISION = "0008"
VERSION_TABLE = "alembic_version"


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """Return the newest schema revision this drctl knows."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations in {MIGRATIONS}")
    return head


def known_revisions() -> set[str]:
    """Return every schema revision this drctl knows."""
    from alembic.script import ScriptDirectory

    return {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }


def current_revision(catalog: Catalog) -> str | None:
    """Return the catalog's schema revision (None: no schema, or one made before
    migrations)."""
    from alembic.runtime.migration import MigrationContext

    with catalog.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def _upgrade_lock(catalog: Catalog, connection: Connection) -> Iterator[None]:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        yield
        return
    database = catalog.engine.url.database
    if connection.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    with open(f"{database}.upgrade-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def upgrade_catalog(catalog: Catalog) -> tuple[str | None, str]:
    """Bring the catalog's schema to this drctl's newest revision, in one transaction under
    the upgrade lock; return (revision before, revision now). Raise CatalogSchemaMismatch
    when the catalog is newer than this drctl. A catalog already stamped at HEAD_REVISION is
    left as it is after one plain query, without loading Alembic (issue 15: every command that
    writes starts here); a concurrent upgrade can only bring it to the same revision."""
    if stamped_revision(catalog) == HEAD_REVISION:
        return HEAD_REVISION, HEAD_REVISION
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    head = head_revision()
    with catalog.engine.begin() as connection, _upgrade_lock(catalog, connection):
        before = MigrationContext.configure(connection).get_current_revision()
        if before is not None and before not in known_revisions():
            raise _too_new(catalog, before, head)
        if before != head:
            command.upgrade(alembic_config(connection), "head")
            logger.info("catalog %s: schema %s → %s", catalog.safe_url, before or "none", head)
    return before, head


def require_current(catalog: Catalog) -> str:
    """Return the catalog's schema revision when it is this drctl's newest; else raise
    CatalogSchemaMismatch (exit 2) saying what to run. Reads only."""
    if stamped_revision(catalog) == HEAD_REVISION:
        return HEAD_REVISION  # the usual case, decided without loading Alembic
    current, head = current_revision(catalog), head_revision()
    if current == head:
        return current
    if current is not None and current not in known_revisions():
        raise _too_new(catalog, current, head)
    if current is None and not inspect(catalog.engine).get_table_names():
        raise _no_catalog(catalog.safe_url)
    raise CatalogSchemaMismatch(
        f"catalog {catalog.safe_url}: schema revision {current or 'none'} is older than "
        f"{head}, which this drctl reads; {UPGRADE_HINT}"
    )


def require_present(url: str) -> None:
    """Given a catalog URL, raise CatalogSchemaMismatch (exit 2, "no catalog") when it names a
    SQLite file that does not exist, before anything is opened: a command that only reads
    would otherwise create the file (and its directory) just to say it holds no schema."""
    file = sqlite_file(url)
    if file is not None and not file.exists():
        raise _no_catalog(catalog_address(url))


def _no_catalog(address: str) -> CatalogSchemaMismatch:
    return CatalogSchemaMismatch(
        f"catalog {address}: no catalog (no schema): for a new site run `drctl catalog "
        "upgrade`; if the catalog was lost, `drctl catalog rebuild` puts it back from the "
        "stores and the evidence / 目录不存在：如目录丢失，请用 drctl catalog rebuild 重建"
    )


def stamped_revision(catalog: Catalog) -> str | None:
    """Return the revision stamped in the catalog's version table, read with plain SQL (None:
    no such table, or not exactly one row — Alembic then decides)."""
    with catalog.engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    return str(rows[0][0]) if len(rows) == 1 else None


def _too_new(catalog: Catalog, current: str, head: str) -> CatalogSchemaMismatch:
    return CatalogSchemaMismatch(
        f"catalog {catalog.safe_url}: schema revision {current} is newer than this drctl "
        f"knows (newest {head}); upgrade drctl on this node"
    )
