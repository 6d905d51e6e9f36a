"""Job leases: who runs a job, proven alive by renewal, taken over when the holder is dead.

A job's catalog row is its lock while `lock_key` (kind:subject) is set: the column is unique,
so only one row per job can hold it. The row names its holder (user, host, pid, process start)
and carries `lease_expires_at`, pushed forward every RENEW_SECONDS by a thread of the holding
process for as long as the job runs.

A second run that finds the lock held looks at the holder:
- dead (on this host: no such process, or the pid now belongs to another process), or on
  another host with the lease expired: the lease is taken over. The interrupted job's row is
  recorded `aborted` (nothing it did counted) and the new run goes on;
- alive (or on another host with a lease still running): the second run stops with JobBusy,
  one line naming the holder and since when (exit 3).

A take-over is a compare-and-swap on the expiry it judged: a holder that renewed meanwhile
keeps its lease. A holder cut off for longer than its lease (a paused VM, a partitioned node)
may find on its return that its job was taken over; `fence` is how its work finds out: a
write that makes work count (a recovery point, a copy) runs `fence` in its own transaction,
which locks the job's row and raises LeaseLost unless the job still holds its lock. The lost
job's row stays as the taker recorded it (`release` never overwrites another's record).

A row written before leases existed (no holder columns) is judged from its `owner`
(`host:pid`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from orchestrator.errors import JobBusy, LeaseLost
from orchestrator.model.catalog import Catalog, now
from orchestrator.model.catalog_errors import catalog_problem
from orchestrator.model.holders import Holder, Liveness, current_holder, liveness
from orchestrator.model.schema import jobs

logger = logging.getLogger(__name__)
LEASE_SECONDS = 120.0
RENEW_SECONDS = 30.0
TAKEOVER_ATTEMPTS = 3
CRASH_MARK = "orchestrator stopped while the job ran"  # run-due retries such jobs at once


def _iso(moment: float | None) -> str:
    if moment is None:
        return "?"
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


def row_holder(row: Any) -> Holder:
    """Return the holder a job row names (from `owner` for rows older than leases)."""
    if getattr(row, "holder_host", None):
        return Holder(
            row.holder_user or "?", row.holder_host, int(row.holder_pid), row.holder_start or 0
        )
    host, _, pid = str(row.owner).rpartition(":")
    return Holder("?", host, int(pid) if pid.isdigit() else 0, 0)


def describe_holder(row: Any) -> str:
    holder = row_holder(row)
    return (
        f"held by {holder.describe()} since {_iso(row.started_at)} "
        f"(lease until {_iso(getattr(row, 'lease_expires_at', None))})"
    )


def holder_gone(row: Any, moment: float) -> bool:
    """Return True when the row's holder is dead, or unknown with its lease expired, or this
    very process with its lease expired and no longer renewed by it (its end could not be
    recorded: a catalog fault as the job ended)."""
    holder = row_holder(row)
    state = liveness(holder.host, holder.pid, holder.process_start)
    if state == Liveness.DEAD:
        return True
    expires = getattr(row, "lease_expires_at", None)
    expired = expires is not None and expires < moment
    if state == Liveness.ALIVE and _is_this_process(holder):
        return expired and not _renewing(int(row.id))
    return state == Liveness.UNKNOWN and expired


# The job ids this process is renewing a lease for: a row naming this process whose id is not
# here, with its lease expired, is a job whose release failed, not one still running.
_RENEWING: set[int] = set()
_RENEWING_LOCK = threading.Lock()


def _renewing(job_id: int) -> bool:
    with _RENEWING_LOCK:
        return job_id in _RENEWING


def _is_this_process(holder: Holder) -> bool:
    me = current_holder()
    return (holder.host, holder.pid) == (me.host, me.pid) and holder.process_start in (
        0,
        me.process_start,
    )


@dataclass
class Lease:
    """A held job: its row id, and the thread that renews it until released."""

    catalog: Catalog
    job_id: int
    key: str
    lease_seconds: float = LEASE_SECONDS
    renew_seconds: float = RENEW_SECONDS
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start_renewing(self) -> None:
        with _RENEWING_LOCK:
            _RENEWING.add(self.job_id)
        self._thread = threading.Thread(target=self._renew, name=f"lease {self.key}", daemon=True)
        self._thread.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.renew_seconds):
            try:
                with self.catalog.begin() as connection:
                    result = connection.execute(
                        update(jobs)
                        .where(and_(jobs.c.id == self.job_id, jobs.c.lock_key == self.key))
                        .values(lease_expires_at=now() + self.lease_seconds)
                    )
                if result.rowcount != 1:
                    logger.error("lease %s: lost (taken over by another process)", self.key)
                    return
            except SQLAlchemyError as error:
                logger.warning(
                    "lease %s: renewal failed, will retry: %s",
                    self.key,
                    catalog_problem(error, self.catalog.url),
                )

    def stop(self) -> None:
        with _RENEWING_LOCK:
            _RENEWING.discard(self.job_id)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.renew_seconds + 10)


def acquire(
    catalog: Catalog,
    kind: str,
    subject: str,
    detail: Mapping[str, Any] | None = None,
    *,
    lock: str | None = None,
    lease_seconds: float = LEASE_SECONDS,
    renew_seconds: float = RENEW_SECONDS,
) -> Lease:
    """Record a running job holding the lease lock (default kind:subject) and start renewing
    it; take the lease over from a dead holder (recording its job aborted). Raise JobBusy
    naming a live holder."""
    key = lock or f"{kind}:{subject}"
    for _attempt in range(TAKEOVER_ATTEMPTS):
        holder = current_holder()
        moment = now()
        try:
            with catalog.begin() as connection:
                result = connection.execute(
                    insert(jobs).values(
                        kind=kind,
                        subject=subject,
                        state="running",
                        lock_key=key,
                        owner=f"{holder.host}:{holder.pid}",
                        holder_user=holder.user,
                        holder_host=holder.host,
                        holder_pid=holder.pid,
                        holder_start=holder.process_start,
                        lease_expires_at=moment + lease_seconds,
                        started_at=moment,
                        detail=dict(detail or {}),
                    )
                )
                job_id = int(result.inserted_primary_key[0])  # type: ignore[index]
                lease = Lease(catalog, job_id, key, lease_seconds, renew_seconds)
        except IntegrityError:
            _take_over_or_refuse(catalog, kind, subject, key)
            continue
        lease.start_renewing()
        return lease
    raise JobBusy(f"{kind} {subject}: could not take the lease (contended); try again")


def _take_over_or_refuse(catalog: Catalog, kind: str, subject: str, key: str) -> None:
    """The lease is held: abort a dead holder's job and return (to retry), or raise JobBusy."""
    moment = now()
    with catalog.begin() as connection:
        row = connection.execute(select(jobs).where(jobs.c.lock_key == key)).first()
        if row is None:
            return  # released meanwhile
        if not holder_gone(row, moment):
            raise JobBusy(_busy(kind, subject, key, row))
        reason = (
            f"{CRASH_MARK}: {row_holder(row).describe()} died or stopped renewing its lease; "
            f"taken over by {current_holder().describe()}; nothing counted"
        )
        result = connection.execute(
            update(jobs)
            .where(_as_judged(row), jobs.c.lock_key == key)
            .values(state="aborted", lock_key=None, finished_at=moment, error=reason)
        )
    if result.rowcount == 1:
        logger.warning(
            "%s %s: took over the lease of job %d, %s; recorded it aborted",
            kind,
            subject,
            row.id,
            describe_holder(row),
        )


