"""A job whose lease another node took over while it ran commits nothing more (real sandbox:
real ansible-runner, SQLite catalog, directory stores).

A node cut off or paused for longer than its lease (model/lease.py) comes back to find that
another node judged it gone and took its job over. Before fencing, it went on and recorded its
recovery points and copies beside the taker's (a second point of the day, a copy counted twice)
and then overwrote the taker's `aborted` record of its job with `succeeded`. Here the take-over
is made mid-run exactly as another node's `lease.acquire` makes it (the running row's holder is
moved to another host with its lease expired, then the lease is acquired); the cut-off run must
record no point or copy, exit 3, and leave both job rows as the taker left them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select, update

from orchestrator.actions.backup import run_backup
from orchestrator.actions.copy_offsite import run_copy_offsite
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.actions.workload import run_workload
from orchestrator.errors import ExitCode, InfrastructureError
from orchestrator.integrations.stores.file import FileStore
from orchestrator.model import catalog as cat
from orchestrator.model import lease
from orchestrator.model.catalog import Catalog, now
from orchestrator.model.schema import copies, jobs, recovery_points
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site

SYSTEM = "core-banking"


def take_over(catalog: Catalog, kind: str) -> lease.Lease:
    """Do what another node does to a holder cut off past its lease: see the running job of
    `kind` held by a host it cannot judge with its lease expired, and acquire the lease."""
    with catalog.begin() as connection:
        row = connection.execute(
            select(jobs).where(jobs.c.kind == kind, jobs.c.state == "running")
        ).one()
        connection.execute(
            update(jobs)
            .where(jobs.c.id == row.id)
            .values(holder_host="node-a.cut-off", lease_expires_at=now() - 1)
        )
    return lease.acquire(catalog, kind, row.subject)


@contextmanager
def taken_over_at_first_write(
    monkeypatch: pytest.MonkeyPatch, catalog_url: str, kind: str, store: str
) -> Iterator[list[lease.Lease]]:
    """Take the running `kind` job over when it first writes to `store`; yield the taker's
    lease (released at the end)."""
    taker: list[lease.Lease] = []
    write_stream = FileStore.write_stream

    def write(
        self: FileStore, key: str, chunks: Iterable[bytes], *, size: int, sha256: str
    ) -> None:
        if self.name == store and not taker:
            taker.append(take_over(Catalog(catalog_url), kind))
        write_stream(self, key, chunks, size=size, sha256=sha256)

    monkeypatch.setattr(FileStore, "write_stream", write)
    try:
        yield taker
    finally:
        for held in taker:
            lease.release(held, state="succeeded")


def job_rows(catalog: Catalog, kind: str) -> list[tuple[str, str | None, str | None]]:
    with catalog.begin() as connection:
        rows = connection.execute(select(jobs).where(jobs.c.kind == kind).order_by(jobs.c.id))
        return [(row.state, row.lock_key, row.error) for row in rows]


def test_a_backup_taken_over_mid_run_records_no_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path = prepare_sandbox(tmp_path / "sb")
    with open_runtime(load_site(config_path)) as runtime:
        run_workload(runtime, SYSTEM, "production", "ledger", postings=5, seed=1)
        url = str(runtime.catalog.engine.url)
        with (
            taken_over_at_first_write(monkeypatch, url, "backup", "primary") as taker,
            pytest.raises(InfrastructureError) as raised,
        ):
            run_backup(runtime, SYSTEM)
        assert taker, "the take-over never happened: the test proves nothing"
        assert raised.value.exit_code == ExitCode.INFRASTRUCTURE
        assert "taken over by another process" in str(raised.value)
        with runtime.catalog.begin() as connection:
            assert connection.execute(select(recovery_points)).all() == []
            # The taker's record stands: the cut-off run is aborted, not `succeeded`/`failed`.
        (first, first_key, first_error), (second, second_key, _) = job_rows(
            runtime.catalog, "backup"
        )
        assert (first, first_key) == ("aborted", None)
        assert "taken over by" in (first_error or "")
        assert (second, second_key) == ("succeeded", None)  # as the taker released it


def test_a_copy_taken_over_mid_run_records_no_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path = prepare_sandbox(tmp_path / "sb")
    with open_runtime(load_site(config_path)) as runtime:
        run_workload(runtime, SYSTEM, "production", "ledger", postings=5, seed=1)
        points = [outcome.recovery_point_id for outcome in run_backup(runtime, SYSTEM)]
        url = str(runtime.catalog.engine.url)
        with (
            taken_over_at_first_write(monkeypatch, url, "copy_offsite", "offsite") as taker,
            pytest.raises(InfrastructureError) as raised,
        ):
            run_copy_offsite(runtime, systems=[SYSTEM])
        assert taker, "the take-over never happened: the test proves nothing"
        assert raised.value.exit_code == ExitCode.INFRASTRUCTURE
        with runtime.catalog.begin() as connection:
            offsite = connection.execute(select(copies).where(copies.c.store == "offsite")).all()
            assert offsite == []
            assert all(cat.get_recovery_point(connection, p).status == "complete" for p in points)
        (first, first_key, _), (second, second_key, _) = job_rows(runtime.catalog, "copy_offsite")
        assert (first, first_key) == ("aborted", None)
        assert (second, second_key) == ("succeeded", None)  # as the taker released it
