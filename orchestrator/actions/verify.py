"""`drctl verify --all`: re-read every stored recovery point and check every digest.

An integrity scan, not the sampled validity check of 第七条 (that restores into an enclave,
`orchestrator.actions.verify_sample`). Every reachable store is scanned; a store that cannot be
listed is reported unreachable and the others are still scanned. A recovery point without a
manifest is incomplete: listed, never counted, never an error — unless the catalog records a
copy there, then its manifest is missing. Each manifest is authenticated first
(`point_trust.open_point`: read at the S3 version drctl wrote, equal to the catalog's digest or
signed by the site's key; anything else is an intruder; a manifest that says it is signed
without a valid signature beside it is tampering, point_signature.py), then its files are
hashed on every core (`orchestrator.integrations.hashing`) while the next point is opened:
manifests are streamed, one point held at a time, so memory does not grow with the number of
files. A store that fails part-way is reported unreachable; what was read of it before stays
in the report. A large file of a directory store whose manifest carries per-chunk digests is
checked chunk by chunk in parallel; the chunk digests are part of the authenticated manifest,
so equal chunks mean equal content. An encrypted point's files are checked against their
stored (ciphertext) sizes and digests: no key is needed. Recording and evidence:
`orchestrator.actions.verify_all`; what marks a point bad: `verify_problems`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from orchestrator.actions.point_trust import (
    SIGNATURE_NAME,
    BrokenSignature,
    Intruder,
    OpenedPoint,
    open_point,
    trusted_keys,
)
from orchestrator.actions.verify_problems import (
    Problem,
    check_listing,
    check_wraps,
    row_differences,
)
from orchestrator.errors import CheckFailed, InfrastructureError
from orchestrator.integrations.hashing import HashJob, HashResult, Progress, hash_jobs, new_hash
from orchestrator.integrations.stores.base import MANIFEST_NAME, Store, point_prefix
from orchestrator.integrations.stores.file import FileStore
from orchestrator.integrations.transfer import DigestMismatch
from orchestrator.model import catalog as cat
from orchestrator.model.key_wraps import wraps_in_store
from orchestrator.model.manifest import CHUNK_BYTES, FileEntry, Manifest
from orchestrator.runtime import Runtime

logger = logging.getLogger(__name__)


@dataclass
class ScanResult:
    points: int = 0
    files: int = 0
    bytes: int = 0
    incomplete: list[str] = field(default_factory=list)
    # authenticated by the site's signature, checked, but without a catalog row: the catalog
    # lost it, or a backup was killed before recording it (`drctl catalog rebuild` adopts it)
    not_in_catalog: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    with_manifest: set[tuple[str, str]] = field(default_factory=set)  # (store, point id)
    scanned: list[str] = field(default_factory=list)  # stores listed and read
    unreachable: dict[str, str] = field(default_factory=dict)  # store -> why

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unreachable


@dataclass(frozen=True)
class _Target:
    """One file (or one chunk of it) to hash, and what the manifest says it must be."""

    store: str
    label: str
    entry: FileEntry
    chunk: int | None = None


@dataclass
class _Point:
    store: Any
    label: str
    prefix: str
    manifest: Manifest


def _open(
    runtime: Runtime,
    store: Store,
    point: tuple[str, str, str],
    recorded: bool,
    keys: tuple[Ed25519PublicKey, ...],
) -> tuple[OpenedPoint | None, list[Problem]]:
    """Open and authenticate a point's manifest; return it (None when it cannot be used) and
    the problems that stopped it or that its files must still be checked beside: a claimed
    signature missing or invalid beside a manifest the catalog vouches for."""
    label = "/".join(point)
    try:
        opened = open_point(runtime, store, *point, keys=keys)
        new_hash(opened.manifest.hash_algorithm)
        return opened, []
    except FileNotFoundError:
        if recorded:
            return None, [
                Problem(store.name, label, MANIFEST_NAME, "missing", "present", "(absent)")
            ]
        return None, []
    except (Intruder, BrokenSignature) as error:
        if not isinstance(error, BrokenSignature) or error.opened is None:
            # an intruder; or nothing vouches for the manifest, nor for its claim
            return None, [
                Problem(store.name, label, MANIFEST_NAME, "intruder", actual=error.reason)
            ]
        tampered = Problem(
            store.name, label, SIGNATURE_NAME, error.kind, error.expected, error.actual
        )
        return error.opened, [tampered]
    except DigestMismatch as error:
        return None, [
            Problem(store.name, label, MANIFEST_NAME, "manifest", error.expected, error.actual)
        ]
    except (CheckFailed, ValueError) as error:
        kind = "manifest" if recorded else "intruder"
        return None, [Problem(store.name, label, MANIFEST_NAME, kind, actual=str(error))]


def authenticate(
    runtime: Runtime,
    store: Store,
    point: tuple[str, str, str],
    recorded: bool,
    keys: tuple[Ed25519PublicKey, ...],
) -> tuple[OpenedPoint | None, list[Problem]]:
    """Open and authenticate a point's manifest; return it (None when it cannot be used) and
    the problems seen: a missing or edited manifest of a recorded point, an intruder, S3
    versions over the originals, a claimed signature missing or invalid (tampering: its files
    are still checked, the catalog vouches for the manifest), a broken unclaimed signature."""
    opened, problems = _open(runtime, store, point, recorded, keys)
    if opened is None:
        return None, problems
    point_id = point[2]
    problems += [
        Problem(
            store.name,
            opened.label,
            drift.key.rsplit(f"/{point_id}/", 1)[-1],
            drift.kind,
            drift.expected,
            drift.actual,
        )
        for drift in opened.drift
    ]
    problems += _row_problems(runtime, store.name, opened)
    if opened.signature_problem:
        problems.append(
            Problem(
                store.name,
                opened.label,
                SIGNATURE_NAME,
                "signature",
                "a signature by the pinned key",
                opened.signature_problem,
            )
        )
    return opened, problems


def _row_problems(runtime: Runtime, store: str, opened: OpenedPoint) -> list[Problem]:
    """Return a `catalog` problem for each value the catalog's row of a recorded point holds
    otherwise than its authenticated manifest (a business date or time edited in the catalog
    would make the rules judge a backup that was never taken): reported, the point not bad."""
    if not opened.recorded:
        return []
    with runtime.catalog.begin() as connection:
        row = cat.get_recovery_point(connection, opened.point)
    if row is None:
        return []
    return [
        Problem(
            store,
            opened.label,
            f"(catalog) {column}",
            "catalog",
            f"{manifest} (its signed manifest)",
            f"{held} (the catalog's row)",
        )
        for column, held, manifest in row_differences(row, opened.manifest)
    ]


def _jobs(point: _Point, skip: set[str]) -> Iterator[HashJob]:
    """Yield the hash jobs of one point's files, but those its listing found missing."""
    store = point.store
    algorithm = point.manifest.hash_algorithm
    for entry in point.manifest.files:
        if entry.path in skip:
            continue
        key = f"{point.prefix}/data/{entry.path}"

        def opener(store: Store = store, key: str = key) -> AbstractContextManager[BinaryIO]:
            return store.open_read(key)

        chunked = (  # chunk digests are of the plaintext: an encrypted file is hashed whole
            isinstance(store, FileStore)
            and entry.stored_digest is None
            and len(entry.chunk_digests) > 1
            and _size(store, key) == entry.size
        )
        if not chunked:
            target = _Target(store.name, point.label, entry)
            yield HashJob(opener, algorithm, tag=target, size_hint=entry.at_rest_size)
            continue
        for index in range(len(entry.chunk_digests)):
            start = index * CHUNK_BYTES
            yield HashJob(
                opener,
                algorithm,
                offset=start,
                length=min(CHUNK_BYTES, entry.size - start),
                tag=_Target(store.name, point.label, entry, index),
            )


