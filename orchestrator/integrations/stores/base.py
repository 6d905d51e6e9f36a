"""The small Store protocol every store implements, and the factory that picks one by URL."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, BinaryIO, Protocol

if TYPE_CHECKING:
    from orchestrator.config import LoadedConfig

MANIFEST_NAME = "manifest.json"


def point_prefix(system: str, dataset: str, recovery_point_id: str) -> str:
    """Return the key prefix of a recovery point inside a store."""
    return f"{system}/{dataset}/{recovery_point_id}"


class Store(Protocol):
    """Where recovery points live. Keys are `/`-separated and relative to the store root."""

    name: str
    site: str

    def prepare(self) -> None:
        """Make the store ready to receive recovery points (create the root, check the bucket)."""

    def write_stream(self, key: str, chunks: Iterable[bytes], *, size: int, sha256: str) -> None:
        """Write chunks to key atomically; the store checks sha256 where it can."""

    def open_read(self, key: str) -> AbstractContextManager[BinaryIO]:
        """Open key for streaming reads."""

    def read_bytes(self, key: str) -> bytes:
        """Return the whole (small) object at key."""

    def exists(self, key: str) -> bool:
        """Return True when key exists."""

    def size(self, key: str) -> int:
        """Return the size of the object at key."""

    def written_at(self, key: str) -> float:
        """Return the store's own record of when key was written (epoch seconds)."""

    def list_keys(self, prefix: str) -> Iterator[str]:
        """Yield every key under prefix."""

    def list_points(self) -> Iterator[tuple[str, str, str]]:
        """Yield (system, dataset, recovery_point_id) for every recovery point directory,
        complete or not."""

    def delete_point(self, system: str, dataset: str, recovery_point_id: str) -> None:
        """Delete every object of a recovery point (the manifest first, so it stops counting)."""


def open_store(config: LoadedConfig, name: str) -> Store:
    """Given the config and a store name, return the Store for its URL."""
    from orchestrator.integrations.stores.file import FileStore

    definition = config.model.store(name)
    url = config.store_url(name)
    if url.startswith("file://"):
        return FileStore(name, definition.site, url.removeprefix("file://"))
    scheme = url.split("://", 1)[0]
    raise NotImplementedError(f"store {name}: {scheme}:// stores are not available yet")
