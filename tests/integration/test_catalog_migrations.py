"""Catalog migrations on SQLite and on a real PostgreSQL: the baseline is today's schema, a
catalog made before migrations upgrades in place, writers upgrade, readers refuse a schema
that is not current with exit 2 and the command to run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, inspect, select, text

from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.errors import CatalogSchemaMismatch
from orchestrator.model import schema
from orchestrator.model.catalog import Catalog
from orchestrator.model.jobs import catalog_job
from orchestrator.model.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    require_current,
    upgrade_catalog,
)
from orchestrator.model.snapshot import read_catalog
from tests.fixtures.databases import PostgresServer, pg_create_database

DRCTL = str(Path(sys.executable).parent / "drctl")
ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}


def drctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DRCTL, *args], capture_output=True, text=True, timeout=600, env=ENV)


def schema_differences(catalog: Catalog) -> list[object]:
    """Return what differs between the catalog's tables and model/schema.py (alembic's
    autogenerate comparison; the alembic_version table is alembic's own)."""
    with catalog.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, schema.metadata))


@pytest.fixture
def sqlite_catalog(tmp_path: Path) -> Catalog:
    return Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")


@pytest.fixture
def postgres_catalog(postgres_server: PostgresServer) -> Catalog:
    name = pg_create_database(postgres_server, f"catalog_{uuid.uuid4().hex[:8]}")
    return Catalog(postgres_server.url(name))


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_the_baseline_is_todays_schema(kind: str, request: pytest.FixtureRequest) -> None:
    catalog: Catalog = request.getfixturevalue(f"{kind}_catalog")
    assert current_revision(catalog) is None
    assert upgrade_catalog(catalog) == (None, head_revision())
    assert current_revision(catalog) == head_revision() == require_current(catalog)
    assert schema_differences(catalog) == []
    assert upgrade_catalog(catalog) == (head_revision(), head_revision())  # idempotent
    catalog.close()


def test_on_postgresql_jobs_and_snapshots_work(postgres_catalog: Catalog) -> None:
    assert postgres_catalog.engine.dialect.name == "postgresql"
    upgrade_catalog(postgres_catalog)
    with catalog_job(postgres_catalog, "backup", "core@production") as job:
        job.detail = {"recovery_points": ["p1"]}
    snapshot = read_catalog(postgres_catalog)
    assert [(j.kind, j.state) for j in snapshot.jobs] == [("backup", "succeeded")]
    postgres_catalog.close()


def test_a_catalog_made_before_migrations_upgrades_in_place(sqlite_catalog: Catalog) -> None:
    legacy = schema.metadata.tables
    partial = [legacy[name] for name in ("recovery_points", "copies", "jobs")]
    schema.metadata.create_all(sqlite_catalog.engine, tables=partial)  # as create_all used to
    with sqlite_catalog.begin() as connection:
        connection.execute(
            insert(schema.jobs).values(
                kind="backup", subject="s", state="succeeded", owner="h:1", started_at=1.0
            )
        )
    with pytest.raises(CatalogSchemaMismatch, match="schema revision none is older than"):
        require_current(sqlite_catalog)
    assert upgrade_catalog(sqlite_catalog) == (None, head_revision())
    assert schema_differences(sqlite_catalog) == []
    with sqlite_catalog.begin() as connection:
        assert [row.subject for row in connection.execute(select(schema.jobs))] == ["s"]
    sqlite_catalog.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_catalog_at_the_baseline_gains_the_integrated_tables_and_keeps_its_rows(
    kind: str, request: pytest.FixtureRequest
) -> None:
    catalog: Catalog = request.getfixturevalue(f"{kind}_catalog")
    with catalog.engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0001")
    assert current_revision(catalog) == "0001"
    columns = {c["name"] for c in inspect(catalog.engine).get_columns("jobs")}
    assert "holder_pid" not in columns and "lease_expires_at" not in columns
    assert "scratch_areas" not in inspect(catalog.engine).get_table_names()
    with catalog.engine.begin() as connection:  # a job row written before leases existed
        connection.execute(
            text(
                "INSERT INTO jobs (kind, subject, state, owner, started_at) "
                "VALUES ('backup', 'core@production', 'succeeded', 'h:1', 1.0)"
            )
        )
    with pytest.raises(CatalogSchemaMismatch, match="schema revision 0001 is older than"):
        require_current(catalog)
    assert upgrade_catalog(catalog) == ("0001", head_revision())
    assert schema_differences(catalog) == []
    tables = set(inspect(catalog.engine).get_table_names())
    assert {"integrity_failures", "object_versions", "scratch_areas", "switchover_plans"} <= tables
    with catalog.begin() as connection:
        (row,) = connection.execute(select(schema.jobs))
    assert (row.subject, row.state, row.holder_pid, row.lease_expires_at) == (
        "core@production",
        "succeeded",
        None,
        None,
    )
    with catalog_job(catalog, "backup", "core@production"):  # the lease works on it now
        pass
    catalog.close()


