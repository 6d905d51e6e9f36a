"""Job leases on a real SQLite catalog: taken, renewed, refused to a live holder, taken over
from a dead one (this host: by its process; another host: by its expiry)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from orchestrator.errors import ExitCode, JobBusy, LeaseLost
from orchestrator.model import lease
from orchestrator.model.catalog import Catalog, now
from orchestrator.model.holders import current_holder
from orchestrator.model.migrate import upgrade_catalog
from orchestrator.model.schema import jobs


@pytest.fixture()
def catalog(tmp_path: Path) -> Catalog:
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    upgrade_catalog(catalog)
    return catalog


def dead_pid() -> int:
    """Return the pid of a process that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def plant(catalog: Catalog, **values: object) -> int:
    """Insert a running backup job row holding `backup:core@prod`, as another process would."""
    row = {
        "kind": "backup",
        "subject": "core@prod",
        "state": "running",
        "lock_key": "backup:core@prod",
        "owner": "elsewhere:1",
        "started_at": now() - 60,
        **values,
    }
    with catalog.begin() as connection:
        return int(connection.execute(insert(jobs).values(**row)).inserted_primary_key[0])


def job(catalog: Catalog, job_id: int) -> object:
    with catalog.begin() as connection:
        return connection.execute(select(jobs).where(jobs.c.id == job_id)).one()


def test_a_held_lease_is_refused_in_one_line_naming_the_holder(catalog: Catalog) -> None:
    held = lease.acquire(catalog, "backup", "core@prod")
    try:
        with pytest.raises(JobBusy, match=r"already running: held by .+ pid \d+ since ") as busy:
            lease.acquire(catalog, "backup", "core@prod")
        holder = current_holder()
        assert f"{holder.user}@{holder.host} pid {holder.pid}" in str(busy.value)
        assert "\n" not in str(busy.value) and busy.value.exit_code == ExitCode.INFRASTRUCTURE
        other = lease.acquire(catalog, "backup", "core@dr")  # another job: free
        lease.release(other, state="succeeded")
    finally:
        lease.release(held, state="succeeded")
    again = lease.acquire(catalog, "backup", "core@prod")  # released: free again
    lease.release(again, state="failed", error="x")
    assert job(catalog, again.job_id).state == "failed"


def test_a_dead_holder_on_this_host_is_taken_over_and_its_job_aborted(catalog: Catalog) -> None:
    me = current_holder()
    stale = plant(
        catalog,
        holder_user="drctl",
        holder_host=me.host,
        holder_pid=dead_pid(),
        holder_start=1,
        lease_expires_at=now() + 3600,  # not expired: the process is known dead
    )
    taken = lease.acquire(catalog, "backup", "core@prod")
    lease.release(taken, state="succeeded")
    row = job(catalog, stale)
    assert row.state == "aborted" and row.lock_key is None
    assert row.error.startswith(lease.CRASH_MARK) and "nothing counted" in row.error


def test_a_reused_pid_does_not_pass_for_the_holder(catalog: Catalog) -> None:
    me = current_holder()  # alive, but started at another time than the row says
    stale = plant(
        catalog,
        holder_host=me.host,
        holder_pid=me.pid,
        holder_start=me.process_start + 1,
        lease_expires_at=now() + 3600,
    )
    lease.release(lease.acquire(catalog, "backup", "core@prod"), state="succeeded")
    assert job(catalog, stale).state == "aborted"


def test_another_hosts_holder_counts_until_its_lease_expires(catalog: Catalog) -> None:
    live = plant(catalog, holder_host="node-2", holder_pid=4242, lease_expires_at=now() + 60)
    with pytest.raises(JobBusy, match=r"pid 4242 .*lease until"):
        lease.acquire(catalog, "backup", "core@prod")
    assert job(catalog, live).state == "running"
    with catalog.begin() as connection:
        connection.execute(
            jobs.update().where(jobs.c.id == live).values(lease_expires_at=now() - 1)
        )
    lease.release(lease.acquire(catalog, "backup", "core@prod"), state="succeeded")
    assert job(catalog, live).state == "aborted"


