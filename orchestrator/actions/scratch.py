"""Scratch areas: where customer data or half-written objects live only while a job runs.

Every area is journalled in the catalog (`scratch_areas`) before the first byte goes in, and
removed on every exit path of the job that made it. A `kill -9` skips every exit path: the row
stays, naming its holder (user, host, pid, process start). The next command that writes finds
the holder dead, cleans the area, records the cleaning as a `cleanup` job in the catalog and
reports each area on stderr. An area whose host or store cannot be reached stays journalled and
is tried again by the next run.

Kinds:
  host_path     a directory on an inventory host (a dump spool, a restore in the enclave)
  database      a scratch database a restore makes beside the real one (dropped by destroy.yml)
  store_prefix  a recovery point being written to a store (temporary files, multipart uploads)
  drill         a test failover's drill databases and directories on a host (scratch_drill.py)

ansible-runner's private directories on this machine (`work/runner/<pid>-<ident>`) are swept
by the same pass: they are named after the process that made them.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import and_, delete, insert, select, update

from orchestrator.actions.scratch_drill import wipe_drill_area
from orchestrator.actions.scratch_places import refused_database, refused_path
from orchestrator.errors import OrchestratorError
from orchestrator.integrations.ansible import run_playbook, runner_directory_holder
from orchestrator.integrations.ssh_control import left_directories, remove_directory
from orchestrator.integrations.stores.base import Store
from orchestrator.model import catalog as cat
from orchestrator.model import schema
from orchestrator.model.holders import Liveness, current_holder, liveness
from orchestrator.runtime import Runtime

logger = logging.getLogger(__name__)
RESTORE_ONLY_KEYS = ("scratch_database", "target_database", "target_path")


@dataclass
class Cleaned:
    """One area an interrupted run left behind, and what cleaning it did."""

    kind: str
    place: str
    location: str
    job: str
    holder: str
    since: float
    removed: list[str] = field(default_factory=list)
    error: str | None = None

    def describe(self) -> str:
        what = {
            "host_path": "directory",
            "database": "scratch database",
            "drill": "the drill targets of a killed drill in",
        }.get(self.kind, "")
        where = f"{what} {self.location} on {self.place}" if what else self.location
        if self.kind == "store_prefix":
            where = f"unfinished writes under {self.location} in store {self.place}"
        left = f"left by {self.job} ({self.holder}, {_iso(self.since)})"
        if self.error:
            return f"could not clean {where} {left}: {self.error}; will retry on the next run"
        listed = self.kind in ("store_prefix", "drill")
        removed = f": {', '.join(self.removed)}" if listed else ""
        return f"cleaned {where} {left}" + (removed if self.removed else ": nothing left")

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _iso(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


def open_area(
    runtime: Runtime,
    kind: str,
    place: str,
    location: str,
    *,
    job: str,
    detail: Mapping[str, Any] | None = None,
) -> int:
    """Journal a scratch area before it is used; return its id."""
    holder = current_holder()
    with runtime.catalog.begin() as connection:
        result = connection.execute(
            insert(schema.scratch_areas).values(
                kind=kind,
                place=place,
                location=location,
                detail=dict(detail or {}),
                job=job,
                holder_user=holder.user,
                holder_host=holder.host,
                holder_pid=holder.pid,
                holder_start=holder.process_start,
                created_at=cat.now(),
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]


def close_area(runtime: Runtime, area_id: int) -> None:
    """Forget a scratch area: it has been cleaned (or put to its final use)."""
    with runtime.catalog.begin() as connection:
        connection.execute(delete(schema.scratch_areas).where(schema.scratch_areas.c.id == area_id))


@contextmanager
def host_scratch(runtime: Runtime, host: str, path: str, *, job: str) -> Iterator[None]:
    """Journal a directory on a host for the block and remove it on every way out. A removal
    that fails is logged (the area stays journalled for the next run), never raised over the
    block's own error."""
    area = open_area(runtime, "host_path", host, path, job=job)
    try:
        yield
    finally:
        try:
            runtime.host_files(host).remove_tree(path)
        except (OrchestratorError, OSError) as error:
            logger.error("could not remove %s on %s (next run will): %s", path, host, error)
        else:
            close_area(runtime, area)