def _busy(kind: str, subject: str, key: str, row: Any) -> str:
    """The refusal of kind:subject while row holds its lock: the holder named as itself when
    another kind of job shares the lock."""
    if row.kind == kind and row.subject == subject:
        return f"{kind} {subject} is already running: {describe_holder(row)}"
    return (
        f"{kind} {subject} refused: {row.kind} {row.subject} is already running: "
        f"{describe_holder(row)} (one lock, {key})"
    )


def _as_judged(row: Any) -> ColumnElement[bool]:
    """The row as a take-over judged it: same id, same lease expiry (a holder that renewed
    meanwhile is not taken over)."""
    expires = getattr(row, "lease_expires_at", None)
    same_expiry = (
        jobs.c.lease_expires_at.is_(None) if expires is None else jobs.c.lease_expires_at == expires
    )
    return and_(jobs.c.id == row.id, same_expiry)


def fence(connection: Connection, job_id: int, key: str) -> None:
    """Given an open write transaction, a job's row id and its lease key, lock the job's row
    and raise LeaseLost unless the job still holds its lease: what the transaction commits
    then counts only for a job that holds it (a take-over waits for the commit, or came
    first and this one commits nothing)."""
    result = connection.execute(
        update(jobs).where(jobs.c.id == job_id, jobs.c.lock_key == key).values(lock_key=key)
    )
    if result.rowcount != 1:
        raise LeaseLost(
            f"{key}: this job's lease was taken over by another process while it ran (this "
            "node was cut off or paused past its lease); its work from here is not counted, "
            "the other process's run is"
        )


def release(
    lease: Lease,
    *,
    state: str,
    error: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Stop renewing and record the job's end (succeeded, failed or aborted); free the lock."""
    lease.stop()
    values: dict[str, Any] = {
        "state": state,
        "lock_key": None,
        "finished_at": now(),
        "lease_expires_at": None,
        "error": (error or "")[:2000] or None,
    }
    if detail is not None:
        values["detail"] = dict(detail)
    with lease.catalog.begin() as connection:
        result = connection.execute(
            update(jobs)
            .where(jobs.c.id == lease.job_id, jobs.c.lock_key == lease.key)
            .values(**values)
        )
    if result.rowcount != 1:
        logger.error(
            "lease %s: lost while the job ran (taken over by another process); its row stays "
            "as the taker recorded it, this run's %s end is not recorded",
            lease.key,
            state,
        )


def abort_dead_holders(catalog: Catalog) -> int:
    """Record every running job whose holder is gone as aborted and free its lock; return
    how many (run-due does this first, so it can plan again at once)."""
    moment = now()
    aborted = 0
    with catalog.begin() as connection:
        for row in connection.execute(select(jobs).where(jobs.c.state == "running")):
            if not holder_gone(row, moment):
                continue
            result = connection.execute(
                update(jobs)
                .where(_as_judged(row), jobs.c.state == "running")
                .values(
                    state="aborted",
                    lock_key=None,
                    finished_at=moment,
                    error=f"{CRASH_MARK}: {row_holder(row).describe()} died; nothing counted",
                )
            )
            aborted += result.rowcount
    return aborted
