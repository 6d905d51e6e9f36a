"""The chain's write-once anchor: every chain line also kept as an object nobody can remove.

chain.jsonl sits beside the packages, so whoever can delete a package can also cut its line
out. Each line is therefore also written, byte for byte, as one object in the off-site store:

    <anchor_prefix>/<NNNNNNNN>-<package name>.json     NNNNNNNN = the line's number, from 1

* **S3** (`S3Anchor`): PUT with Object Lock in COMPLIANCE mode until written + the configured
  retention (ten years by default). Nobody, the bucket owner included, can delete the version
  or shorten its lock; a plain DELETE only adds a delete marker and a second PUT only adds a
  version, and the reader sees both (it lists every version and reads the oldest).
* **File stores** (`FileAnchor`): a file created exclusively with mode 0444. This is the
  weaker guarantee: it stops mistakes and unprivileged users, but anyone who may write the
  directory can still remove the file, and root can do anything. docs/auditor-guide.md says so.

Concatenating the anchors in key order gives chain.jsonl back; `chain_check` compares them.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import stat
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from orchestrator.errors import InputError
from orchestrator.evidence.chain import ChainEntry, chain_line, write_fully

logger = logging.getLogger(__name__)

ANCHOR_NAME_PATTERN = re.compile(
    r"^(\d{8})-((?:drill|verify|report)-\d{8}T\d{6}Z-[0-9a-f]{6,})\.json$"
)
READ_ONLY_MODE = 0o444


def anchor_name(sequence: int, package: str) -> str:
    """Given a chain line number (from 1) and the package's name, return the object's name."""
    return f"{sequence:08d}-{package}.json"


@dataclass
class AnchorRecord:
    """One anchor as read back: its line number, package, bytes, and what is wrong with it."""

    sequence: int
    package: str
    key: str
    content: bytes
    problems: list[str] = field(default_factory=list)


class Anchor(Protocol):
    """Where a chain's anchors are written and read back."""

    where: str
    guarantee: str

    def names(self) -> set[str]:
        """Return the names of the anchors present (no content read)."""

    def write(self, name: str, data: bytes) -> None:
        """Write one anchor, never replacing one."""

    def records(self) -> tuple[list[AnchorRecord], list[str]]:
        """Return every anchor read back, and problems with objects that are not anchors."""


def anchor_chain(anchor: Anchor, entries: list[ChainEntry], *, dry_run: bool = False) -> list[str]:
    """Given the anchor and the chain's entries, write every line not yet anchored (with
    dry_run, write nothing); return the names written (or that would be). Raise
    InfrastructureError when the store fails."""
    present = anchor.names()
    written = []
    for sequence, entry in enumerate(entries, start=1):
        name = anchor_name(sequence, entry.name)
        if name not in present:
            if not dry_run:
                anchor.write(name, chain_line(entry))
            written.append(name)
    return written


def parse_anchor_name(name: str) -> tuple[int, str] | None:
    """Given an object's name, return (line number, package) or None if it is not an anchor."""
    match = ANCHOR_NAME_PATTERN.match(name)
    return (int(match.group(1)), match.group(2)) if match else None


class FileAnchor:
    """Anchors as read-only files in a directory of a file store (the weaker guarantee)."""

    guarantee = (
        "read-only files (mode 0444) in a file store: protects against mistakes, not against "
        "an administrator, who can delete or replace them"
    )

    def __init__(self, directory: Path, guarantee: str | None = None) -> None:
        self.directory = directory
        self.where = f"file://{directory}"
        if guarantee is not None:  # a copy (`evidence verify --anchor`) says where it came from
            self.guarantee = guarantee

    def names(self) -> set[str]:
        if not self.directory.is_dir():
            return set()
        return {path.name for path in self.directory.iterdir() if path.is_file()}

    def write(self, name: str, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / name
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, READ_ONLY_MODE)
        try:
            write_fully(descriptor, data)
            os.fsync(descriptor)
        except OSError:
            target.unlink()  # a cut anchor would stand for its line for good: write it later
            raise
        finally:
            os.close(descriptor)
        os.chmod(target, READ_ONLY_MODE)  # the umask may have taken bits away, never added
        directory = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def records(self) -> tuple[list[AnchorRecord], list[str]]:
        if not self.directory.is_dir():
            return [], []
        records, strays = [], []
        for path in sorted(self.directory.iterdir()):
            parsed = parse_anchor_name(path.name)
            if parsed is None or not path.is_file() or path.is_symlink():
                strays.append(f"{self.where}/{path.name}: not an anchor of this chain")
                continue
            record = AnchorRecord(*parsed, key=f"{self.where}/{path.name}", content=b"")
            record.content = path.read_bytes()
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o222:
                record.problems.append(
                    f"{record.key}: writable (mode {mode:o}); anchors are written read-only"
                )
            records.append(record)
        return records, strays


