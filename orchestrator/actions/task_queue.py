"""The shared task queue of `drctl serve` on a PostgreSQL catalog: procrastinate, in the
catalog's own database (docs/deploy.md, "Several serve nodes", says why procrastinate).

Every serve node runs, next to its probes and /metrics:
- a procrastinate worker (its own thread and event loop) taking queued actions from the
  queue `drctl` with `concurrency` jobs at a time, proving it is alive by a heartbeat;
- a scheduling pass every `--run-due-interval` seconds (`QueueNode.schedule_pass`): release
  catalog leases of dead holders, put back on the queue the jobs of workers whose heartbeat
  stopped (procrastinate's stalled-job detection: another node then runs them), and defer
  every due action with a queueing lock, so a due action waits on the queue once whichever
  node (or how many nodes) planned it.

This module is the one place that talks to procrastinate.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import procrastinate
import psycopg
from procrastinate import exceptions as queue_errors
from procrastinate.jobs import Status as JobStatus
from procrastinate.schema import SchemaManager
from sqlalchemy.engine import make_url

from orchestrator.actions.queue_jobs import (
    Bounds,
    QueuedAction,
    execute_action,
    recently_failed,
    split_due,
)
from orchestrator.actions.run_due import plan_due
from orchestrator.errors import CatalogSchemaMismatch
from orchestrator.model.jobs import release_stale_jobs
from orchestrator.model.snapshot import read_catalog
from orchestrator.runtime import Runtime

logger = logging.getLogger(__name__)
QUEUE = "drctl"
TASK_NAME = "drctl.due_action"
SCHEMA_LOCK = 0x64726374  # advisory lock held while the queue's schema is applied


@dataclass(frozen=True)
class QueueOptions:
    """A node's worker: jobs at once, heartbeat, when a silent worker counts as dead, and
    the cross-node bounds per host and per store."""

    concurrency: int = 1
    heartbeat_seconds: float = 10.0
    stalled_after_seconds: float = 60.0
    poll_seconds: float = 5.0
    bounds: Bounds = field(default_factory=Bounds)


def queue_conninfo(catalog_url: str) -> str | None:
    """Return the libpq URL of the catalog's database when it is PostgreSQL, else None."""
    url = make_url(catalog_url)
    if url.get_backend_name() != "postgresql":
        return None
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _queue_functions() -> set[str]:
    """The functions this procrastinate's schema defines (versioned names such as
    `procrastinate_fetch_job_v2`: a schema from an older procrastinate lacks some)."""
    return set(re.findall(r"CREATE FUNCTION (procrastinate_\w+)", SchemaManager.get_schema()))


def _missing_functions(connection: psycopg.Connection[Any]) -> list[str] | None:
    """None when the queue's tables are absent, else the functions of this procrastinate's
    schema the database lacks."""
    row = connection.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
    if row is None or row[0] is None:
        return None
    present = connection.execute(
        "SELECT proname FROM pg_proc WHERE proname LIKE 'procrastinate%' "
        "AND pg_function_is_visible(oid)"
    ).fetchall()
    return sorted(_queue_functions() - {name for (name,) in present})


def _outdated(missing: list[str]) -> CatalogSchemaMismatch:
    return CatalogSchemaMismatch(
        f"the task queue's schema in the catalog's database is older than procrastinate "
        f"{procrastinate.__version__} (it lacks {', '.join(missing)}): apply procrastinate's "
        "migrations (`procrastinate schema --migrations-path` lists them), then run "
        "`drctl catalog upgrade`"
    )


def queue_schema_state(conninfo: str) -> str:
    """Return `absent` or `current`; raise CatalogSchemaMismatch (exit 2) when the queue's
    tables are there from an older procrastinate."""
    with psycopg.connect(conninfo, autocommit=True) as connection:
        missing = _missing_functions(connection)
    if missing:
        raise _outdated(missing)
    return "absent" if missing is None else "current"


def apply_queue_schema(conninfo: str) -> bool:
    """Create procrastinate's tables in the catalog's database unless they are there (under
    an advisory lock, so nodes starting together apply it once); return whether applied.
    Raise CatalogSchemaMismatch (exit 2) when they are there from an older procrastinate:
    its own migrations must be applied first. procrastinate's schema manager applies the
    schema, not an Alembic migration of the catalog (docs/deploy.md, "The queue's schema")."""
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            missing = _missing_functions(connection)
            if missing:
                raise _outdated(missing)
            if missing is not None:
                return False
            connection.execute(SchemaManager.get_schema())
            logger.info("task queue: procrastinate schema applied")
            return True
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))


