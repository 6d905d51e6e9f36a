"""Whether two stores are one location: a copy into one would land in the other.

Two stores are one when one's location is the other's or lies inside it, on the same server:

* `file://`: the same directory or a directory below it, compared as directories on this
  machine (symlinks resolved; a directory reached twice, by a bind mount or a second mount of
  one share, found by device and inode, and one reached inside the other through such a mount
  found by this machine's mount table, orchestrator/mounts.py).
* `sftp://`: the same or a nested path (normalised) on the same port of the same machine. The
  user is ignored: two logins on one server write one disk.
* `s3://`: the same bucket and an equal or nested prefix on the same endpoint: the same port
  of the same machine for an `endpoint_url`; for AWS (no `endpoint_url`, or one under
  `amazonaws.com`), the same partition whatever the region, since a bucket name is unique in
  its partition.

"The same machine" is decided by `orchestrator.addresses`: host names are resolved on the
controller and two names are one machine when they reach a common address (a loopback address
and the controller's own addresses are all the controller). A name that does not resolve on
the controller is compared by name: the controller, which makes every copy, cannot reach it
either, so no copy lands there unseen. Assumption: the controller resolves names as the sites
do. Names are only resolved once the paths (or bucket and prefixes) and ports already match.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from orchestrator.addresses import Resolver, machines_of
from orchestrator.mounts import local_mounts, same_place

DEFAULT_PORTS = {"sftp": 22, "http": 80, "https": 443}
AWS_SUFFIXES = ((".amazonaws.com.cn", "aws-cn"), (".amazonaws.com", "aws"))
AWS_REGION_PARTITIONS = (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"))
AWS_PARTITIONS = frozenset({"aws", "aws-cn", "aws-us-gov"})


@dataclass(frozen=True)
class Place:
    """Where a store keeps its points: scheme, server (host name or AWS partition, empty for
    file://), port and normalised path (for S3: /bucket/prefix)."""

    scheme: str
    server: str
    port: int | str
    path: str


def same_store_reason(
    first_url: str, second_url: str, first: Any, second: Any, machines: Resolver = machines_of
) -> str | None:
    """Given two stores' absolute URLs and definitions and a function returning the machines a
    host name reaches, return why one's location is the other's or inside it, or None when
    they are apart."""
    one, other = make_place(first_url, first), make_place(second_url, second)
    if one.scheme != other.scheme:
        return None
    nested = _nested(one.path, other.path) or _nested(other.path, one.path)
    if one.scheme == "file":
        if nested:
            return "the same directory or one inside the other"
        if _same_tree(one.path, other.path) or _same_tree(other.path, one.path):
            return "the same directory on this machine, by device and inode"
        if places := same_place(one.path, other.path, local_mounts()):
            return (
                f"one directory or one inside the other through a mount: {places[0]}, {places[1]}"
            )
        return None
    if not nested or one.port != other.port:
        return None
    if one.server == other.server:
        return f"on {one.server} port {one.port}"
    if one.server in AWS_PARTITIONS or other.server in AWS_PARTITIONS:
        return None  # AWS partitions are compared by name, never resolved
    shared = machines(one.server) & machines(other.server)
    if not shared:
        return None
    return (
        f"{one.server} and {other.server} are one machine ({', '.join(sorted(shared))}) "
        f"port {one.port}"
    )


def make_place(url: str, store: Any) -> Place:
    """Given a store's absolute URL and definition, return its Place."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "s3":
        server, port = _s3_server(store)
        return Place(scheme, server, port, _normal_path(parts.netloc + "/" + parts.path))
    if scheme == "sftp":
        host = (parts.hostname or "").lower()
        return Place(scheme, host, _port(parts, DEFAULT_PORTS["sftp"]), _normal_path(parts.path))
    local = os.path.realpath(_normal_path(parts.netloc + parts.path))
    return Place(scheme, "", "", _normal_path(local))


def _s3_server(store: Any) -> tuple[str, int | str]:
    """Return an S3 store's server (endpoint host, or its AWS partition) and port."""
    endpoint = getattr(store, "endpoint_url", None)
    if not endpoint:
        region = (getattr(store, "region", None) or "").lower()
        partition = next(
            (p for prefix, p in AWS_REGION_PARTITIONS if region.startswith(prefix)), "aws"
        )
        return partition, DEFAULT_PORTS["https"]
    parts = urlsplit(endpoint if "//" in endpoint else "https://" + endpoint)
    host = (parts.hostname or "").lower().rstrip(".")
    for suffix, partition in AWS_SUFFIXES:
        if host.endswith(suffix):  # GovCloud's endpoints sit under amazonaws.com too
            gov = partition == "aws" and "us-gov-" in host
            return ("aws-us-gov" if gov else partition), DEFAULT_PORTS["https"]
    return host, _port(parts, DEFAULT_PORTS.get(parts.scheme.lower(), 443))


def _port(parts: SplitResult, default: int) -> int | str:
    try:
        return parts.port or default
    except ValueError:  # not a number: compared as written
        return parts.netloc.rpartition(":")[2]


def _identity(path: str) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def _same_tree(outer: str, inner: str) -> bool:
    """Return whether inner, or a directory above it, is outer's directory reached by another
    path (a bind mount, a second mount): compared by device and inode, where both exist."""
    wanted = _identity(outer)
    if wanted is None:
        return False
    path = inner
    while True:
        if _identity(path) == wanted:
            return True
        parent = posixpath.dirname(path)
        if parent == path:
            return False
        path = parent


def _normal_path(path: str) -> str:
    normal = posixpath.normpath("/" + path.strip())
    return normal.rstrip("/") or "/"


def _nested(outer: str, inner: str) -> bool:
    return inner == outer or inner.startswith(outer.rstrip("/") + "/")