class LockingBucket(Protocol):
    """What an S3 anchor needs of its store (integrations/stores/s3.py S3Store): the bucket,
    a boto3 client, the store's key prefixing, its Object Lock settings and error mapping."""

    @property
    def name(self) -> str: ...

    @property
    def bucket(self) -> str: ...

    @property
    def client(self) -> Any: ...

    def object_key(self, key: str) -> str: ...

    def lock_settings(self) -> tuple[bool, float]: ...

    def errors(self, key: str) -> AbstractContextManager[None]: ...


class S3Anchor:
    """Anchors as COMPLIANCE-locked objects in an S3 bucket with Object Lock."""

    def __init__(self, store: LockingBucket, prefix: str, retention_days: int) -> None:
        self.store = store
        self.prefix = store.object_key(prefix)
        self.retention = timedelta(days=retention_days)
        self.where = f"s3://{store.bucket}/{self.prefix}"
        self.guarantee = (
            f"S3 Object Lock, COMPLIANCE mode, {retention_days} days from writing: "
            "nobody can delete or shorten it"
        )

    def require_object_lock(self) -> None:
        """Raise InputError (exit 2) when the bucket has no Object Lock: anchors there could
        be deleted, so none are written."""
        enabled, _ = self.store.lock_settings()
        if not enabled:
            raise InputError(
                f"anchor store {self.store.name}",
                [
                    f"evidence.anchor_store: store {self.store.name}: bucket {self.store.bucket} "
                    "has no Object Lock; evidence anchors must be write-once (enable Object "
                    "Lock on the bucket, or name another store)"
                ],
            )

    def names(self) -> set[str]:
        return {key.rsplit("/", 1)[-1] for key, _ in self._versions()}

    def write(self, name: str, data: bytes) -> None:
        self.require_object_lock()
        key = f"{self.prefix}/{name}"
        digest = hashlib.sha256(data).digest()
        with self.store.errors(""):
            self.store.client.put_object(
                Bucket=self.store.bucket,
                Key=key,
                Body=data,
                ContentType="application/json",
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=base64.b64encode(digest).decode("ascii"),
                ObjectLockMode="COMPLIANCE",
                ObjectLockRetainUntilDate=datetime.now(UTC) + self.retention,
            )

    def records(self) -> tuple[list[AnchorRecord], list[str]]:
        by_key: dict[str, list[dict[str, Any]]] = {}
        for key, version in self._versions():
            by_key.setdefault(key, []).append(version)
        records, strays = [], []
        for key, versions in sorted(by_key.items()):
            parsed = parse_anchor_name(key.rsplit("/", 1)[-1])
            if parsed is None:
                strays.append(f"s3://{self.store.bucket}/{key}: not an anchor of this chain")
                continue
            records.append(self._record(key, parsed, versions))
        return records, strays

    def _record(
        self, key: str, parsed: tuple[int, str], versions: list[dict[str, Any]]
    ) -> AnchorRecord:
        label = f"s3://{self.store.bucket}/{key}"
        record = AnchorRecord(*parsed, key=label, content=b"")
        # Oldest first: S3 lists a key's versions newest first, and LastModified has only
        # second resolution, so the listing order breaks ties.
        objects = sorted(
            (v for v in versions if not v["marker"]),
            key=lambda v: (v["LastModified"], -v["position"]),
        )
        markers = [v for v in versions if v["marker"]]
        if markers:
            record.problems.append(
                f"{label}: hidden by {len(markers)} delete marker(s); someone tried to delete it"
            )
        if len(objects) > 1:
            record.problems.append(
                f"{label}: {len(objects)} versions; someone wrote over it (the first is used)"
            )
        if not objects:
            record.problems.append(f"{label}: only delete markers, no content")
            return record
        with self.store.errors(""):
            response = self.store.client.get_object(
                Bucket=self.store.bucket, Key=key, VersionId=objects[0]["VersionId"]
            )
            record.content = response["Body"].read()
        mode = response.get("ObjectLockMode")
        until = response.get("ObjectLockRetainUntilDate")
        if mode != "COMPLIANCE" or until is None:
            record.problems.append(f"{label}: not under COMPLIANCE Object Lock (mode {mode})")
        elif until < datetime.now(UTC):
            record.problems.append(f"{label}: its lock expired on {until.isoformat()}")
        return record

    def _versions(self) -> list[tuple[str, dict[str, Any]]]:
        """Return (key, version) for every version and delete marker under the prefix, with
        its position in the listing."""
        found: list[tuple[str, dict[str, Any]]] = []
        paginator = self.store.client.get_paginator("list_object_versions")
        with self.store.errors(""):
            for page in paginator.paginate(Bucket=self.store.bucket, Prefix=f"{self.prefix}/"):
                for version in page.get("Versions", []):
                    found.append((version["Key"], {**version, "marker": False}))
                for marker in page.get("DeleteMarkers", []):
                    found.append((marker["Key"], {**marker, "marker": True}))
        return [(key, {**item, "position": n}) for n, (key, item) in enumerate(found)]
