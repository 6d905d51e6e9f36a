"""A store on an SFTP server: `sftp://user@host[:port]/absolute/path`.

Host keys are checked strictly against the known_hosts file named in the store's config.
Objects are streamed and hashed in flight, written under a temporary name and renamed into
place only when size and digest match what the source host computed.
"""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from orchestrator.errors import InputError
from orchestrator.integrations.ssh import PARTIAL_MARKER, SftpFiles, SshTarget, open_sftp
from orchestrator.integrations.stores.base import MANIFEST_NAME, point_prefix
from orchestrator.integrations.transfer import checked

logger = logging.getLogger(__name__)


def parse_sftp_url(
    url: str, *, known_hosts: Path, private_key: Path | None, label: str
) -> tuple[SshTarget, str]:
    """Given `sftp://user@host[:port]/path` and the key files, return (target, root path).

    Raise InputError naming the store when the URL lacks a user, host or absolute path.
    """
    parts = urlsplit(url)
    problems = []
    if not parts.hostname:
        problems.append(f"url {url!r}: expected sftp://USER@HOST[:PORT]/PATH (no host)")
    if not parts.username:
        problems.append(f"url {url!r}: expected sftp://USER@HOST[:PORT]/PATH (no user)")
    root = unquote(parts.path)
    if not root.startswith("/") or root == "/" or ".." in PurePosixPath(root).parts:
        problems.append(f"url {url!r}: expected an absolute path below / without '..'")
    try:
        port = parts.port or 22
    except ValueError:
        problems.append(f"url {url!r}: port is not a number")
        port = 22
    if problems:
        raise InputError(f"store {label}", problems)
    target = SshTarget(
        label=f"store {label}",
        address=str(parts.hostname),
        port=port,
        user=str(parts.username),
        known_hosts=known_hosts,
        private_key=private_key,
    )
    return target, root.rstrip("/")


class SftpStore:
    """Recovery points under a directory on an SFTP server (one connection, opened lazily)."""

    def __init__(self, name: str, site: str, target: SshTarget, root: str) -> None:
        self.name = name
        self.site = site
        self.target = target
        self.root = root
        self._files: SftpFiles | None = None

    @property
    def files(self) -> SftpFiles:
        if self._files is None:
            self._files = open_sftp(self.target)
        return self._files

    def close(self) -> None:
        if self._files is not None:
            self._files.close()
            self._files = None

    def _path(self, key: str) -> str:
        parts = PurePosixPath(key).parts
        if not key or key.startswith("/") or any(p in ("..", ".") for p in parts):
            raise ValueError(f"store {self.name}: key {key!r} leaves the store root")
        return f"{self.root}/{key}"

    def prepare(self) -> None:
        self.files.makedirs(self.root)

    def write_stream(self, key: str, chunks: Iterable[bytes], *, size: int, sha256: str) -> None:
        # Checked inside the iteration (transfer.checked), so a mismatch aborts before the
        # rename; a stream that checks itself for this size and digest is not hashed twice.
        stream = checked(chunks, f"{self.name}:{key}", size, sha256, "written")
        self.files.write_atomic(self._path(key), stream)
        logger.debug("store %s: wrote %s (%d bytes)", self.name, key, size)

    def written_version(self, key: str) -> str | None:
        return None  # no versions here

    def open_read(self, key: str) -> AbstractContextManager[BinaryIO]:
        return self.files.open_read(self._path(key))

    def read_bytes(self, key: str) -> bytes:
        return self.files.read_bytes(self._path(key))

    def exists(self, key: str) -> bool:
        return self.files.is_file(self._path(key))

    def _stat(self, key: str) -> tuple[int, float]:
        attributes = self.files.stat(self._path(key))
        if attributes is None or not stat.S_ISREG(attributes.st_mode or 0):
            raise FileNotFoundError(f"store {self.name}: {key}: no such object")
        return int(attributes.st_size or 0), float(attributes.st_mtime or 0)

    def size(self, key: str) -> int:
        return self._stat(key)[0]

    def written_at(self, key: str) -> float:
        return self._stat(key)[1]

    def list_keys(self, prefix: str) -> Iterator[str]:
        base = self._path(prefix)
        for path in self.files.walk_files(base):
            if is_partial(path):
                continue
            yield path[len(self.root) + 1 :]

    def _directories(self, path: str) -> list[str]:
        return [
            entry.filename
            for entry in self.files.list_dir(path)
            if stat.S_ISDIR(entry.st_mode or 0)
        ]

    def list_points(self) -> Iterator[tuple[str, str, str]]:
        if self.files.stat(self.root) is None:
            return
        for system in self._directories(self.root):
            for dataset in self._directories(f"{self.root}/{system}"):
                for point in self._directories(f"{self.root}/{system}/{dataset}"):
                    yield system, dataset, point

    def remove_partials(self, prefix: str) -> list[str]:
        """Remove the in-flight temporary files under prefix (their writer is gone); return
        their keys."""
        removed = []
        for path in self.files.walk_files(self._path(prefix)):
            if is_partial(path):
                self.files.remove(path)
                removed.append(path[len(self.root) + 1 :])
        return removed

    def delete_point(self, system: str, dataset: str, recovery_point_id: str) -> None:
        base = self._path(point_prefix(system, dataset, recovery_point_id))
        self.files.remove(f"{base}/{MANIFEST_NAME}")
        self.files.remove_tree(base)


def is_partial(path: str) -> bool:
    """Return True for an in-flight temporary file (never listed as a key)."""
    name = PurePosixPath(path).name
    return name.startswith(".") and PARTIAL_MARKER in name
