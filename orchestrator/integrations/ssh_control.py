"""SSH connection reuse within one playbook run, and nothing beyond it.

Without it every task of a run logs in several times (measured: six logins per `ping` task
over SSH, docs/benchmarks.md "Per runner call"). With it, the run's first connection to a host
becomes an OpenSSH master and the run's later commands to that host go through it. The
master's socket lives in a directory of this run only (control_directory, mode 0700, under a
short temp path: a Unix socket path holds at most 108 bytes), which is closed (`ssh -O exit`)
and removed when the run ends, so no socket outlives a run or is shared between runs; the
ControlPersist time only bounds a master whose drctl was killed. Host keys are checked when
the master connects, as for any connection (ansible.cfg, strict host keys).
"""

from __future__ import annotations

import logging
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
# Unix socket paths are short (108 bytes): the control directory goes under a short temp dir.
CONTROL_DIR_MAX_PARENT = 40


@contextmanager
def control_directory() -> Iterator[Path]:
    """Yield a new private (0700) directory for one run's SSH control sockets; when the block
    ends, ask every master listening there to exit (`ssh -O exit`) and remove the directory,
    so no socket outlives the run or is shared with another run."""
    parent = tempfile.gettempdir()
    if len(parent) > CONTROL_DIR_MAX_PARENT:
        parent = "/tmp"  # noqa: S108 - a short parent for socket paths; mkdtemp makes it 0700
    directory = Path(tempfile.mkdtemp(prefix="drctl-ssh-", dir=parent))
    try:
        yield directory
    finally:
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
