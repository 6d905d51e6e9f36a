"""SSH and SFTP through paramiko: the one place the orchestrator talks SSH.

Host keys are checked strictly against a known_hosts file named in the config or the inventory
(RejectPolicy): an unknown host or a key that does not match is refused, never learnt. Files
are streamed (no whole file in memory) and written under a temporary name, then renamed.
"""

from __future__ import annotations

import logging
import os
import posixpath
import shlex
import stat
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, cast

import paramiko

from orchestrator.errors import InfrastructureError, InputError

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 10.0
PARTIAL_MARKER = ".partial-"


class HostKeyRefused(InfrastructureError):
    """A host's SSH key is unknown or does not match the known_hosts file: we do not connect."""


@dataclass(frozen=True)
class SshTarget:
    """Where and how to log in: address, port, user, key file and the known_hosts to trust."""

    label: str
    address: str
    port: int
    user: str
    known_hosts: Path
    private_key: Path | None = None

    @property
    def where(self) -> str:
        return f"{self.label} ({self.user}@{self.address}:{self.port})"


def load_known_hosts(target: SshTarget) -> paramiko.HostKeys:
    """Given a target, return its known_hosts entries. Raise InputError if the file is missing
    or unreadable (strict checking cannot work without it)."""
    keys = paramiko.HostKeys()
    try:
        keys.load(str(target.known_hosts))
    except FileNotFoundError as error:
        raise InputError(
            str(target.known_hosts),
            [f"known_hosts file for {target.where} not found; strict host-key checking needs it"],
        ) from error
    except OSError as error:
        raise InputError(str(target.known_hosts), [f"cannot read: {error.strerror}"]) from error
    return keys


def connect(target: SshTarget, timeout: float = CONNECT_TIMEOUT_SECONDS) -> paramiko.SSHClient:
    """Given a target, return a logged-in SSH client with strict host-key checking.

    Raise HostKeyRefused when the host is not in known_hosts or its key differs, and
    InfrastructureError when the host is unreachable or refuses the login.
    """
    client = paramiko.SSHClient()
    host_keys = client.get_host_keys()
    for hostname, entries in load_known_hosts(target).items():
        for key_type, key in entries.items():
            host_keys.add(hostname, key_type, key)
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    try:
        client.connect(
            target.address,
            port=target.port,
            username=target.user,
            key_filename=str(target.private_key) if target.private_key else None,
            look_for_keys=target.private_key is None,
            allow_agent=target.private_key is None,
            timeout=timeout,
            banner_timeout=timeout,
            auth_timeout=timeout,
        )
    except paramiko.BadHostKeyException as error:
        client.close()
        raise HostKeyRefused(
            f"{target.where}: host key {error.key.get_name()} {error.key.fingerprint} does not "
            f"match known_hosts file {target.known_hosts} "
            f"(expected {error.expected_key.fingerprint}); refusing to connect"
        ) from error
    except paramiko.AuthenticationException as error:
        client.close()
        key_file = target.private_key or "default keys"
        raise InfrastructureError(
            f"{target.where}: login refused with {key_file}: {error}"
        ) from error
    except paramiko.SSHException as error:
        client.close()
        if "not found in known_hosts" in str(error):
            raise HostKeyRefused(
                f"{target.where}: host is not in known_hosts file {target.known_hosts}; "
                "add its key (ssh-keyscan, checked out of band) before connecting"
            ) from error
        raise InfrastructureError(f"{target.where}: SSH failed: {error}") from error
    except (OSError, EOFError) as error:
        client.close()
        raise InfrastructureError(f"{target.where}: unreachable: {error}") from error
    return client


def open_sftp(target: SshTarget) -> SftpFiles:
    """Given a target, return SFTP file access to it (see connect for the errors raised)."""
    client = connect(target)
    try:
        sftp = client.open_sftp()
    except (paramiko.SSHException, OSError) as error:
        client.close()
        raise InfrastructureError(f"{target.where}: SFTP subsystem refused: {error}") from error
    return SftpFiles(target, client, sftp)