def test_a_holder_that_renewed_after_it_was_judged_gone_keeps_its_lease(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A node cut off past its lease comes back and renews between another node's judging it
    # gone and that node's take-over: the take-over (a swap on the expiry it judged) fails.
    cut_off = plant(catalog, holder_host="node-2", holder_pid=4242, lease_expires_at=now() - 1)
    judged = lease.holder_gone

    def renewed_meanwhile(row: object, moment: float) -> bool:
        gone = judged(row, moment)
        with catalog.begin() as connection:
            connection.execute(
                jobs.update().where(jobs.c.id == cut_off).values(lease_expires_at=now() + 60)
            )
        return gone

    monkeypatch.setattr(lease, "holder_gone", renewed_meanwhile)
    with pytest.raises(JobBusy):
        lease.acquire(catalog, "backup", "core@prod")
    row = job(catalog, cut_off)
    assert (row.state, row.lock_key) == ("running", "backup:core@prod")


def test_a_job_taken_over_is_fenced_and_its_release_leaves_the_takers_record(
    catalog: Catalog,
) -> None:
    cut_off = lease.acquire(catalog, "backup", "core@prod")
    with catalog.begin() as connection:
        lease.fence(connection, cut_off.job_id, cut_off.key)  # held: passes
        connection.execute(
            jobs.update()
            .where(jobs.c.id == cut_off.job_id)
            .values(holder_host="node-2", lease_expires_at=now() - 1)
        )
    taker = lease.acquire(catalog, "backup", "core@prod")
    with pytest.raises(LeaseLost, match="taken over"), catalog.begin() as connection:
        lease.fence(connection, cut_off.job_id, cut_off.key)
    lease.release(cut_off, state="succeeded")
    assert job(catalog, cut_off.job_id).state == "aborted"  # the taker's record stands
    with catalog.begin() as connection:
        lease.fence(connection, taker.job_id, taker.key)
    assert job(catalog, taker.job_id).lock_key == "backup:core@prod"
    lease.release(taker, state="succeeded")


def test_a_row_older_than_leases_is_judged_by_its_owner(catalog: Catalog) -> None:
    old = plant(catalog, owner=f"{current_holder().host}:{dead_pid()}")
    lease.release(lease.acquire(catalog, "backup", "core@prod"), state="succeeded")
    assert job(catalog, old).state == "aborted"


def test_the_lease_is_renewed_while_the_job_runs(catalog: Catalog) -> None:
    held = lease.acquire(catalog, "verify", "sample", renew_seconds=0.05, lease_seconds=5)
    try:
        first = job(catalog, held.job_id).lease_expires_at
        deadline = time.monotonic() + 10
        while job(catalog, held.job_id).lease_expires_at <= first:
            assert time.monotonic() < deadline, "the lease was never renewed"
            time.sleep(0.05)
    finally:
        lease.release(held, state="succeeded")
    row = job(catalog, held.job_id)
    assert row.lease_expires_at is None and row.lock_key is None


def test_abort_dead_holders_frees_only_dead_holders(catalog: Catalog) -> None:
    me = current_holder()
    dead = plant(catalog, holder_host=me.host, holder_pid=dead_pid(), holder_start=1)
    alive = plant(
        catalog,
        subject="core@dr",
        lock_key="backup:core@dr",
        holder_host=me.host,
        holder_pid=me.pid,
        holder_start=me.process_start,
        lease_expires_at=now() + 60,
    )
    assert lease.abort_dead_holders(catalog) == 1
    assert job(catalog, dead).state == "aborted" and job(catalog, alive).state == "running"


def test_a_catalog_made_before_leases_gets_the_lease_columns(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as old:  # the jobs table as drctl made it before leases
        old.execute(
            "CREATE TABLE jobs (id INTEGER PRIMARY KEY, kind VARCHAR(32) NOT NULL, "
            "subject VARCHAR(255) NOT NULL, state VARCHAR(16) NOT NULL, lock_key VARCHAR(300) "
            "UNIQUE, owner VARCHAR(255) NOT NULL, started_at FLOAT NOT NULL, finished_at FLOAT, "
            "error VARCHAR(2000), detail JSON)"
        )
        old.execute(
            "INSERT INTO jobs (kind, subject, state, owner, started_at) "
            "VALUES ('backup', 'core@prod', 'succeeded', 'h:1', 0)"
        )
    catalog = Catalog(f"sqlite:///{path}")
    upgrade_catalog(catalog)  # what every command that writes does at its start
    held = lease.acquire(catalog, "backup", "core@prod")
    lease.release(held, state="succeeded")
    assert job(catalog, held.job_id).holder_pid == current_holder().pid
    assert job(catalog, 1).state == "succeeded"  # the old row is kept as it was
