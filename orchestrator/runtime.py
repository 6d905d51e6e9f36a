"""What every action runs with: the site (config, rule pack, calendar), the catalog, the
stores and hosts it opens on demand, and a work directory."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.config import LoadedConfig
from orchestrator.integrations.hosts import HostFiles, open_host_files
from orchestrator.integrations.stores import Store, open_store
from orchestrator.model.catalog import Catalog
from orchestrator.model.migrate import require_current, upgrade_catalog
from orchestrator.rules.rotation import lock_seconds
from orchestrator.rules.rule import RulePack
from orchestrator.rules.workdays import WorkdayCalendar
from orchestrator.site import LoadedSite

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    """One command's resources. `config`, `pack` and `calendar` are the site as loaded once;
    `catalog` is open; stores and hosts are opened on first use and closed with the runtime."""

    config: LoadedConfig
    pack: RulePack
    calendar: WorkdayCalendar
    catalog: Catalog
    progress: bool = False
    _hosts: dict[str, HostFiles] = field(default_factory=dict)
    _stores: dict[str, Store] = field(default_factory=dict)

    @property
    def work_dir(self) -> Path:
        path = self.config.state_dir / "work"
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path

    def store(self, name: str) -> Store:
        """Return the named store, opened once per run (SFTP stores hold a connection)."""
        if name not in self._stores:
            settings = self.config.store_settings(name, lock_seconds(self.pack))
            self._stores[name] = open_store(settings)
        return self._stores[name]

    def host_files(self, host: str) -> HostFiles:
        if host not in self._hosts:
            self._hosts[host] = open_host_files(self.config.inventory, host)
        return self._hosts[host]

    def close(self) -> None:
        for host in self._hosts.values():
            host.close()
        self._hosts.clear()
        for store in self._stores.values():
            store.close()
        self._stores.clear()
        self.catalog.close()


@contextmanager
def open_runtime(
    site: LoadedSite, *, progress: bool = False, writes: bool = True
) -> Iterator[Runtime]:
    """Given the loaded site, open the catalog and yield the runtime; close everything it
    opened on the way out. A runtime that writes first upgrades the catalog's schema; one
    that only reads (`writes=False`) refuses a schema that is not current (exit 2)."""
    config = site.config
    config.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
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
        config=config, pack=site.pack, calendar=site.calendar, catalog=catalog, progress=progress
    )
    try:
        yield runtime
    finally:
        runtime.close()
