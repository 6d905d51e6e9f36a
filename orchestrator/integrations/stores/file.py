"""A store in a directory: local disk or an NFS mount."""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO

from orchestrator.errors import InfrastructureError
from orchestrator.integrations.stores.base import MANIFEST_NAME, OutsideStore
from orchestrator.integrations.transfer import checked

# A directory that is full, read-only, over quota or failing: the store's fault (exit 3).
STORE_FAULTS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EACCES})


class FileStore:
    """Recovery points as files under a root directory; writes are temp file + rename."""

    def __init__(self, name: str, site: str, root: str) -> None:
        self.name = name
        self.site = site
        self.root = Path(root)
        self._resolved_root: str | None = None
        self._directories: dict[str, str] = {}  # key prefix -> its resolved directory

    def _path(self, key: str) -> Path:
        """Return the file of key, resolved (symbolic links and `..` followed); raise
        OutsideStore if it lies outside the store's root. Plain os calls: this runs for every
        file a scan reads."""
        root = self._real_root()
        path = os.path.realpath(os.path.join(root, key))
        inside = root if root.endswith(os.sep) else root + os.sep
        if path != root and not path.startswith(inside):
            raise OutsideStore(self.name, key)
        return Path(path)

    def _read_path(self, key: str) -> str:
        """Return the file of key as `_path` does, for reads: its directory is resolved once
        per store object and only the last component is looked at per file (one lstat, not
        one per component: issue 15, a scan of 20,000 small files). A key that is odd (absolute,
        `.` or `..` last) or whose last component is a symbolic link is resolved in full."""
        head, _, name = key.rpartition("/")
        if name in ("", ".", "..") or key.startswith("/"):
            return str(self._path(key))
        directory = self._directories.get(head)
        if directory is None:
            directory = str(self._path(head)) if head else self._real_root()
            if not os.path.isdir(directory):
                return str(self._path(key))  # not there (yet): nothing to remember
            self._directories[head] = directory
        path = os.path.join(directory, name)
        if os.path.islink(path):
            return str(self._path(key))
        return path

    def _inside(self, path: str) -> bool:
        root = self._real_root()
        return path == root or path.startswith(root if root.endswith(os.sep) else root + os.sep)

    def _real_root(self) -> str:
        """Return the root resolved once it exists (a root that is a symbolic link is followed
        once, not once per file)."""
        if self._resolved_root is None:
            resolved = os.path.realpath(self.root)
            if not os.path.isdir(resolved):
                return resolved  # not there yet (prepare makes it): resolve again next time
            self._resolved_root = resolved
        return self._resolved_root

    def _require_root(self) -> None:
        if not self.root.is_dir():
            raise InfrastructureError(f"store {self.name}: root {self.root} is not reachable")

    def prepare(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    def write_stream(self, key: str, chunks: Iterable[bytes], *, size: int, sha256: str) -> None:
        """Write chunks to key (temp file, fsync, rename), refusing them unless they are size
        bytes of digest sha256 (transfer.checked: the mismatch is raised before the rename)."""
        self._require_root()
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.partial-{os.getpid()}")
        try:
            with open(temporary, "wb") as handle:
                for chunk in checked(chunks, key, size, sha256, "written"):
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except OSError as error:
            if error.errno not in STORE_FAULTS:
                raise  # e.g. the source's connection dropping: not this store's fault
            raise InfrastructureError(
                f"store {self.name}: cannot write {key}: {error.strerror}"
            ) from error
        finally:
            temporary.unlink(missing_ok=True)

    def written_version(self, key: str) -> str | None:
        return None  # a directory keeps no versions

    def open_read(self, key: str) -> AbstractContextManager[BinaryIO]:
        handle = open(self._read_path(key), "rb")  # noqa: SIM115 - the caller closes it
        try:  # what was opened, as the kernel resolved it: a directory swapped for a link
            opened = os.readlink(f"/proc/self/fd/{handle.fileno()}")  # since is refused too
        except OSError:
            return handle  # no /proc: the check before opening stands alone
        if not self._inside(opened.removesuffix(" (deleted)")):
            handle.close()
            raise OutsideStore(self.name, key)
        return handle

    def read_bytes(self, key: str) -> bytes:
        with self.open_read(key) as handle:
            return handle.read()

    def exists(self, key: str) -> bool:
        """Return whether key is a file of the store (a link leading outside it is not)."""
        try:
            return os.path.isfile(self._read_path(key))
        except OutsideStore:
            return False

    def size(self, key: str) -> int:
        return os.stat(self._read_path(key)).st_size

    def written_at(self, key: str) -> float:
        return self._path(key).stat().st_mtime

    def list_keys(self, prefix: str) -> Iterator[str]:
        base = str(self._path(prefix))
        if not os.path.isdir(base):
            return
        root = self._real_root()
        start = len(root) if root.endswith(os.sep) else len(root) + 1
        for directory, _subdirs, files in os.walk(base):
            for file_name in sorted(files):
                if file_name.startswith(".") and ".partial-" in file_name:
                    continue
                yield os.path.join(directory, file_name)[start:]

    def list_points(self) -> Iterator[tuple[str, str, str]]:
        self._require_root()
        for system in sorted(p for p in self.root.iterdir() if p.is_dir()):
            for dataset in sorted(p for p in system.iterdir() if p.is_dir()):
                for point in sorted(p for p in dataset.iterdir() if p.is_dir()):
                    yield system.name, dataset.name, point.name

    def remove_partials(self, prefix: str) -> list[str]:
        """Remove the in-flight temporary files under prefix (their writer is gone); return
        their keys."""
        base = self._path(prefix)
        removed = []
        for directory, _subdirs, files in os.walk(base):
            for file_name in sorted(files):
                if file_name.startswith(".") and ".partial-" in file_name:
                    path = Path(directory) / file_name
                    path.unlink(missing_ok=True)
                    removed.append(str(path.relative_to(self.root.resolve())))
        return removed

    def delete_point(self, system: str, dataset: str, recovery_point_id: str) -> None:
        base = self._path(f"{system}/{dataset}/{recovery_point_id}")
        (base / MANIFEST_NAME).unlink(missing_ok=True)
        shutil.rmtree(base, ignore_errors=False)

    def close(self) -> None:
        """Nothing to release: a directory holds no connection."""
