"""The lease's fence, take-over swap and release on a real PostgreSQL catalog (the shared
catalog of several nodes), as tests/unit/test_lease.py shows them on SQLite; and a take-over
that meets a fence in flight waits for its commit (the fence's row lock)."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from sqlalchemy import select

from orchestrator.errors import JobBusy
from orchestrator.model import lease
from orchestrator.model.catalog import Catalog, now
from orchestrator.model.migrate import upgrade_catalog
from orchestrator.model.schema import jobs
from tests.fixtures.databases import PostgresServer, pg_create_database
from tests.unit import test_lease


@pytest.fixture
def catalog(postgres_server: PostgresServer) -> Catalog:
    name = pg_create_database(postgres_server, f"lease_{uuid.uuid4().hex[:8]}")
    catalog = Catalog(postgres_server.url(name))
    upgrade_catalog(catalog)
    return catalog


def test_a_job_taken_over_is_fenced_and_released_without_overwriting(catalog: Catalog) -> None:
    assert catalog.engine.dialect.name == "postgresql"
    test_lease.test_a_job_taken_over_is_fenced_and_its_release_leaves_the_takers_record(catalog)


def test_a_holder_that_renewed_meanwhile_keeps_its_lease(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    test_lease.test_a_holder_that_renewed_after_it_was_judged_gone_keeps_its_lease(
        catalog, monkeypatch
    )


def test_a_take_over_waits_for_a_fenced_commit_in_flight(catalog: Catalog) -> None:
    """The holder's fence locks its row: another node's take-over (its lease expired, its host
    unknown) cannot abort the job until the holder's transaction has committed."""
    held = lease.acquire(catalog, "backup", "core@prod")
    with catalog.begin() as connection:
        connection.execute(
            jobs.update()
            .where(jobs.c.id == held.job_id)
            .values(holder_host="node-2", lease_expires_at=now() - 1)
        )
    taken: list[lease.Lease | BaseException] = []
    started = threading.Event()

    def take_over() -> None:
        started.set()
        try:
            url = catalog.engine.url.render_as_string(hide_password=False)
            taken.append(lease.acquire(Catalog(url), "backup", "core@prod"))
        except (JobBusy, Exception) as error:  # noqa: BLE001 - reported by the assertions
            taken.append(error)

    connection = catalog.engine.connect()
    transaction = connection.begin()
    lease.fence(connection, held.job_id, held.key)  # the holder's commit is in flight
    other = threading.Thread(target=take_over)
    other.start()
    started.wait(10)
    # The take-over is blocked on the row lock: poll PostgreSQL until its wait shows.
    waiting = "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'"
    deadline = time.monotonic() + 30
    blocked = 0
    with catalog.begin() as observer:
        while not blocked and other.is_alive() and time.monotonic() < deadline:
            blocked = int(observer.exec_driver_sql(waiting).scalar() or 0)
    assert blocked == 1 and other.is_alive() and taken == []
    transaction.commit()
    connection.close()
    other.join(30)
    assert len(taken) == 1 and isinstance(taken[0], lease.Lease), taken
    with catalog.begin() as check:
        state = check.execute(select(jobs.c.state).where(jobs.c.id == held.job_id)).scalar()
    assert state == "aborted"  # after the holder's commit, not before it
    lease.release(taken[0], state="succeeded")
