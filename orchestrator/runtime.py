"""What every action runs with: the loaded config, the catalog, and a work directory."""

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

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    config: LoadedConfig
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
            self._stores[name] = open_store(self.config, name)
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
            closer = getattr(store, "close", None)
            if closer is not None:
                closer()
        self._stores.clear()
        self.catalog.close()


@contextmanager
def open_runtime(config: LoadedConfig, *, progress: bool = False) -> Iterator[Runtime]:
    config.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    runtime = Runtime(config=config, catalog=Catalog(config.catalog_url), progress=progress)
    try:
        yield runtime
    finally:
        runtime.close()
