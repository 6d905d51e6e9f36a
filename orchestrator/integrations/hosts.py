"""File access on a site's host, for streaming dumps out and restores in.

The host's connection comes from the standard Ansible inventory (`ansible-inventory --host`),
so playbooks and transfers always agree on where a host is. `local` hosts are reached
directly; SSH hosts through SFTP.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from orchestrator.errors import InputError
from orchestrator.integrations import execute

INVENTORY_TIMEOUT_SECONDS = 60


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

    def close(self) -> None:
        return None


def read_host_vars(inventory: Path, host: str) -> dict[str, Any]:
    """Return the inventory variables of host, or raise InputError if it is not there."""
    result = execute.run(
        [execute.venv_tool("ansible-inventory"), "-i", str(inventory), "--host", host],
        timeout=INVENTORY_TIMEOUT_SECONDS,
        check=False,
        env={"ANSIBLE_INVENTORY_UNPARSED_FAILED": "True", "ANSIBLE_NOCOLOR": "1"},
    )
    if not result.ok:
        raise InputError(str(inventory), [f"host {host!r}: not found in the inventory"])
    variables: dict[str, Any] = json.loads(result.stdout)
    return variables


def open_host_files(inventory: Path, host: str) -> HostFiles:
    """Given the inventory and a host name, return file access to that host."""
    variables = read_host_vars(inventory, host)
    if variables.get("ansible_connection") == "local":
        return LocalHostFiles(host)
    from orchestrator.integrations.ssh import open_sftp_host

    return open_sftp_host(host, variables)
