"""An S3 store seen at the object versions drctl wrote: reads, heads and ranged reads of a
pinned key ask for its version, so later puts or delete markers over the key are not read."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, BinaryIO

from orchestrator.integrations.stores.s3_wire import HeadFacts

if TYPE_CHECKING:
    from orchestrator.integrations.stores.s3 import S3Store


class PinnedS3Store(HeadFacts):
    """An S3 store seen at given object versions: reads, heads and sizes of a pinned key ask
    for its version; everything else is the store's own."""

    def __init__(self, store: S3Store, versions: Mapping[str, str]) -> None:
        self._store = store
        self.versions = dict(versions)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def head(self, key: str, version_id: str | None = None) -> dict[str, Any]:
        return self._store.head(key, version_id or self.versions.get(key))

    def open_read(self, key: str) -> AbstractContextManager[BinaryIO]:
        return self._store.open_read(key, version_id=self.versions.get(key))

    def read_bytes(self, key: str) -> bytes:
        with self.open_read(key) as handle:
            return handle.read()

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        return self._store.read_range(key, offset, length, version_id=self.versions.get(key))

    def list_keys(self, prefix: str) -> Iterator[str]:
        """Every key under prefix that has a current object or a pinned version."""
        seen = set(self._store.list_keys(prefix))
        base = prefix.rstrip("/") + "/"
        seen |= {key for key in self.versions if key.startswith(base)}
        yield from sorted(seen)


def pin(store: Any, versions: Mapping[str, str]) -> Any:
    """Return store seen at the given versions (S3), or store itself when there are none."""
    from orchestrator.integrations.stores.s3 import S3Store

    if not versions or not isinstance(store, S3Store):
        return store
    return PinnedS3Store(store, versions)


def is_versioned(store: Any) -> bool:
    """Return whether store keeps object versions drctl can pin (S3)."""
    from orchestrator.integrations.stores.s3 import S3Store

    return isinstance(store, S3Store | PinnedS3Store)
