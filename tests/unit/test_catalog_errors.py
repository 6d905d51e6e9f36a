"""A catalog error reaches the user as ONE line naming the catalog (its address, never its
password) and what to do — not SQLAlchemy's message with the statement and its parameters
(model/catalog_errors.py, cli/boundary.py). The errors are real: a SQLite file another
connection holds a write transaction on, a read-only SQLite file, a PostgreSQL address
nothing listens on; a found mismatch the catalog cannot record is CatalogUnwritten, exit 1."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from orchestrator.cli.boundary import classify
from orchestrator.errors import CatalogUnwritten
from orchestrator.model.catalog import Catalog
from orchestrator.model.catalog_errors import catalog_problem
from orchestrator.model.jobs import catalog_job
from orchestrator.model.migrate import upgrade_catalog
from tests.fixtures.process import free_port

SECRET = "s3cret-Pa55"


def caught(url: str, statement: str, **engine: object) -> OperationalError:
    """Run a statement with bound parameters on url; return the OperationalError it raised."""
    database = create_engine(url, **engine)  # type: ignore[arg-type]
    try:
        with pytest.raises(OperationalError) as raised, database.connect() as connection:
            connection.execute(text(statement), {"v": SECRET})
            connection.commit()
    finally:
        database.dispose()
    return raised.value


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[Path]:
    """A SQLite catalog file on which another connection holds a write transaction."""
    path = tmp_path / "catalog.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (v TEXT)")
    holder.execute("BEGIN IMMEDIATE")
    yield path
    holder.rollback()
    holder.close()


def assert_one_line(message: str, address: str, *words: str) -> None:
    assert "\n" not in message, message
    assert address in message, message
    for absent in ("[SQL", "INSERT", "parameters", "sqlalche.me", SECRET):
        assert absent not in message, message
    for word in words:
        assert word in message, message


def test_a_locked_sqlite_catalog_is_one_line_naming_it_and_what_to_do(locked: Path) -> None:
    url = f"sqlite:///{locked}"
    error = caught(url, "INSERT INTO t VALUES (:v)", connect_args={"timeout": 0})
    assert "INSERT" in str(error) and "\n" in str(error)  # what SQLAlchemy would have shown
    Catalog(url).close()  # the catalog this process opened: the boundary names it
    failure = classify(error)
    assert (failure.exit_code, failure.kind) == (3, "infrastructure")
    assert_one_line(failure.message, url, "locked by another process", "run the command again")


def test_a_read_only_sqlite_catalog_says_to_make_it_writable(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite"
    sqlite3.connect(path).execute("CREATE TABLE t (v TEXT)").connection.close()
    url = f"sqlite:///file:{path}?mode=ro&uri=true"
    error = caught(url, "INSERT INTO t VALUES (:v)")
    message = catalog_problem(error, url)
    assert_one_line(message, str(path), "read-only", "writable")


def test_postgresql_down_is_one_line_without_the_password() -> None:
    url = f"postgresql+psycopg://drctl:{SECRET}@127.0.0.1:{free_port()}/catalog"
    error = caught(url, "SELECT :v")
    Catalog(url).close()
    failure = classify(error)
    assert failure.exit_code == 3
    assert_one_line(failure.message, "drctl:***@127.0.0.1", "unreachable", "is up and reachable")


def test_a_password_the_driver_repeats_is_hidden() -> None:
    url = f"postgresql://drctl:{SECRET}@db.invalid/catalog"
    error = OperationalError("SELECT 1", {}, Exception(f"bad dsn password={SECRET}\nmore"))
    message = catalog_problem(error, url)
    assert SECRET not in message and "password=***; more" in message, message


def test_a_mismatch_the_catalog_cannot_record_is_a_failed_check() -> None:
    failure = classify(CatalogUnwritten("integrity scan x found 1 mismatch(es): ..."))
    assert (failure.exit_code, failure.kind, failure.type) == (
        1,
        "check_failed",
        "CatalogUnwritten",
    )


def test_a_job_whose_end_cannot_be_recorded_logs_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The job's own error is kept; the bookkeeping's (the catalog locked by then) is logged
    on one line naming the catalog, not with its statement."""
    path = tmp_path / "catalog.sqlite"
    catalog = Catalog(f"sqlite:///{path}")
    upgrade_catalog(catalog)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        with caplog.at_level(logging.ERROR), pytest.raises(RuntimeError, match="the job's own"):  # noqa: PT012
            with catalog_job(catalog, "backup", "core-banking"):
                holder.execute("PRAGMA busy_timeout=0")
                holder.execute("BEGIN IMMEDIATE")
                with catalog.engine.connect() as connection:  # the pool's, with a short wait
                    connection.exec_driver_sql("PRAGMA busy_timeout=0")
                raise RuntimeError("the job's own error")
    finally:
        holder.rollback()
        holder.close()
        catalog.close()
    [line] = [r.getMessage() for r in caplog.records if "cannot record its end" in r.getMessage()]
    assert_one_line(line, f"sqlite:///{path}", "locked by another process")
