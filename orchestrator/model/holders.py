"""Who holds a job or a scratch area: this process, named so another process can tell whether
it still lives.

A holder is (user, host, pid, process start time). On the same host a holder is alive when a
process with that pid exists and started at that time (so a reused pid is not mistaken for it);
on another host this process cannot tell, and the lease's expiry decides (model/catalog.py).
"""

from __future__ import annotations

import enum
import getpass
import os
import socket
from dataclasses import dataclass
from pathlib import Path


class Liveness(enum.Enum):
    ALIVE = "alive"
    DEAD = "dead"
    UNKNOWN = "unknown"  # another host's process


@dataclass(frozen=True)
class Holder:
    user: str
    host: str
    pid: int
    process_start: int  # clock ticks after boot (/proc/<pid>/stat field 22); 0 if unknown

    def describe(self) -> str:
        return f"{self.user}@{self.host} pid {self.pid}"


def process_start(pid: int) -> int | None:
    """Return when process pid started (clock ticks after boot), or None if there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return None
    except OSError:
        return 0 if _pid_exists(pid) else None
    fields = stat.rpartition(")")[2].split()
    # fields[0] is field 3 (state); starttime is field 22
    return int(fields[19]) if len(fields) > 19 and fields[19].isdigit() else 0


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def current_holder() -> Holder:
    """Return this process as a holder."""
    pid = os.getpid()
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return Holder(user, socket.gethostname(), pid, process_start(pid) or 0)


def liveness(host: str, pid: int, started: int) -> Liveness:
    """Return whether the holder (host, pid, process start) is still running."""
    if host != socket.gethostname():
        return Liveness.UNKNOWN
    now_started = process_start(pid)
    if now_started is None:
        return Liveness.DEAD
    if started and now_started and now_started != started:
        return Liveness.DEAD  # the pid was reused by another process
    return Liveness.ALIVE