class QueueNode:
    """One node's procrastinate worker and scheduler, bound to a runtime."""

    def __init__(self, runtime: Runtime, conninfo: str, options: QueueOptions) -> None:
        self.runtime, self.conninfo, self.options = runtime, conninfo, options
        self.app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo))
        self.app.task(name=TASK_NAME, queue=QUEUE)(self._run)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="task-queue", daemon=True)

    def _run(self, kind: str, system: str) -> str:
        return execute_action(
            self.runtime, self.conninfo, self.options.bounds, QueuedAction(kind, system)
        )

    def start(self) -> None:
        apply_queue_schema(self.conninfo)
        self._thread.start()
        if not self._ready.wait(timeout=60):
            raise RuntimeError("task queue: the worker did not start within 60 s")

    def stop(self) -> None:
        """Stop taking jobs; the running ones finish (procrastinate's graceful stop)."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()

    def _main(self) -> None:
        asyncio.run(self._work())

    async def _work(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        async with self.app.open_async():
            worker = asyncio.create_task(
                self.app.run_worker_async(
                    queues=[QUEUE],
                    concurrency=self.options.concurrency,
                    install_signal_handlers=False,
                    update_heartbeat_interval=self.options.heartbeat_seconds,
                    stalled_worker_timeout=self.options.stalled_after_seconds,
                    fetch_job_polling_interval=self.options.poll_seconds,
                    delete_jobs="never",
                )
            )
            self._ready.set()
            await self._stop.wait()
            worker.cancel()
            try:
                await worker
            except asyncio.CancelledError:
                pass

    def _call(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        assert self._loop is not None, "start() first"
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=120)

    def schedule_pass(self) -> dict[str, Any]:
        """Release dead holders' leases, requeue stalled jobs, defer what is due; return
        counts. Called from the serve loop of every node."""
        released = release_stale_jobs(self.runtime.catalog)
        requeued = self._call(self._requeue_stalled())
        running = self._call(self._running_keys())
        snapshot = read_catalog(self.runtime.catalog)
        moment = datetime.now(UTC)
        due = plan_due(self.runtime.config, snapshot, moment, self.runtime.pack)
        actions = [
            action
            for action in split_due(due, running)
            if action.key not in running  # a running one re-checks under its lease
            and not recently_failed(snapshot, action, moment.timestamp())
        ]
        deferred = self._call(self._defer(actions))
        summary = {"released": released, "requeued": requeued, "due": len(actions)}
        summary["deferred"] = deferred
        logger.info("task queue: %s", summary)
        return summary

    async def _requeue_stalled(self) -> int:
        manager = self.app.job_manager
        stalled = await manager.get_stalled_jobs(
            queue=QUEUE, seconds_since_heartbeat=self.options.stalled_after_seconds
        )
        requeued = 0
        for job in stalled:
            try:
                await manager.retry_job(job)
                requeued += 1
                logger.warning(
                    "task queue: job %s (%s) lost its worker; put back", job.id, job.lock
                )
            except queue_errors.UniqueViolation:  # the same action already waits: end this one
                await manager.finish_job(job, status=JobStatus.FAILED, delete_job=False)
                logger.warning(
                    "task queue: job %s (%s) lost its worker; the same action already waits, "
                    "so it is ended failed",
                    job.id,
                    job.lock,
                )
        return requeued

    async def _running_keys(self) -> set[str]:
        rows = await self.app.connector.execute_query_all_async(
            "SELECT queueing_lock FROM procrastinate_jobs "
            "WHERE status = 'doing' AND queue_name = %(queue)s",
            queue=QUEUE,
        )
        return {row["queueing_lock"] for row in rows}

    async def _defer(self, actions: list[QueuedAction]) -> int:
        task = self.app.tasks[TASK_NAME]
        deferred = 0
        for action in actions:
            try:
                await task.configure(lock=action.lock, queueing_lock=action.key).defer_async(
                    kind=action.kind, system=action.system
                )
                deferred += 1
            except queue_errors.AlreadyEnqueued:
                continue
        return deferred
