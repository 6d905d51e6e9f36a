"""Jobs: the catalog row that keeps two processes from running the same job at once.

`catalog_job` is the one way to run a job: it records the job as running and takes its lock
on entry (raising JobBusy when another process holds it), and on exit records it finished —
succeeded, failed with the reason, or aborted by an exception or an interrupt — and releases
the lock, on every path:

    with catalog_job(runtime.catalog, "backup", "core-banking@production") as job:
        outcomes = …
        job.detail = {"recovery_points": […]}

The lock is the row's `lock_key`, unique while the job runs. Whatever the lock becomes (a
lease with a holder and an expiry that a live job renews), it is taken in `__enter__` and given
up in `__exit__`, so callers never change.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from orchestrator.errors import JobBusy
from orchestrator.model.catalog import Catalog, jobs, now

logger = logging.getLogger(__name__)
ERROR_MAX_CHARACTERS = 2000
CRASH_MARK = "orchestrator stopped while the job ran"


def owner_name() -> str:
    """Return who runs jobs from this process: `host:pid`."""
    return f"{socket.gethostname()}:{os.getpid()}"


class CatalogJob:
    """A job held in the catalog for the length of a `with` block (see the module docstring).

    `detail` is recorded when the job finishes; `fail(message)` marks it failed without
    raising (the block goes on and decides what to return)."""

    def __init__(
        self, catalog: Catalog, kind: str, subject: str, detail: Mapping[str, Any] | None = None
    ) -> None:
        self.catalog = catalog
        self.kind = kind
        self.subject = subject
        self.detail: Mapping[str, Any] | None = None
        self.id = 0
        self._start_detail = dict(detail or {})
        self._failure: str | None = None

    def fail(self, message: str) -> None:
        """Record the job as failed with message when it finishes."""
        self._failure = message

    def __enter__(self) -> CatalogJob:
        try:
            with self.catalog.begin() as connection:
                result = connection.execute(
                    insert(jobs).values(
                        kind=self.kind,
                        subject=self.subject,
                        state="running",
                        lock_key=f"{self.kind}:{self.subject}",
                        owner=owner_name(),
                        started_at=now(),
                        detail=self._start_detail,
                    )
                )
                self.id = int(result.inserted_primary_key[0])  # type: ignore[index]
        except IntegrityError as error:
            raise JobBusy(
                f"{self.kind} {self.subject} is already running; try again when it has finished"
            ) from error
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
        reason = str(error) if isinstance(error, Exception) else ""
        try:
            self._finish(reason or f"aborted: {type(error).__name__}")
        except SQLAlchemyError as failure:  # keep the job's own error, not the bookkeeping's
            logger.error("job %s %s: cannot record its end: %s", self.kind, self.subject, failure)

    def _finish(self, failure: str | None) -> None:
        values: dict[str, Any] = {
            "state": "succeeded" if failure is None else "failed",
            "lock_key": None,
            "finished_at": now(),
            "error": (failure or "")[:ERROR_MAX_CHARACTERS] or None,
        }
        if self.detail is not None:
            values["detail"] = dict(self.detail)
        with self.catalog.begin() as connection:
            connection.execute(update(jobs).where(jobs.c.id == self.id).values(**values))


def catalog_job(
    catalog: Catalog, kind: str, subject: str, detail: Mapping[str, Any] | None = None
) -> CatalogJob:
    """Given the catalog, a job kind and subject (and what to record at the start), return the
    job to hold in a `with` block. Entering it raises JobBusy if the job is already running."""
    return CatalogJob(catalog, kind, subject, detail)


def release_stale_jobs(catalog: Catalog) -> int:
    """Fail jobs left running by a process on this host that no longer exists (a crash).

    Returns how many were released, so the next pass can catch up cleanly.
    """
    released = 0
    host = socket.gethostname()
    with catalog.begin() as connection:
        for row in connection.execute(select(jobs).where(jobs.c.state == "running")):
            owner_host, _, pid = row.owner.rpartition(":")
            if owner_host != host or not pid.isdigit() or _pid_alive(int(pid)):
                continue
            connection.execute(
                update(jobs)
                .where(jobs.c.id == row.id)
                .values(
                    state="failed",
                    lock_key=None,
                    finished_at=now(),
                    error=f"{CRASH_MARK}; nothing counted",
                )
            )
            released += 1
    return released


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