class SftpFiles:
    """Streaming file operations on one SFTP connection; writes are temp name + rename."""

    def __init__(
        self, target: SshTarget, client: paramiko.SSHClient, sftp: paramiko.SFTPClient
    ) -> None:
        self.target = target
        self._client = client
        self._sftp = sftp

    def _fail(self, path: str, action: str, error: Exception) -> Exception:
        """Return the error to raise for a failed SFTP operation on path."""
        if isinstance(error, FileNotFoundError):
            return FileNotFoundError(f"{self.target.where}: {path}: no such file")
        return InfrastructureError(f"{self.target.where}: {action} {path} failed: {error}")

    def stat(self, path: str, *, follow: bool = True) -> paramiko.SFTPAttributes | None:
        """Return the attributes of path (a link's own unless follow), or None if absent."""
        try:
            return self._sftp.stat(path) if follow else self._sftp.lstat(path)
        except FileNotFoundError:
            return None
        except (OSError, paramiko.SSHException) as error:
            raise self._fail(path, "stat", error) from error

    def is_file(self, path: str) -> bool:
        attributes = self.stat(path)
        return attributes is not None and stat.S_ISREG(attributes.st_mode or 0)

    def makedirs(self, path: str) -> None:
        """Create path and its parents where missing."""
        current = PurePosixPath("/") if path.startswith("/") else PurePosixPath()
        for part in PurePosixPath(path).parts:
            current = current / part
            if part == "/" or self.stat(str(current)) is not None:
                continue
            try:
                self._sftp.mkdir(str(current))
            except OSError as error:
                if self.stat(str(current)) is None:
                    raise self._fail(str(current), "mkdir", error) from error

    def open_read(self, path: str) -> BinaryIO:
        """Open path for streaming reads (read-ahead on); the caller closes it. A read that
        fails (the connection dropped) raises InfrastructureError naming the host."""
        try:
            handle = self._sftp.open(path, "rb")
            handle.prefetch()
        except (OSError, paramiko.SSHException) as error:
            raise self._fail(path, "open", error) from error
        return cast(BinaryIO, _Reader(handle, self, path))

    def read_bytes(self, path: str) -> bytes:
        with self.open_read(path) as handle:
            return handle.read()

    def write_atomic(self, path: str, chunks: Iterable[bytes]) -> int:
        """Write chunks to a temporary name next to path, then rename it over path; return
        the bytes written. On any failure the temporary file is removed and path untouched."""
        target = PurePosixPath(path)
        self.makedirs(str(target.parent))
        temporary = str(target.with_name(f".{target.name}{PARTIAL_MARKER}{uuid.uuid4().hex[:12]}"))
        written = 0
        try:
            with self._translated(path, "write"):
                handle = self._sftp.open(temporary, "wb")
            try:
                handle.set_pipelined(True)
                for chunk in chunks:  # a failing source raises its own error, untranslated
                    with self._translated(path, "write"):
                        handle.write(chunk)
                    written += len(chunk)
            finally:
                with self._translated(path, "write"):
                    handle.close()
            with self._translated(path, "rename into"):
                self._sftp.posix_rename(temporary, path)
        except BaseException:
            self._remove_quietly(temporary)
            raise
        return written

    @contextmanager
    def _translated(self, path: str, action: str) -> Iterator[None]:
        try:
            yield
        except (OSError, paramiko.SSHException) as error:
            raise self._fail(path, action, error) from error

    def _remove_quietly(self, path: str) -> None:
        try:
            self._sftp.remove(path)
        except (OSError, paramiko.SSHException) as error:
            logger.debug("%s: could not remove %s: %s", self.target.where, path, error)

    def remove(self, path: str) -> None:
        """Remove one file if present."""
        try:
            self._sftp.remove(path)
        except FileNotFoundError:
            return
        except (OSError, paramiko.SSHException) as error:
            raise self._fail(path, "remove", error) from error

    def list_dir(self, path: str) -> list[paramiko.SFTPAttributes]:
        """Return the entries of directory path (empty if it does not exist), sorted by name."""
        try:
            entries = self._sftp.listdir_attr(path)
        except FileNotFoundError:
            return []
        except (OSError, paramiko.SSHException) as error:
            raise self._fail(path, "list", error) from error
        return sorted(entries, key=lambda entry: entry.filename)

    def walk_files(self, path: str) -> Iterator[str]:
        """Yield the path of every regular file under path, depth first, sorted."""
        for entry in self.list_dir(path):
            child = f"{path.rstrip('/')}/{entry.filename}"
            if stat.S_ISDIR(entry.st_mode or 0):
                yield from self.walk_files(child)
            elif stat.S_ISREG(entry.st_mode or 0):
                yield child

    def real_path(self, path: str) -> str:
        """Return path as the host resolves it (SFTP realpath), its part not made yet
        appended to its nearest existing directory's."""
        head, tail = posixpath.normpath(path), "."
        while head not in ("/", "."):
            try:
                return posixpath.normpath(posixpath.join(self._sftp.normalize(head), tail))
            except FileNotFoundError:
                head, tail = posixpath.dirname(head), posixpath.join(posixpath.basename(head), tail)
            except (OSError, paramiko.SSHException) as error:
                raise self._fail(path, "realpath", error) from error
        return posixpath.normpath(posixpath.join(head, tail))

    def remove_tree(self, path: str) -> None:
        """Remove a directory tree if present (links are removed, never followed)."""
        for entry in self.list_dir(path):
            child = f"{path.rstrip('/')}/{entry.filename}"
            if stat.S_ISDIR(entry.st_mode or 0):
                self.remove_tree(child)
            else:
                self.remove(child)
        try:
            self._sftp.rmdir(path)
        except FileNotFoundError:
            return
        except (OSError, paramiko.SSHException) as error:
            raise self._fail(path, "rmdir", error) from error

    def close(self) -> None:
        self._sftp.close()
        self._client.close()