@contextmanager
def store_scratch(runtime: Runtime, store: Store, prefix: str, *, job: str) -> Iterator[None]:
    """Journal a recovery point being written to a store; if the block fails, remove what it
    left in flight under prefix (the objects already complete stay: they may be locked)."""
    area = open_area(runtime, "store_prefix", store.name, prefix, job=job)
    try:
        yield
    except BaseException:
        try:
            store.remove_partials(prefix)
        except (OrchestratorError, OSError) as error:
            logger.error(
                "store %s: could not clean %s (next run will): %s", store.name, prefix, error
            )
        else:
            close_area(runtime, area)
        raise
    close_area(runtime, area)


@contextmanager
def database_scratch(
    runtime: Runtime, host: str, items: Sequence[Mapping[str, Any]], *, job: str
) -> Iterator[None]:
    """Journal the scratch databases a restore will make on host (each item's
    `scratch_database`). The engine module drops them itself; if the block fails they are
    dropped here too, in case the module never got to it."""
    areas = [
        (
            open_area(
                runtime,
                "database",
                host,
                str(item["scratch_database"]),
                job=job,
                detail=dict(item),
            ),
            item,
        )
        for item in items
        if item.get("scratch_database")
    ]
    try:
        yield
    except BaseException:
        if areas:
            error = _drop_databases(runtime, host, [item for _area, item in areas], job)
            if error is None:
                for area, _item in areas:
                    close_area(runtime, area)
        raise
    for area, _item in areas:
        close_area(runtime, area)


def _drop_databases(
    runtime: Runtime, host: str, items: Sequence[Mapping[str, Any]], job: str
) -> str | None:
    """Drop scratch databases on host with destroy.yml; return None, or why it failed."""
    # The destroy entry point takes the live dataset's keys only (its argument specs refuse
    # others): the scratch database goes in as the database to drop.
    targets = [
        {
            **{key: value for key, value in item.items() if key not in RESTORE_ONLY_KEYS},
            "database": item["scratch_database"],
            "downstream": "allow",  # a cleanup: the drop of a scratch copy reaches replicas too
        }
        for item in items
        if refused_database(runtime.config.model, str(item.get("scratch_database", ""))) is None
    ]
    if not targets:
        return None
    try:
        run = run_playbook(
            "destroy.yml",
            inventory=runtime.config.inventory,
            extravars={"dr_host": host, "dr_datasets": targets},
            ident=f"cleanup-{host}-{time.time_ns()}",
            work_dir=runtime.work_dir,
            limit=host,
        )
    except OrchestratorError as error:
        return str(error)
    if not run.ok:
        return "; ".join(run.failures or [run.status])
    logger.info("dropped scratch databases on %s for %s", host, job)
    return None


# -- the sweep: clean what dead holders left ---------------------------------------------------


def sweep_orphans(runtime: Runtime) -> list[Cleaned]:
    """Clean every scratch area whose holder is dead, record the cleaning, and report each
    area on stderr; return what was found."""
    cleaned = [
        *_sweep_areas(runtime),
        *_sweep_runner_directories(runtime),
        *_sweep_control_directories(runtime.work_dir),
    ]
    if not cleaned:
        return []
    for item in cleaned:
        (logger.error if item.error else logger.warning)("%s", item.describe())
    now = cat.now()
    holder = current_holder()
    with runtime.catalog.begin() as connection:
        connection.execute(
            insert(schema.jobs).values(
                kind="cleanup",
                subject="scratch",
                state="failed" if any(item.error for item in cleaned) else "succeeded",
                owner=f"{holder.host}:{holder.pid}",
                started_at=now,
                finished_at=now,
                detail={"cleaned": [item.as_dict() for item in cleaned]},
            )
        )
    return cleaned


