"""Where a directory of a host lies physically: the filesystem holding it and its path inside
that filesystem, read from the host's mount table (`/proc/self/mountinfo`, proc(5)).

Two names on one host can be one directory although neither is a symbolic link: a bind mount
(`mount --bind /srv/core-banking/docs /srv/dr-spool`) or a second mount of one filesystem.
Neither the names nor `realpath` show it. The mount table does: each line gives the mount's
device (`major:minor`), the directory of that filesystem it shows (its root) and where it is
shown (its mount point). A path as the host resolves it (links followed) lies under the
longest mount point holding it, the last one mounted there when several are stacked; its
place is that mount's device and root joined with the rest of the path. Two paths overlap
when their places are on one device and one lies inside the other, whichever names reach
them. Assumptions: the mount table read is the one of the process that resolved the paths
(the same host, the same mount namespace), and nothing is mounted or unmounted between the
check and the work it guards.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator.host_paths import inside, normal

MOUNT_TABLE = "/proc/self/mountinfo"
_ESCAPED = re.compile(r"\\([0-7]{3})")  # a space, tab, newline or backslash in a path


@dataclass(frozen=True)
class Mount:
    """One line of a mount table: where it is shown, the device and the directory shown."""

    point: str
    device: str
    root: str


@dataclass(frozen=True)
class Place:
    """A directory as the kernel holds it: a filesystem (device) and a path inside it."""

    device: str
    path: str

    def __str__(self) -> str:
        return f"{self.path} on device {self.device}"


def parse_mount_table(text: str) -> tuple[Mount, ...]:
    """Given the text of a mountinfo file, return its mounts in the order they were made
    (fields 3–5: major:minor, root, mount point; octal escapes decoded, paths folded)."""
    mounts = []
    for line in text.splitlines():
        fields = line.split(" ")
        if len(fields) >= 5 and fields[3].startswith("/") and fields[4].startswith("/"):
            point, root = normal(_unescape(fields[4])), normal(_unescape(fields[3]))
            mounts.append(Mount(point, fields[2], root))
    return tuple(mounts)


def local_mounts() -> tuple[Mount, ...]:
    """Return this process's mount table, or none where there is no such file (not Linux)."""
    try:
        with open(MOUNT_TABLE, encoding="utf-8", errors="surrogateescape") as handle:
            return parse_mount_table(handle.read())
    except OSError:
        return ()


def _unescape(field: str) -> str:
    return _ESCAPED.sub(lambda found: chr(int(found.group(1), 8)), field)


def place(path: str, mounts: Sequence[Mount]) -> Place | None:
    """Given an absolute path as its host resolves it and that host's mounts (as
    parse_mount_table returns them), return where it lies physically; None when no mount
    holds it (an empty table)."""
    wanted = normal(path)
    holder: Mount | None = None
    for mount in mounts:  # the longest mount point holding path; of equals, the last made
        if inside(wanted, mount.point) and (
            holder is None or len(mount.point) >= len(holder.point)
        ):
            holder = mount
    if holder is None:
        return None
    rest = wanted[len(holder.point.rstrip("/")) :]
    return Place(holder.device, normal(holder.root.rstrip("/") + rest or "/"))


def same_place(one: str, other: str, mounts: Sequence[Mount]) -> tuple[Place, Place] | None:
    """Given two paths as one host resolves them and its mounts, return their places when
    they are one directory or one lies inside the other on one filesystem (a bind mount or a
    second mount between them), else None."""
    first, second = place(one, mounts), place(other, mounts)
    if first is None or second is None or first.device != second.device:
        return None
    nested = inside(first.path, second.path) or inside(second.path, first.path)
    return (first, second) if nested else None
