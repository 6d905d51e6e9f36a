"""Whether two directories of one site's host are one place, as that host holds them.

Three ways two names reach one directory, each checked: the names themselves once folded
(`//srv/../srv` is `/srv`, orchestrator/host_paths.py), a symbolic link (each path resolved on the
host: SFTP realpath, or realpath for a local host), and a bind mount or a second mount of one
filesystem (each resolved path placed on its filesystem through the host's mount table,
orchestrator/mounts.py). A host whose mount table cannot be read (no /proc, a chrooted SFTP
server) is compared by the first two, and a warning names it.
"""

from __future__ import annotations

import logging

from orchestrator.host_paths import overlap
from orchestrator.integrations.hosts import HostFiles
from orchestrator.mounts import MOUNT_TABLE, Mount, parse_mount_table, same_place

logger = logging.getLogger(__name__)


class HostPlaces:
    """The directories of one host, resolved there once each; its mount table read once."""

    def __init__(self, files: HostFiles) -> None:
        self._files = files
        self._real: dict[str, str] = {}
        self._mounts: tuple[Mount, ...] | None = None

    def real(self, path: str) -> str:
        """Return path as the host resolves it (symbolic links followed)."""
        if path not in self._real:
            self._real[path] = self._files.real_path(path)
        return self._real[path]

    def clash(self, one: str, other: str) -> str | None:
        """Return how one and other are one directory on this host or one lies inside the
        other (named so, resolved so, or through a mount), or None when they are apart."""
        if overlap(one, other):
            return "as named"
        first, second = self.real(one), self.real(other)
        if overlap(first, second):
            return f"as {self._files.host} resolves them: {first} and {second}"
        places = same_place(first, second, self._table())
        if places is not None:
            return (
                f"through a mount on {self._files.host}: {places[0]} and {places[1]} "
                f"(its mount table, {MOUNT_TABLE})"
            )
        return None

    def _table(self) -> tuple[Mount, ...]:
        if self._mounts is None:
            self._mounts = self._read_table()
        return self._mounts

    def _read_table(self) -> tuple[Mount, ...]:
        try:
            with self._files.open_read(MOUNT_TABLE) as handle:
                return parse_mount_table(handle.read().decode("utf-8", "surrogateescape"))
        except (FileNotFoundError, PermissionError) as error:
            logger.warning(
                "%s: mount table %s unreadable (%s): a bind mount there is not seen",
                self._files.host,
                MOUNT_TABLE,
                error,
            )
            return ()