def _claim_orphans(runtime: Runtime) -> list[Any]:
    """Return the journalled areas whose holder is dead, each claimed for this process (so two
    runs never clean the same area)."""
    holder = current_holder()
    claimed = []
    with runtime.catalog.begin() as connection:
        rows = list(connection.execute(select(schema.scratch_areas)))
        for row in rows:
            if liveness(row.holder_host, row.holder_pid, row.holder_start) != Liveness.DEAD:
                continue
            result = connection.execute(
                update(schema.scratch_areas)
                .where(
                    and_(
                        schema.scratch_areas.c.id == row.id,
                        schema.scratch_areas.c.holder_pid == row.holder_pid,
                        schema.scratch_areas.c.holder_host == row.holder_host,
                    )
                )
                .values(
                    holder_user=holder.user,
                    holder_host=holder.host,
                    holder_pid=holder.pid,
                    holder_start=holder.process_start,
                )
            )
            if result.rowcount == 1:
                claimed.append(row)
    return claimed


def _sweep_areas(runtime: Runtime) -> list[Cleaned]:
    cleaned = []
    for row in _claim_orphans(runtime):
        item = Cleaned(
            kind=row.kind,
            place=row.place,
            location=row.location,
            job=row.job,
            holder=f"{row.holder_user}@{row.holder_host} pid {row.holder_pid}",
            since=row.created_at,
        )
        try:
            item.removed = _clean(runtime, row)
        except (OrchestratorError, OSError) as error:
            item.error = str(error)
        else:
            close_area(runtime, row.id)
        cleaned.append(item)
    return cleaned


def _clean(runtime: Runtime, row: Any) -> list[str]:
    """Clean one orphaned area; return what was removed. Raise on failure."""
    if row.kind == "host_path":
        refused = refused_path(runtime.config.model, row.place, row.location)
        if refused is not None:
            raise OrchestratorError(f"refused, nothing removed: {refused}")
        runtime.host_files(row.place).remove_tree(row.location)
        return [row.location]
    if row.kind == "store_prefix":
        return runtime.store(row.place).remove_partials(row.location)
    if row.kind == "database":
        refused = refused_database(runtime.config.model, str(row.location))
        if refused is not None:
            raise OrchestratorError(f"refused, nothing dropped: {refused}")
        error = _drop_databases(runtime, row.place, [row.detail], row.job)
        if error is not None:
            raise OrchestratorError(error)
        return [row.location]
    if row.kind == "drill":
        return wipe_drill_area(runtime, row.place, row.detail or {})
    raise OrchestratorError(f"unknown scratch area kind {row.kind!r}")


def _sweep_runner_directories(runtime: Runtime) -> list[Cleaned]:
    """Remove ansible-runner private directories of dead drctl processes on this machine."""
    base = runtime.work_dir / "runner"
    found = [
        (directory, runner_directory_holder(directory.name))
        for directory in (sorted(base.iterdir()) if base.is_dir() else [])
    ]
    remove = partial(shutil.rmtree, ignore_errors=True)
    return _sweep_dead(found, "a playbook run", remove)


def _sweep_control_directories(work_dir: Path) -> list[Cleaned]:
    """Given the site's work directory, close the SSH masters of its dead drctl processes'
    playbook runs and remove their control directories (integrations/ssh_control.py)."""
    found = left_directories(work_dir)
    return _sweep_dead(found, "a playbook run's SSH connections", remove_directory)


def _sweep_dead(
    found: Sequence[tuple[Path, int | None]], job: str, remove: Callable[[Path], object]
) -> list[Cleaned]:
    """Remove each controller directory whose drctl process (pid) is dead; return them."""
    cleaned = []
    for directory, holder in found:
        if holder is None or liveness(current_holder().host, holder, 0) != Liveness.DEAD:
            continue
        try:
            since = directory.stat().st_mtime
        except OSError:
            continue  # removed meanwhile
        remove(directory)
        cleaned.append(
            Cleaned(
                kind="controller_path",
                place=current_holder().host,
                location=str(directory),
                job=job,
                holder=f"pid {holder}",
                since=since,
                removed=[str(directory)],
            )
        )
    return cleaned
