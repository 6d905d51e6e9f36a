"""A store on an SFTP server: `sftp://user@host[:port]/absolute/path`.

Host keys are checked strictly against the known_hosts file named in the store's config.
Objects are streamed and hashed in flight, written under a temporary name and renamed into
place only when size and digest match what the source host computed.

Links on the server never lead outside the store, as with a directory store (file.py): a key's
directory is resolved by the server (SFTP realpath, once per directory and connection) and must
lie under the resolved root; a key that is itself a link is resolved and checked the same way.
A key leading outside is OutsideStore: no file of this store, so a point holding such a link
misses that file (bad), and nothing is read, listed, written or removed out there. Listings
never descend into a linked directory. A link swapped in between the check and the use (a
writer on the store host racing drctl) is not guarded against: SFTP has no open-beneath.
"""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

import paramiko

from orchestrator.errors import InputError
from orchestrator.integrations.ssh import PARTIAL_MARKER, SftpFiles, SshTarget, open_sftp
from orchestrator.integrations.stores.base import MANIFEST_NAME, OutsideStore, point_prefix
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
        self._real_root: str | None = None
        self._inside: dict[str, str] = {}  # key directory -> its resolved directory

    @property
    def files(self) -> SftpFiles:
        if self._files is None:
            self._files = open_sftp(self.target)
        return self._files

    def close(self) -> None:
        if self._files is not None:
            self._files.close()
            self._files = None
        self._real_root = None
        self._inside.clear()

    def _root(self) -> str:
        """Return the root as the server resolves it (once it exists)."""
        if self._real_root is None:
            resolved = self.files.real_path(self.root)
            if self.files.stat(resolved) is None:
                return resolved  # not there yet (prepare makes it): resolve again next time
            self._real_root = resolved
        return self._real_root

    def _resolve(self, key: str, path: str) -> str:
        """Return path as the server resolves it; raise OutsideStore unless under the root."""
        resolved, root = self.files.real_path(path), self._root()
        if resolved != root and not resolved.startswith(f"{root.rstrip('/')}/"):
            raise OutsideStore(self.name, key)
        return resolved

    def _path(self, key: str) -> str:
        """Return the path of key in its resolved directory; raise OutsideStore for a key that
        leaves the root by its spelling or through a linked directory."""
        parts = PurePosixPath(key).parts
        if not key or key.startswith("/") or any(p in ("..", ".") for p in parts):
            raise OutsideStore(self.name, key)
        head, _, name = key.rpartition("/")
        directory = self._inside.get(head)
        if directory is None:
            directory = self._resolve(key, f"{self.root}/{head}" if head else self.root)
            if self.files.stat(directory) is not None:  # a directory not made yet may change
                self._inside[head] = directory
        return f"{directory}/{name}"

    def _target(self, key: str) -> tuple[str, paramiko.SFTPAttributes | None]:
        """Return the path of key to read (a link followed, if it stays inside) and its
        attributes (None when absent); raise OutsideStore as `_path` does."""
        path = self._path(key)
        attributes = self.files.stat(path, follow=False)
        if attributes is not None and stat.S_ISLNK(attributes.st_mode or 0):
            path = self._resolve(key, path)
            attributes = self.files.stat(path)
        return path, attributes

    def _directory(self, prefix: str) -> str:
        """Return the resolved directory of a key prefix (OutsideStore if it leads out)."""
        return self._resolve(prefix, f"{self.root}/{prefix}") if prefix else self._root()

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
        return self.files.open_read(self._target(key)[0])

    def read_bytes(self, key: str) -> bytes:
        return self.files.read_bytes(self._target(key)[0])

    def exists(self, key: str) -> bool:
        """Return whether key is a file of the store (a link leading outside it is not)."""
        try:
            attributes = self._target(key)[1]
        except OutsideStore:
            return False
        return attributes is not None and stat.S_ISREG(attributes.st_mode or 0)

    def _stat(self, key: str) -> tuple[int, float]:
        attributes = self._target(key)[1]
        if attributes is None or not stat.S_ISREG(attributes.st_mode or 0):
            raise FileNotFoundError(f"store {self.name}: {key}: no such object")
        return int(attributes.st_size or 0), float(attributes.st_mtime or 0)

    def size(self, key: str) -> int:
        return self._stat(key)[0]

    def written_at(self, key: str) -> float:
        return self._stat(key)[1]

    def list_keys(self, prefix: str) -> Iterator[str]:
        """Yield the keys of the regular files under prefix (a link is no file: not listed)."""
        root = self._root().rstrip("/")
        for path in self.files.walk_files(self._directory(prefix)):
            if not is_partial(path):
                yield path[len(root) + 1 :]

    def _directories(self, path: str) -> list[str]:
        return [
            entry.filename
            for entry in self.files.list_dir(path)
            if stat.S_ISDIR(entry.st_mode or 0)
        ]

    def list_points(self) -> Iterator[tuple[str, str, str]]:
        root = self._root()
        if self.files.stat(root) is None:
            return
        for system in self._directories(root):
            for dataset in self._directories(f"{root}/{system}"):
                for point in self._directories(f"{root}/{system}/{dataset}"):
                    yield system, dataset, point

    def remove_partials(self, prefix: str) -> list[str]:
        """Remove the in-flight temporary files under prefix (their writer is gone); return
        their keys."""
        removed = []
        root = self._root().rstrip("/")
        for path in self.files.walk_files(self._directory(prefix)):
            if is_partial(path):
                self.files.remove(path)
                removed.append(path[len(root) + 1 :])
        return removed

    def delete_point(self, system: str, dataset: str, recovery_point_id: str) -> None:
        """Remove a point's manifest, then its tree; a point directory that is a link is
        removed as the link, never followed."""
        base = self._path(point_prefix(system, dataset, recovery_point_id))
        attributes = self.files.stat(base, follow=False)
        if attributes is not None and stat.S_ISLNK(attributes.st_mode or 0):
            self.files.remove(base)
            return
        self.files.remove(f"{base}/{MANIFEST_NAME}")
        self.files.remove_tree(base)


def is_partial(path: str) -> bool:
    """Return True for an in-flight temporary file (never listed as a key)."""
    name = PurePosixPath(path).name
    return name.startswith(".") and PARTIAL_MARKER in name
