"""S3 truth is the version drctl wrote: pin reads to it, and name what was put over it.

Object Lock keeps the version drctl wrote from being deleted or changed, but anyone with write
access can still put a *newer* version over the key, or a delete marker. Plain reads would then
see the newer bytes, or nothing. So:

* the catalog records the version id of every object drctl writes (model/integrity.py);
* `pin(store, versions)` returns a view of the store whose reads, heads and ranged reads ask for
  those versions — the locked originals (stores/s3_pinned.py);
* `point_versions` lists every version and delete marker under a recovery point and returns
  the versions to pin (the recorded ones; without a record, the *oldest* version of each key,
  which is the one a catalog rebuild trusts, since under COMPLIANCE retention nobody can remove
  it and a later write can only add versions on top) and the drift: every key whose current
  version is not the pinned one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestrator.integrations.stores.s3 import S3Store


@dataclass(frozen=True)
class Drift:
    """A key whose current state is not the version drctl wrote."""

    key: str
    kind: str  # overwritten | delete-marker | version-missing
    expected: str
    actual: str


@dataclass(frozen=True)
class _Version:
    version_id: str
    latest: bool
    delete_marker: bool
    modified: str


def key_history(store: S3Store, prefix: str) -> dict[str, list[_Version]]:
    """Return {key relative to the store root: versions} under a key prefix: the real versions
    newest first, as S3 lists them, then the delete markers."""
    from orchestrator.integrations.stores.s3_retention import list_versions

    root = len(store.object_key(prefix)) - len(prefix)
    history: dict[str, list[_Version]] = {}
    for entry in list_versions(store, store.object_key(prefix).rstrip("/") + "/"):
        history.setdefault(entry["Key"][root:], []).append(
            _Version(
                str(entry["VersionId"]),
                bool(entry.get("IsLatest")),
                "Size" not in entry,  # delete markers have no size
                str(entry.get("LastModified", "")),
            )
        )
    return history


def oldest_version(versions: list[_Version]) -> str | None:
    """Return the oldest real version (S3 lists a key's versions newest first), or None."""
    real = [v for v in versions if not v.delete_marker]
    return real[-1].version_id if real else None


def point_versions(
    store: S3Store, prefix: str, recorded: Mapping[str, str]
) -> tuple[dict[str, str], list[Drift]]:
    """Given a point's key prefix and the versions the catalog recorded (may be empty), return
    (versions to read, drift found), every key named."""
    history = key_history(store, prefix)
    pinned = dict(recorded)
    if not pinned:
        for key, versions in history.items():
            oldest = oldest_version(versions)
            if oldest is not None:
                pinned[key] = oldest
    drift = []
    for key, version in sorted(pinned.items()):
        versions = history.get(key, [])
        latest = next((v for v in versions if v.latest), None)
        if not any(v.version_id == version and not v.delete_marker for v in versions):
            drift.append(Drift(key, "version-missing", f"version {version}", "(gone)"))
        elif latest is None or latest.version_id == version:
            continue
        elif latest.delete_marker:
            drift.append(
                Drift(
                    key, "delete-marker", f"version {version}", f"delete marker {latest.version_id}"
                )
            )
        else:
            drift.append(
                Drift(
                    key,
                    "overwritten",
                    f"version {version}",
                    f"newer version {latest.version_id} ({latest.modified})",
                )
            )
    return pinned, drift
