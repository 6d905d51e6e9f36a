"""`drctl verify --all`: re-read every stored recovery point and check every digest.

An integrity scan, not the sampled validity check of 第七条 (that restores into an enclave,
`orchestrator.actions.verify_sample`). A recovery point without a manifest is incomplete:
listed, never counted, never an error. Each manifest is checked against the catalog's digest
first, then every file is hashed on every core (`orchestrator.integrations.hashing`). A large
file of a directory store whose manifest carries per-chunk digests is checked chunk by chunk
in parallel; the chunk digests are part of the manifest the catalog vouches for, so equal
chunks mean equal content.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import BinaryIO

from orchestrator.errors import CheckFailed
from orchestrator.integrations.hashing import HashJob, HashResult, Progress, hash_jobs, new_hash
from orchestrator.integrations.stores.base import MANIFEST_NAME, Store, point_prefix
from orchestrator.integrations.stores.file import FileStore
from orchestrator.integrations.transfer import DigestMismatch
from orchestrator.model import catalog as cat
from orchestrator.model.manifest import CHUNK_BYTES, FileEntry, Manifest
from orchestrator.runtime import Runtime
from orchestrator.timefmt import sortable_id

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Problem:
    store: str
    recovery_point: str
    file: str
    kind: str  # mismatch | missing | truncated | extra | manifest | unreadable
    expected: str = ""
    actual: str = ""

    def describe(self) -> str:
        text = f"{self.store}: {self.recovery_point}: {self.file}: {self.kind}"
        if self.expected or self.actual:
            text += f": expected {self.expected}, actual {self.actual}"
        return text


@dataclass
class ScanResult:
    points: int = 0
    files: int = 0
    bytes: int = 0
    incomplete: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    with_manifest: set[tuple[str, str]] = field(default_factory=set)  # (store, point id)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class _Target:
    """One file (or one chunk of it) to hash, and what the manifest says it must be."""

    store: str
    label: str
    entry: FileEntry
    chunk: int | None = None


@dataclass
class _Point:
    store: Store
    label: str
    prefix: str
    manifest: Manifest


def check_listing(store: Store, label: str, prefix: str, manifest: Manifest) -> list[Problem]:
    """Given a recovery point's manifest, return the missing and extra files in the store."""
    problems = []
    listed = {f"{prefix}/data/{entry.path}" for entry in manifest.files}
    for entry in manifest.files:
        if not store.exists(f"{prefix}/data/{entry.path}"):
            problems.append(
                Problem(store.name, label, entry.path, "missing", entry.digest, "(absent)")
            )
    for key in store.list_keys(f"{prefix}/data"):
        if key not in listed:
            problems.append(
                Problem(
                    store.name,
                    label,
                    key.removeprefix(f"{prefix}/data/"),
                    "extra",
                    "(not in the manifest)",
                    "present",
                )
            )
    return problems


def open_point(
    runtime: Runtime, store: Store, system: str, dataset: str, point: str
) -> tuple[Manifest | None, list[Problem]]:
    """Load a point's manifest (checked against the catalog) and its listing problems; a
    refused or edited manifest is a problem and nothing of the point is read."""
    from orchestrator.actions.restore import load_manifest

    label = f"{system}/{dataset}/{point}"
    try:
        manifest, _digest = load_manifest(runtime, store, system, dataset, point)
        new_hash(manifest.hash_algorithm)
    except DigestMismatch as error:
        return None, [
            Problem(store.name, label, MANIFEST_NAME, "manifest", error.expected, error.actual)
        ]
    except (CheckFailed, ValueError) as error:
        return None, [Problem(store.name, label, MANIFEST_NAME, "manifest", actual=str(error))]
    return manifest, check_listing(store, label, point_prefix(system, dataset, point), manifest)


def _jobs(points: list[_Point], skip: set[tuple[str, str, str]]) -> Iterator[HashJob]:
    for point in points:
        store = point.store
        for entry in point.manifest.files:
            if (store.name, point.label, entry.path) in skip:
                continue
            key = f"{point.prefix}/data/{entry.path}"

            def opener(store: Store = store, key: str = key) -> AbstractContextManager[BinaryIO]:
                return store.open_read(key)

            algorithm = point.manifest.hash_algorithm
            chunked = (
                isinstance(store, FileStore)
                and len(entry.chunk_digests) > 1
                and store.size(key) == entry.size
            )
            if not chunked:
                yield HashJob(opener, algorithm, tag=_Target(store.name, point.label, entry))
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