def _size(store: FileStore, key: str) -> int | None:
    """Return a file's size, or None when it is gone since the listing: its read then fails
    and is named (judge), never raised."""
    try:
        return store.size(key)
    except OSError:
        return None


def judge(result: HashResult) -> Problem | None:
    """Given a hash result of a file or chunk, return the problem it shows, if any."""
    target: _Target = result.job.tag
    entry = target.entry
    if result.error:
        return Problem(
            target.store, target.label, entry.path, "unreadable", entry.at_rest_digest, result.error
        )
    if target.chunk is not None:
        expected = entry.chunk_digests[target.chunk]
        if result.digest == expected and result.size == result.job.length:
            return None
        where = f"chunk {target.chunk} at byte {result.job.offset}"
        return Problem(
            target.store,
            target.label,
            entry.path,
            "mismatch",
            f"{expected} ({where})",
            f"{result.digest} ({result.size} bytes read)",
        )
    if result.size != entry.at_rest_size:
        return Problem(
            target.store,
            target.label,
            entry.path,
            "truncated" if result.size < entry.at_rest_size else "mismatch",
            f"{entry.at_rest_digest} ({entry.at_rest_size} bytes)",
            f"{result.digest} ({result.size} bytes)",
        )
    if result.digest != entry.at_rest_digest:
        return Problem(
            target.store, target.label, entry.path, "mismatch", entry.at_rest_digest, result.digest
        )
    return None


