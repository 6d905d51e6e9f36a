"""SSH connection reuse within one playbook run, and nothing beyond it.

Without it every task of a run logs in several times (measured: six logins per `ping` task
over SSH, docs/benchmarks.md "Per runner call"). With it, the run's first connection to a host
becomes an OpenSSH master and the run's later commands to that host go through it. The
master's socket lives in a directory of this run only (control_directory, mode 0700, under a
short temp path: a Unix socket path holds at most 108 bytes), which is closed (`ssh -O exit`)
and removed when the run ends, so no socket outlives a run or is shared between runs; the
ControlPersist time only bounds a master whose drctl was killed; the directory such a run
leaves is named by its pid and site (`drctl-ssh-<pid>-<site>-…`), so the site's next
command's sweep of dead holders (actions/scratch.py) closes its master and removes it. Host
keys are checked when the master connects, as for any connection (ansible.cfg, strict host
keys).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orchestrator.errors import InfrastructureError
from orchestrator.integrations import execute

logger = logging.getLogger(__name__)

# What ansible-playbook's ssh gets (ANSIBLE_SSH_ARGS; Ansible adds the ControlPath in
# ANSIBLE_SSH_CONTROL_PATH_DIR): one master per host and run.
SSH_ARGS = "-o ControlMaster=auto -o ControlPersist=60s"
PREFIX = "drctl-ssh-"
# Unix socket paths are short (108 bytes): the control directory goes under a short temp dir.
CONTROL_DIR_MAX_PARENT = 40


@contextmanager
def control_directory(work_dir: Path) -> Iterator[Path]:
    """Given the site's work directory, yield a new private (0700) directory for one run's SSH
    control sockets, named by this process and the site (site_tag); when the block ends, ask
    every master listening there to exit (`ssh -O exit`) and remove the directory, so no
    socket outlives the run or is shared with another run."""
    prefix = f"{PREFIX}{os.getpid()}-{site_tag(work_dir)}-"  # mkdtemp makes it 0700
    directory = Path(tempfile.mkdtemp(prefix=prefix, dir=control_parent()))
    try:
        yield directory
    finally:
        remove_directory(directory)


def control_parent() -> Path:
    """Return where control directories are made: the temp dir, or /tmp when that path is
    too long for a socket path."""
    parent = tempfile.gettempdir()
    return Path("/tmp" if len(parent) > CONTROL_DIR_MAX_PARENT else parent)  # noqa: S108


def site_tag(work_dir: Path) -> str:
    """Return 8 hex digits naming the site whose work directory this is: the sweep of one
    site's catalog judges and records only its own runs' directories."""
    return hashlib.sha256(str(work_dir.resolve()).encode()).hexdigest()[:8]


def left_directories(work_dir: Path) -> list[tuple[Path, int]]:
    """Given the site's work directory, return this user's control directories of that site
    in control_parent(), each with the pid of the drctl process that made it (a name of
    another form or site, a link or another user's is left)."""
    found = []
    for path in sorted(control_parent().glob(f"{PREFIX}*-{site_tag(work_dir)}-*")):
        pid, _, rest = path.name.removeprefix(PREFIX).partition("-")
        try:
            mine = path.lstat().st_uid == os.getuid() and path.is_dir() and not path.is_symlink()
        except OSError:
            continue  # gone meanwhile
        if pid.isdigit() and rest and mine:
            found.append((path, int(pid)))
    return found


def remove_directory(directory: Path) -> None:
    """Close the SSH masters listening in a control directory and remove it."""
    close_masters(directory)
    shutil.rmtree(directory, ignore_errors=True)


def close_masters(directory: Path) -> None:
    """Ask each SSH master whose control socket is in directory to exit (none if the
    directory is gone: a temp dir cleaner may have removed it)."""
    sockets = sorted(p for p in directory.iterdir() if p.is_socket()) if directory.is_dir() else []
    for path in sockets:
        try:
            result = execute.run(
                ["ssh", "-O", "exit", "-o", f"ControlPath={path}", "drctl-control-master"],
                timeout=10,
                check=False,
            )
        except InfrastructureError as error:
            logger.warning("could not close the SSH master at %s: %s", path, error)
            continue
        if not result.ok:
            logger.warning("could not close the SSH master at %s: %s", path, result.tail())
