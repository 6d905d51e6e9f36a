"""File access on a site's host, for streaming dumps out and restores in.

The host's connection comes from the standard Ansible inventory, so playbooks and transfers
always agree on where a host is: `ansible-inventory --list` runs once per inventory file as it
stands (its mtime and size), not once per host, and gives every host's variables as
`ansible-inventory --host` would. `local` hosts are reached directly; SSH hosts through SFTP.

(Ansible's inventory API is not used in this process: importing it patches this process's
stdout and stderr — a lock around writes and another encoding-error handler — for all of
drctl's own output.)
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
from collections.abc import Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from orchestrator.errors import InputError
from orchestrator.integrations import execute

INVENTORY_TIMEOUT_SECONDS = 60
# Names Ansible reaches as its implicit localhost when the inventory does not list them
IMPLICIT_LOCALHOST = frozenset(("localhost", "127.0.0.1", "::1"))


class HostFiles(Protocol):
    host: str

    def open_read(self, path: str) -> AbstractContextManager[BinaryIO]:
        """Open a file on the host for streaming reads."""

    def write_stream(self, path: str, chunks: Iterable[bytes]) -> int:
        """Write chunks to path on the host (temp name, then rename); return bytes written."""

    def remove_tree(self, path: str) -> None:
        """Remove a directory tree on the host, if present."""

    def remove(self, path: str) -> None:
        """Remove one file on the host, if present."""

    def real_path(self, path: str) -> str:
        """Return path as the host resolves it: symbolic links followed, `..` folded (a part
        that does not exist yet is appended to its nearest existing directory's)."""

    def close(self) -> None:
        """Release the connection."""


class LocalHostFiles:
    """A host reached with Ansible's `local` connection: this machine's own filesystem."""

    def __init__(self, host: str) -> None:
        self.host = host

    def open_read(self, path: str) -> AbstractContextManager[BinaryIO]:
        return open(path, "rb")  # noqa: SIM115 - the caller closes it

    def write_stream(self, path: str, chunks: Iterable[bytes]) -> int:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.partial-{os.getpid()}")
        written = 0
        try:
            with open(temporary, "wb") as handle:
                for chunk in chunks:
                    handle.write(chunk)
                    written += len(chunk)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        return written

    def remove_tree(self, path: str) -> None:
        shutil.rmtree(path, ignore_errors=True)

    def remove(self, path: str) -> None:
        Path(path).unlink(missing_ok=True)

    def real_path(self, path: str) -> str:
        return os.path.realpath(path)

    def close(self) -> None:
        return None


def read_host_vars(inventory: Path, host: str) -> dict[str, Any]:
    """Return the inventory variables of host, or raise InputError if it is not there (or
    the inventory cannot be read)."""
    try:
        stat = inventory.stat()
    except OSError as error:
        raise InputError(str(inventory), [f"inventory cannot be read: {error}"]) from error
    hosts = _read_inventory(str(inventory), stat.st_mtime_ns, stat.st_size)
    if host not in hosts and host in IMPLICIT_LOCALHOST:
        return {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    if host not in hosts:
        raise InputError(str(inventory), [f"host {host!r}: not found in the inventory"])
    return json.loads(hosts[host])  # a fresh copy each time


@functools.lru_cache(maxsize=8)
def _read_inventory(inventory: str, _mtime_ns: int, _size: int) -> dict[str, str]:
    """Return {host: its variables as JSON} for every host of the inventory, from one
    `ansible-inventory --list` (a host without variables has none in `_meta`)."""
    result = execute.run(
        [execute.venv_tool("ansible-inventory"), "-i", inventory, "--list"],
        timeout=INVENTORY_TIMEOUT_SECONDS,
        check=False,
        env={"ANSIBLE_INVENTORY_UNPARSED_FAILED": "True", "ANSIBLE_NOCOLOR": "1"},
    )
    if not result.ok:
        return {}
    listing: dict[str, Any] = json.loads(result.stdout)
    hostvars = listing.get("_meta", {}).get("hostvars", {})
    names = set(hostvars).union(
        *(group.get("hosts", []) for name, group in listing.items() if name != "_meta")
    )
    return {name: json.dumps(hostvars.get(name, {})) for name in names}


def open_host_files(inventory: Path, host: str) -> HostFiles:
    """Given the inventory and a host name, return file access to that host."""
    variables = read_host_vars(inventory, host)
    if variables.get("ansible_connection") == "local":
        return LocalHostFiles(host)
    from orchestrator.integrations.ssh import open_sftp_host

    return open_sftp_host(host, variables)
