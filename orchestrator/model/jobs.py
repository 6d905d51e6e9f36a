"""Jobs: the catalog row that keeps two processes from running the same job at once.

`catalog_job` is the one way to run a job: it records the job as running and takes its lock
on entry (raising JobBusy when another process holds it), and on exit records it finished —
succeeded, failed with the reason, or aborted by an exception or an interrupt — and releases
the lock, on every path:

    with catalog_job(runtime.catalog, "backup", "core-banking@production") as job:
        outcomes = …
        job.detail = {"recovery_points": […]}

The lock is a lease (model/lease.py): the row's `lock_key`, unique while the job runs, names
its holder and an expiry a thread renews while the block runs. Entering takes it — over from a
dead holder, whose job is recorded aborted — or raises JobBusy naming a live holder; leaving
gives it up. Work that counts (a recovery point, a copy) is committed with `job.fence(...)` in
its transaction, so a job whose lease another process took over commits nothing more.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from orchestrator.model import lease
from orchestrator.model.catalog import Catalog
from orchestrator.model.catalog_errors import catalog_problem, is_catalog_error

logger = logging.getLogger(__name__)
ERROR_MAX_CHARACTERS = 2000
CRASH_MARK = lease.CRASH_MARK


class CatalogJob:
    """A job held in the catalog for the length of a `with` block (see the module docstring).

    `detail` is recorded when the job finishes; `fail(message)` marks it failed without
    raising (the block goes on and decides what to return)."""

    def __init__(
        self,
        catalog: Catalog,
        kind: str,
        subject: str,
        detail: Mapping[str, Any] | None = None,
        lock: str | None = None,
    ) -> None:
        self.catalog = catalog
        self.kind = kind
        self.subject = subject
        self.lock = lock
        self.detail: Mapping[str, Any] | None = None
        self.id = 0
        self._start_detail = dict(detail or {})
        self._failure: str | None = None
        self._lease: lease.Lease | None = None

    def fail(self, message: str) -> None:
        """Record the job as failed with message when it finishes."""
        self._failure = message

    def fence(self, connection: Connection) -> None:
        """In the transaction that makes this job's work count, raise LeaseLost unless the
        job still holds its lease (model/lease.py `fence`)."""
        assert self._lease is not None, "the job was never entered"
        lease.fence(connection, self._lease.job_id, self._lease.key)

    def __enter__(self) -> CatalogJob:
        self._lease = lease.acquire(
            self.catalog, self.kind, self.subject, self._start_detail, lock=self.lock
        )
        self.id = self._lease.job_id
        return self

    def __exit__(
        self,
        _kind: type[BaseException] | None,
        error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        if error is None:
            self._finish(self._failure)
            return
        reason = ""
        if isinstance(error, Exception):  # a catalog error on one line, without its statement
            catalog = is_catalog_error(error)
            reason = catalog_problem(error, self.catalog.url) if catalog else str(error)
        try:
            self._finish(reason or f"aborted: {type(error).__name__}")
        except SQLAlchemyError as failure:  # keep the job's own error, not the bookkeeping's
            logger.error(
                "job %s %s: cannot record its end: %s",
                self.kind,
                self.subject,
                catalog_problem(failure, self.catalog.url),
            )

    def _finish(self, failure: str | None) -> None:
        assert self._lease is not None, "the job was never entered"
        lease.release(
            self._lease,
            state="succeeded" if failure is None else "failed",
            error=(failure or "")[:ERROR_MAX_CHARACTERS] or None,
            detail=self.detail,
        )


def catalog_job(
    catalog: Catalog,
    kind: str,
    subject: str,
    detail: Mapping[str, Any] | None = None,
    *,
    lock: str | None = None,
) -> CatalogJob:
    """Given the catalog, a job kind and subject (and what to record at the start), return the
    job to hold in a `with` block. Entering it raises JobBusy if the job is already running.
    The lock is `kind:subject` unless one is given: jobs of different kinds that must not
    overlap (a drill and a switchover of one system) share a lock by naming the same one."""
    return CatalogJob(catalog, kind, subject, detail, lock)


def release_stale_jobs(catalog: Catalog) -> int:
    """Record every running job whose holder is gone (a crash) as aborted and free its lease;
    return how many, so the next pass can catch up cleanly."""
    return lease.abort_dead_holders(catalog)
