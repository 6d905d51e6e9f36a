"""Byte counts past 2 GiB on a real PostgreSQL catalog (migration 0007): a full backup of
several GiB is recorded, and so is the validity check whose population holds it — with
32-bit INTEGER columns both failed with `integer out of range`, every time."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any, cast

import pytest
from alembic import command
from sqlalchemy import select

from orchestrator.actions.verify_record import start_verification
from orchestrator.model import catalog as cat
from orchestrator.model import schema
from orchestrator.model.catalog import Catalog
from orchestrator.model.migrate import HEAD_REVISION, alembic_config, upgrade_catalog
from orchestrator.model.plan import PlanPolicy, PointRow, make_plan
from orchestrator.model.snapshot import read_catalog
from orchestrator.runtime import Runtime
from tests.fixtures.catalog_rows import point_row
from tests.fixtures.databases import PostgresServer, pg_create_database

FIVE_GIB = 5 * 2**30
NOW = 1_790_000_000.0


@pytest.fixture
def postgres_catalog(postgres_server: PostgresServer) -> Any:
    catalog = Catalog(
        postgres_server.url(pg_create_database(postgres_server, f"c_{uuid.uuid4().hex[:8]}"))
    )
    yield catalog
    catalog.close()


def record_big_point(catalog: Catalog, point_id: str) -> None:
    with catalog.begin() as connection:
        cat.record_recovery_point(
            connection, point_row(point_id, "ledger", NOW, total_bytes=FIVE_GIB)
        )


def test_a_backup_and_a_check_over_2_gib_are_recorded(postgres_catalog: Catalog) -> None:
    upgrade_catalog(postgres_catalog)
    record_big_point(postgres_catalog, "p-big")
    (row,) = read_catalog(postgres_catalog).points
    assert row.total_bytes == FIVE_GIB
    population = [PointRow("p-big", "core-banking", "ledger", FIVE_GIB, 1, NOW, None, "primary")]
    plan = make_plan(population, [], seed="s", policy=PlanPolicy())
    runtime = cast(Runtime, SimpleNamespace(catalog=postgres_catalog))
    check = start_verification(runtime, plan, NOW)
    with postgres_catalog.begin() as connection:
        recorded = connection.execute(
            select(schema.verifications).where(schema.verifications.c.id == check)
        ).one()
    assert (recorded.population_bytes, recorded.sample_bytes) == (FIVE_GIB, FIVE_GIB)


def test_a_catalog_at_0006_keeps_its_rows_and_then_takes_big_counts(
    postgres_catalog: Catalog,
) -> None:
    with postgres_catalog.engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0006")
    with postgres_catalog.begin() as connection:
        cat.record_recovery_point(connection, point_row("p-small", "ledger", NOW, total_bytes=7))
    assert upgrade_catalog(postgres_catalog) == ("0006", HEAD_REVISION)
    record_big_point(postgres_catalog, "p-big")
    sizes = {p.id: p.total_bytes for p in read_catalog(postgres_catalog).points}
    assert sizes == {"p-small": 7, "p-big": FIVE_GIB}
