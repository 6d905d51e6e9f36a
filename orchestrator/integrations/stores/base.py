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
    """Given the config and a store name, return the Store for its URL (file://, s3://,
    sftp://). Raise InputError when the URL or the store's settings are unusable."""
    from orchestrator.errors import InputError
    from orchestrator.integrations.stores.file import FileStore

    definition = config.model.store(name)
    url = config.store_url(name)
    if url.startswith("file://"):
        return FileStore(name, definition.site, url.removeprefix("file://"))
    if url.startswith("s3://"):
        from orchestrator.checks import site_pack
        from orchestrator.integrations.stores.s3 import S3Store, make_client, parse_s3_url

        bucket, prefix = parse_s3_url(url, name)
        rotation_days = site_pack(config).get("backup.rotation").value("min_days")
        return S3Store(
            name,
            definition.site,
            bucket=bucket,
            prefix=prefix,
            client=make_client(
                name, definition.endpoint_url, definition.region, definition.profile
            ),
            rotation_seconds=float(rotation_days) * 86400.0,
            endpoint_url=definition.endpoint_url,
            region=definition.region,
            profile=definition.profile,
        )
    if url.startswith("sftp://"):
        from orchestrator.integrations.stores.sftp import SftpStore, parse_sftp_url

        if not definition.known_hosts:
            raise InputError(
                str(config.path),
                [
                    f"{store_path(config, name)}.known_hosts: required for sftp:// "
                    "(strict host-key checking)"
                ],
            )
        target, root = parse_sftp_url(
            url,
            known_hosts=config.resolve(definition.known_hosts),
            private_key=config.resolve(definition.private_key) if definition.private_key else None,
            label=name,
        )
        return SftpStore(name, definition.site, target, root)
    scheme = url.split("://", 1)[0]
    raise InputError(
        str(config.path), [f"{store_path(config, name)}.url: unknown scheme {scheme}://"]
    )


def store_path(config: LoadedConfig, name: str) -> str:
    """Return where a store is defined in dr.yml, e.g. `stores[1]`."""
    index = next(i for i, store in enumerate(config.model.stores) if store.name == name)
    return f"stores[{index}]"