def _store_points(
    runtime: Runtime, store: Store
) -> tuple[list[tuple[str, str, str]], set[tuple[str, str, str]]]:
    """Return every point to look at in a store (listed by the store, or recorded there by the
    catalog: a delete marker can hide a point from a listing) and the recorded ones.
    Raise InfrastructureError when the store cannot be listed."""
    listed = set(store.list_points())
    with runtime.catalog.begin() as connection:
        owners = {row.id: (row.system, row.dataset) for row in cat.list_recovery_points(connection)}
        copies = [
            copy.recovery_point_id
            for copy in cat.list_copies(connection)
            if copy.store == store.name and copy.status in ("present", "bad")
        ]
    recorded = {(*owners[point], point) for point in copies if point in owners}
    return sorted(listed | recorded), recorded


def _scan_store(
    runtime: Runtime,
    store: Store,
    keys: tuple[Ed25519PublicKey, ...],
    result: ScanResult,
    progress: Progress,
) -> Iterator[HashJob]:
    """Authenticate a store's points one by one and yield each one's hash jobs as soon as
    its manifest is checked: a manifest is held only while its files are being hashed, so
    memory does not grow with the number of points or files (issue 15). Raise
    InfrastructureError when the store cannot be listed or read."""
    everything, recorded = _store_points(runtime, store)
    with runtime.catalog.begin() as connection:
        wraps = wraps_in_store(connection, store.name)  # the key wraps drctl wrote there
    for system, dataset, point in everything:
        label = f"{system}/{dataset}/{point}"
        prefix = point_prefix(system, dataset, point)
        known = (system, dataset, point) in recorded
        opened, problems = authenticate(runtime, store, (system, dataset, point), known, keys)
        result.problems += problems
        if opened is None:
            if not problems:
                result.incomplete.append(f"{store.name}: {label}")
            continue
        if not known:
            result.not_in_catalog.append(f"{store.name}: {label}")
        result.with_manifest.add((store.name, point))
        listing = check_listing(opened.store, label, prefix, opened.manifest)
        result.problems += check_wraps(
            opened.store, label, prefix, opened.manifest, wraps.get(point, set())
        )
        result.problems += listing
        result.points += 1
        progress.grow(sum(entry.at_rest_size for entry in opened.manifest.files))
        skip = {problem.file for problem in listing if problem.kind == "missing"}
        yield from _jobs(_Point(opened.store, label, prefix, opened.manifest), skip)


def _every_job(runtime: Runtime, result: ScanResult, progress: Progress) -> Iterator[HashJob]:
    """Yield the hash jobs of every reachable store in turn; a store that cannot be listed or
    read is recorded unreachable (what was read of it before stays reported) and the next
    store is scanned."""
    keys = trusted_keys(runtime.config)
    for definition in runtime.config.model.stores:
        try:
            store = runtime.store(definition.name)
            yield from _scan_store(runtime, store, keys, result, progress)
        except InfrastructureError as error:
            result.unreachable[definition.name] = str(error)
            logger.error("verify --all: store %s unreachable: %s", definition.name, error)
            continue
        result.scanned.append(definition.name)


def scan(
    runtime: Runtime, *, workers: int | None = None, result: ScanResult | None = None
) -> ScanResult:
    """Scan every reachable store of the config without recording anything; return what was
    found, with the stores that could not be reached. Given `result`, fill it in as the scan
    goes: a scan stopped part-way (Ctrl-C) leaves there what it had found."""
    result = ScanResult() if result is None else result
    # The total grows as manifests are read: they are streamed, never all held at once.
    progress = Progress(0, label="verify --all", enabled=runtime.progress)
    jobs = _every_job(runtime, result, progress)
    for hashed in hash_jobs(jobs, workers=workers, on_bytes=progress.advance):
        target: _Target = hashed.job.tag
        if target.chunk is None or target.chunk == 0:
            result.files += 1  # a file is counted once, whole or by its first chunk
        result.bytes += hashed.size
        problem = judge(hashed)
        if problem is not None:
            result.problems.append(problem)
    progress.close()
    result.problems.sort(key=lambda p: (p.store, p.recovery_point, p.file, p.expected))
    return result