def test_a_catalog_newer_than_drctl_is_refused_by_readers_and_writers(
    sqlite_catalog: Catalog,
) -> None:
    upgrade_catalog(sqlite_catalog)
    with sqlite_catalog.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    for check in (require_current, upgrade_catalog):
        with pytest.raises(CatalogSchemaMismatch, match="9999 is newer than this drctl knows"):
            check(sqlite_catalog)
    sqlite_catalog.close()


def test_readers_refuse_an_old_schema_and_writers_upgrade_it(tmp_path: Path) -> None:
    config = prepare_sandbox(tmp_path / "sb")
    for reader in (("status",), ("--json", "run-due", "--plan"), ("verify", "--plan")):
        result = drctl("-c", str(config), *reader)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "run `drctl catalog upgrade`" in result.stderr, result.stderr
        assert "`drctl catalog rebuild`" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    catalog = Catalog(f"sqlite:///{tmp_path / 'sb' / 'state' / 'catalog.sqlite'}")
    assert not inspect(catalog.engine).get_table_names()  # the readers created nothing
    upgraded = drctl("-c", str(config), "--json", "catalog", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert json.loads(upgraded.stdout)["to"] == head_revision()
    assert schema_differences(catalog) == []  # `drctl catalog upgrade` made model/schema.py
    assert drctl("-c", str(config), "status").returncode in (0, 1)
    catalog.close()


def test_drctl_runs_on_a_postgresql_catalog(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    config = prepare_sandbox(tmp_path / "sb")
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    database = pg_create_database(postgres_server, f"catalog_{uuid.uuid4().hex[:8]}")
    document["catalog_url"] = postgres_server.url(database)
    config.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    refused = drctl("-c", str(config), "status")
    assert refused.returncode == 2 and "catalog upgrade" in refused.stderr, refused.stderr
    assert postgres_server.password not in refused.stderr  # the URL is shown without it
    dry_run = drctl("-c", str(config), "--json", "retention", "--dry-run")  # a writer
    assert dry_run.returncode == 0, dry_run.stderr
    status = drctl("-c", str(config), "--json", "status")
    assert status.returncode in (0, 1), status.stderr
    assert json.loads(status.stdout)["findings"]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_catalog_at_0005_gains_the_judgement_index_and_keeps_its_rows(
    kind: str, request: pytest.FixtureRequest
) -> None:
    catalog: Catalog = request.getfixturevalue(f"{kind}_catalog")
    with catalog.engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0005")
        connection.execute(
            text(
                "INSERT INTO recovery_points (id, system, dataset, engine, business_date, "
                "started_at, finished_at, source_site, source_host, hash_algorithm, "
                "manifest_sha256, total_bytes, file_count, status) VALUES ('p1', 'core', "
                "'db', 'files', '2026-11-27', 1.0, 2.0, 'production', 'h', 'sha256', 'x', "
                "1, 1, 'complete')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO copies (recovery_point_id, store, site, written_at, status) "
                "VALUES ('p1', 'primary', 'production', 3.0, 'present')"
            )
        )

    def indexes() -> set[str | None]:
        found = inspect(catalog.engine)
        return {
            i["name"] for table in ("recovery_points", "copies") for i in found.get_indexes(table)
        }

    assert "ix_copies_point_status_store" not in indexes()
    assert upgrade_catalog(catalog) == ("0005", head_revision())
    assert "ix_copies_point_status_store" in indexes()
    assert schema_differences(catalog) == []
    snapshot = read_catalog(catalog)
    assert [(p.id, p.finished_at) for p in snapshot.points] == [("p1", 2.0)]
    assert [(c.store, c.status) for c in snapshot.copies] == [("primary", "present")]
    catalog.close()