class _Reader:
    """A remote file open for reading whose read failures name the host and path."""

    def __init__(self, handle: paramiko.SFTPFile, files: SftpFiles, path: str) -> None:
        self._handle = handle
        self._files = files
        self._path = path

    def read(self, size: int = -1) -> bytes:
        try:
            return self._handle.read(size)
        except (OSError, EOFError, paramiko.SSHException) as error:
            raise self._files._fail(self._path, "read", error) from error

    def close(self) -> None:
        try:
            self._handle.close()
        except (OSError, EOFError, paramiko.SSHException) as error:
            logger.debug("%s: closing %s: %s", self._files.target.where, self._path, error)

    def __enter__(self) -> _Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


class SftpHostFiles:
    """HostFiles for a host reached over SSH: its files through SFTP."""

    def __init__(self, host: str, files: SftpFiles) -> None:
        self.host = host
        self.files = files

    def open_read(self, path: str) -> BinaryIO:
        return self.files.open_read(path)

    def write_stream(self, path: str, chunks: Iterable[bytes]) -> int:
        return self.files.write_atomic(path, chunks)

    def remove_tree(self, path: str) -> None:
        self.files.remove_tree(path)

    def remove(self, path: str) -> None:
        self.files.remove(path)

    def real_path(self, path: str) -> str:
        return self.files.real_path(path)

    def close(self) -> None:
        self.files.close()


def known_hosts_from_args(arguments: str) -> list[str]:
    """Given ssh arguments (`-o UserKnownHostsFile=/a -o ...`), return the known_hosts files."""
    words = shlex.split(arguments)
    found: list[str] = []
    for index, word in enumerate(words):
        option = word[2:] if word.startswith("-o") and len(word) > 2 else None
        if word == "-o" and index + 1 < len(words):
            option = words[index + 1]
        if option is None:
            continue
        name, _, value = option.replace("=", " ", 1).partition(" ")
        if name.strip().lower() == "userknownhostsfile":
            found += value.split()
    return found


def target_from_hostvars(host: str, hostvars: Mapping[str, Any]) -> SshTarget:
    """Given an inventory host and its variables, return its SshTarget.

    known_hosts comes from `dr_known_hosts`, else `-o UserKnownHostsFile=` in
    ansible_ssh_common_args / ansible_ssh_extra_args, else ~/.ssh/known_hosts. Raise InputError
    naming the host and variable when a value is unusable.
    """
    where = f"inventory host {host}"
    try:
        port = int(hostvars.get("ansible_port") or hostvars.get("ansible_ssh_port") or 22)
    except (TypeError, ValueError) as error:
        raise InputError(
            where, [f"ansible_port: expected a port number, got {hostvars.get('ansible_port')!r}"]
        ) from error
    user = hostvars.get("ansible_user") or hostvars.get("ansible_ssh_user")
    if not user:
        import getpass

        user = getpass.getuser()
    candidates = [str(hostvars["dr_known_hosts"])] if hostvars.get("dr_known_hosts") else []
    for variable in ("ansible_ssh_common_args", "ansible_ssh_extra_args"):
        if not candidates and hostvars.get(variable):
            candidates = known_hosts_from_args(str(hostvars[variable]))
    known_hosts = Path(os.path.expanduser(candidates[0] if candidates else "~/.ssh/known_hosts"))
    key_file = hostvars.get("ansible_ssh_private_key_file") or hostvars.get(
        "ansible_private_key_file"
    )
    return SshTarget(
        label=host,
        address=str(hostvars.get("ansible_host") or host),
        port=port,
        user=str(user),
        known_hosts=known_hosts,
        private_key=Path(os.path.expanduser(str(key_file))) if key_file else None,
    )


def open_sftp_host(host: str, hostvars: Mapping[str, Any]) -> SftpHostFiles:
    """Given an inventory host and its variables, return HostFiles over SFTP with strict
    host-key checking. Raise HostKeyRefused or InfrastructureError naming the host."""
    target = target_from_hostvars(host, hostvars)
    logger.debug("opening SFTP to %s", target.where)
    return SftpHostFiles(host, open_sftp(target))
