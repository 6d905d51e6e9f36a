"""What every action runs with: the site (config, rule pack, calendar), the catalog, the
stores and hosts it opens on demand, and a work directory."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from orchestrator.config import LoadedConfig, directory_problem
from orchestrator.errors import InputError
from orchestrator.integrations.hosts import HostFiles, open_host_files
from orchestrator.integrations.stores import Store, open_store
from orchestrator.model.catalog import Catalog
from orchestrator.model.migrate import require_current, require_present, upgrade_catalog
from orchestrator.rules.rotation import lock_seconds
from orchestrator.rules.rule import RulePack
from orchestrator.rules.workdays import WorkdayCalendar
from orchestrator.sandbox_lock import using_sandbox
from orchestrator.site import LoadedSite

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Runtime:
    """One command's resources. `config`, `pack` and `calendar` are the site as loaded once;
    `catalog` is open; stores and hosts are opened on first use and closed with the runtime.

    Each thread gets its own store and host connections: `serve --workers N` runs N actions
    in threads of one process, and one SFTP session used by two threads at once mixes up
    their replies (two backups on one host then wait for each other forever)."""

    config: LoadedConfig
    pack: RulePack
    calendar: WorkdayCalendar
    catalog: Catalog
    progress: bool = False
    _hosts: dict[tuple[int, str], HostFiles] = field(default_factory=dict)
    _stores: dict[tuple[int, str], Store] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def work_dir(self) -> Path:
        path = self.config.state_dir / "work"
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path

    def store(self, name: str) -> Store:
        """Return the named store, opened once per run and thread (SFTP stores hold a
        connection)."""
        return self._per_thread(
            self._stores,
            name,
            lambda: open_store(self.config.store_settings(name, lock_seconds(self.pack))),
        )

    def host_files(self, host: str) -> HostFiles:
        """Return file access to a host, opened once per run and thread."""
        return self._per_thread(
            self._hosts, host, lambda: open_host_files(self.config.inventory, host)
        )

    def _per_thread(self, opened: dict[tuple[int, str], T], name: str, open_: Callable[[], T]) -> T:
        """Return this thread's `name` from `opened`, opening it first if it is not there."""
        key = (threading.get_ident(), name)
        with self._lock:
            found = opened.get(key)
        if found is None:  # opened outside the lock: only this thread uses this key
            found = open_()
            with self._lock:
                opened[key] = found
        return found

    def close(self) -> None:
        with self._lock:
            hosts, stores = list(self._hosts.values()), list(self._stores.values())
            self._hosts.clear()
            self._stores.clear()
        for host in hosts:
            host.close()
        for store in stores:
            store.close()
        self.catalog.close()


def check_state_dir(config: LoadedConfig, *, create: bool) -> None:
    """Raise InputError (exit 2) when dr.yml's state_dir names a file (or a path through one):
    a usage error, not a broken disk (3). Then, with create, make it unless it is there."""
    problem = directory_problem("state_dir", config.state_dir)
    if problem is not None:
        raise InputError(str(config.path), [problem])
    if create:
        config.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)


@contextmanager
def open_runtime(
    site: LoadedSite, *, progress: bool = False, writes: bool = True
) -> Iterator[Runtime]:
    """Given the loaded site, open the catalog and yield the runtime; close everything it
    opened on the way out. A runtime that writes first upgrades the catalog's schema; one
    that only reads (`writes=False`) refuses a schema that is not current, or a SQLite
    catalog that does not exist, without creating it or its state_dir (exit 2). A runtime that
    writes to a sandbox holds its lock shared, refused (exit 3) while a sandbox drill resets
    it (sandbox_lock.py)."""
    config = site.config
    with using_sandbox(config.path.parent) if writes else nullcontext():
        check_state_dir(config, create=writes)
        if not writes:
            require_present(config.catalog_url)  # a reader creates no catalog to refuse (exit 2)
        catalog = Catalog(config.catalog_url)
        try:
            if writes:
                upgrade_catalog(catalog)
            else:
                require_current(catalog)
        except BaseException:
            catalog.close()
            raise
        runtime = Runtime(
            config=config,
            pack=site.pack,
            calendar=site.calendar,
            catalog=catalog,
            progress=progress,
        )
        try:
            yield runtime
        finally:
            runtime.close()
