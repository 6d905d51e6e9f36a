"""Whether two paths on a host are one place or one inside the other, compared as the kernel
reads them.

The paths of dr.yml (a site's `data_root` and `spool`) and those made from them are compared
as strings on the controller, where the host's files are not: `..` is folded and a run of
slashes is one slash — Linux reads `//srv` as `/srv`, though POSIX lets `posixpath.normpath`
keep two leading ones, and `/a/b/../c` as `/a/c` once `/a/b` exists. Every check that keeps a
drill, a check or a cleanup away from live data compares paths here. Assumption: no symbolic
link or bind mount on a host makes two of them one place (not seen from the controller;
docs/operators.md) — except where the check is also made on the host itself: the drill
directory and the verification enclave are compared there too, links resolved and mounts
placed (actions/host_places.py).
"""

from __future__ import annotations

import posixpath


def normal(path: str) -> str:
    """Given a path on a host, return it with `..`, `.` and repeated slashes folded."""
    folded = posixpath.normpath(path)
    return "/" + folded.lstrip("/") if folded.startswith("/") else folded


def overlap(one: str, other: str) -> bool:
    """Given two paths on one host, return whether they are one place or one lies inside
    the other."""
    first, second = normal(one), normal(other)
    return inside(first, second) or inside(second, first)


def inside(path: str, outer: str) -> bool:
    """Given two paths on one host, return whether path is outer or lies inside it."""
    first, second = normal(path), normal(outer)
    return first == second or first.startswith(second.rstrip("/") + "/")