def judge(result: HashResult) -> Problem | None:
    """Given a hash result of a file or chunk, return the problem it shows, if any."""
    target: _Target = result.job.tag
    entry = target.entry
    if result.error:
        return Problem(
            target.store, target.label, entry.path, "unreadable", entry.digest, result.error
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
    if result.size != entry.size:
        return Problem(
            target.store,
            target.label,
            entry.path,
            "truncated" if result.size < entry.size else "mismatch",
            f"{entry.digest} ({entry.size} bytes)",
            f"{result.digest} ({result.size} bytes)",
        )
    if result.digest != entry.digest:
        return Problem(
            target.store, target.label, entry.path, "mismatch", entry.digest, result.digest
        )
    return None


def scan(runtime: Runtime, *, workers: int | None = None) -> ScanResult:
    """Scan every store of the config without recording anything; return what was found."""
    result = ScanResult()
    points: list[_Point] = []
    for definition in runtime.config.model.stores:
        store = runtime.store(definition.name)
        for system, dataset, point in store.list_points():
            prefix = point_prefix(system, dataset, point)
            label = f"{system}/{dataset}/{point}"
            if not store.exists(f"{prefix}/{MANIFEST_NAME}"):
                result.incomplete.append(f"{store.name}: {label}")
                continue
            result.with_manifest.add((store.name, point))
            manifest, problems = open_point(runtime, store, system, dataset, point)
            result.problems += problems
            if manifest is not None:
                result.points += 1
                points.append(_Point(store, label, prefix, manifest))
    skip = {(p.store, p.recovery_point, p.file) for p in result.problems if p.kind == "missing"}
    total = sum(entry.size for point in points for entry in point.manifest.files)
    progress = Progress(total, label="verify --all", enabled=runtime.progress)
    seen_files: set[tuple[str, str, str]] = set()
    for hashed in hash_jobs(_jobs(points, skip), workers=workers, on_bytes=progress.advance):
        target: _Target = hashed.job.tag
        seen_files.add((target.store, target.label, target.entry.path))
        result.bytes += hashed.size
        problem = judge(hashed)
        if problem is not None:
            result.problems.append(problem)
    progress.close()
    result.files = len(seen_files)
    result.problems.sort(key=lambda p: (p.store, p.recovery_point, p.file, p.expected))
    return result


def run_verify_all(runtime: Runtime, *, workers: int | None = None) -> ScanResult:
    """Scan every store of the config; record the scan and mark bad copies in the catalog."""
    started = cat.now()
    verification_id = f"all-{sortable_id()}"
    result = scan(runtime, workers=workers)
    with runtime.catalog.begin() as connection:
        for copy in cat.list_copies(connection):
            key = (copy.store, copy.recovery_point_id)
            if copy.status == "present" and key not in result.with_manifest:
                result.problems.append(
                    Problem(
                        copy.store,
                        copy.recovery_point_id,
                        MANIFEST_NAME,
                        "missing",
                        "recovery point in the catalog",
                        "(absent from the store)",
                    )
                )
        for problem in result.problems:
            point_id = problem.recovery_point.rsplit("/", 1)[-1]
            cat.mark_copy(connection, point_id, problem.store, "bad", reason=problem.describe())
        connection.execute(
            cat.verifications.insert().values(
                id=verification_id,
                kind="all",
                started_at=started,
                finished_at=cat.now(),
                status="passed" if result.ok else "failed",
                counted=False,
                sample_points=result.points,
                sample_bytes=result.bytes,
                detail={
                    "problems": [p.describe() for p in result.problems],
                    "incomplete": result.incomplete,
                },
            )
        )
    for problem in result.problems:
        logger.error("verify --all: %s", problem.describe())
    logger.info(
        "verify --all: %d recovery points, %d files, %d bytes, %d problem(s), "
        "%d incomplete ignored",
        result.points,
        result.files,
        result.bytes,
        len(result.problems),
        len(result.incomplete),
    )
    return result
