"""The small Store protocol every store implements and its settings (the factory that picks
one by URL: stores/factory.py)."""

from __future__ import annotations

import errno
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

MANIFEST_NAME = "manifest.json"


def point_prefix(system: str, dataset: str, recovery_point_id: str) -> str:
    """Return the key prefix of a recovery point inside a store."""
    return f"{system}/{dataset}/{recovery_point_id}"


class OutsideStore(FileNotFoundError, ValueError):
    """A key, or a link under it, that leads outside the store's root: refused (ValueError),
    and no file of this store (FileNotFoundError), so a point holding such a link is missing
    that file — a mismatch that marks it bad, never an error that stops a scan or a restore."""

    def __init__(self, store: str, key: str) -> None:
        super().__init__(errno.ENOENT, f"store {store}: key {key!r} leaves the store root")


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

    def written_version(self, key: str) -> str | None:
        """Return the store's version id of this process's last write of key (S3 with
        versioning), or None where the store keeps no versions."""

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

    def remove_partials(self, prefix: str) -> list[str]:
        """Remove what an interrupted writer left in flight under prefix (temporary files,
        incomplete multipart uploads); return what was removed."""

    def close(self) -> None:
        """Release the store's connection, if it holds one."""


@dataclass(frozen=True)
class StoreSettings:
    """Everything needed to open one store, resolved by the caller: paths absolute, the
    rotation period from the site's rule pack, and where in dr.yml the store is defined (for
    error messages)."""

    name: str
    site: str
    url: str
    source: str  # the config file, e.g. /etc/drctl/dr.yml
    where: str  # the store's place in it, e.g. stores[1]
    rotation_seconds: float
    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    known_hosts: Path | None = None
    private_key: Path | None = None
