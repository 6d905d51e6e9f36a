"""`drctl copy-offsite`: copy recovery points to their off-site store and verify them there.

260号 第七条 「备份数据要实行异地保存」. A copy counts only after every file has been re-read
at the destination and its digest matched the manifest taken at the source. Only authenticated
points are copied (point_trust), read at the version drctl wrote; a point marked bad is never
copied. A mismatch on the way marks the point bad at once (bad_points; the evidence package
follows at the end of the run) and the other points are still copied; the command then fails
(exit 1) naming each. A store or host fault stops only its own system's copy; the command
ends with the worst code, a mismatch (1) winning over the fault (3). A source file found
missing of a copy the catalog, read again, records deleted was removed by retention while it
was copied: the point is not copied and not judged (no bad mark; actions/removed_copies.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator.actions.bad_points import record_failures, report_failures
from orchestrator.actions.point_keys import WrapMismatch, wrap_key, wrap_problem
from orchestrator.actions.point_trust import (
    SIGNATURE_NAME,
    BrokenSignature,
    Intruder,
    OpenedPoint,
    open_point,
    point_ids_by_dataset,
    write_manifest,
    written_versions,
)
from orchestrator.actions.removed_copies import removed_by_retention, removed_note
from orchestrator.actions.scratch import store_scratch, sweep_orphans
from orchestrator.errors import CheckFailed, OrchestratorError, worst_exit_code
from orchestrator.integrations.stores.base import MANIFEST_NAME, Store, point_prefix
from orchestrator.integrations.transfer import DigestMismatch, digest_stream, hashed, read_blocks
from orchestrator.model import catalog as cat
from orchestrator.model import integrity
from orchestrator.model.integrity import Failure
from orchestrator.model.jobs import CatalogJob, catalog_job
from orchestrator.model.key_wraps import record_wraps
from orchestrator.model.manifest import FileEntry, Manifest
from orchestrator.model.settings import System
from orchestrator.runtime import Runtime
from orchestrator.timefmt import sortable_id

logger = logging.getLogger(__name__)
# A signed point the catalog does not hold: its backup died before recording it. It counts for
# nothing (docs/crash-safety.md), so it is not carried off-site either; a rebuild adopts it.
NOT_RECORDED = "is not in the catalog (`drctl catalog rebuild` adopts it)"


@dataclass(frozen=True)
class CopyOutcome:
    recovery_point_id: str
    system: str
    dataset: str
    source: str
    destination: str
    bytes: int


class MissingSource(CheckFailed):
    """A file the manifest lists is missing from the source store."""

    def __init__(self, store: str, key: str, path: str) -> None:
        self.store = store
        self.path = path
        super().__init__(f"{store}:{key}: missing, cannot copy off-site")


def copy_point(
    source: Store,
    destination: Store,
    manifest: Manifest,
    manifest_bytes: bytes,
    manifest_sha256: str,
    *,
    signature: bytes | None = None,
) -> list[str]:
    """Copy one recovery point between stores, streaming and hashing; write the signature and
    the manifest last, after every file was re-read at the destination; return the KEK ids of
    the key wraps carried. Raise DigestMismatch on any difference, MissingSource when the
    source lacks a file. An encrypted point is copied as stored (ciphertext, checked against
    the stored digests: no key is needed), with the rotations' re-wrapped data keys beside its
    manifest."""
    prefix = point_prefix(manifest.system, manifest.dataset, manifest.recovery_point_id)
    # A store with copy_from (S3) copies server-side where it can and verifies at the
    # destination itself (stored checksum + sampled ranges); the others are re-read below.
    copy_from = getattr(destination, "copy_from", None)
    verified: set[str] = set()
    for entry in manifest.files:
        key = f"{prefix}/data/{entry.path}"
        if not source.exists(key):
            raise MissingSource(source.name, key, entry.path)
        if copy_from is not None and manifest.hash_algorithm == "sha256":
            copy_from(source, key, size=entry.at_rest_size, sha256=entry.at_rest_digest)
            verified.add(key)
            continue
        try:
            opening = source.open_read(key)
        except FileNotFoundError as error:  # gone since it was looked for: missing, as seen
            raise MissingSource(source.name, key, entry.path) from error
        with opening as handle:
            blocks, result = hashed(read_blocks(handle), manifest.hash_algorithm)
            checked = _store_sha256(source, key, manifest, entry)
            destination.write_stream(key, blocks, size=entry.at_rest_size, sha256=checked)
        size, digest = result()
        if (size, digest) != (entry.at_rest_size, entry.at_rest_digest):
            raise DigestMismatch(f"{source.name}:{key}", entry.at_rest_digest, digest)
    for entry in manifest.files:
        key = f"{prefix}/data/{entry.path}"
        if key in verified:
            continue
        with destination.open_read(key) as handle:
            size, digest = digest_stream(handle, manifest.hash_algorithm)
        if (size, digest) != (entry.at_rest_size, entry.at_rest_digest):
            where = f"{destination.name}:{key}"
            raise DigestMismatch(where, entry.at_rest_digest, digest, "re-read at the destination")
    wraps = copy_wraps(source, destination, manifest)
    write_manifest(destination, prefix, manifest_bytes, manifest_sha256, None, signature=signature)
    return wraps


def copy_wraps(source: Store, destination: Store, manifest: Manifest) -> list[str]:
    """Copy a point's re-wrapped data keys (key rotation, actions/point_keys.py), if any;
    return their KEK ids. Raise WrapMismatch for one that does not name the point and its key
    check: a changed wrap is never carried off-site."""
    carried: list[str] = []
    if manifest.encryption is None:
        return carried
    for key in source.list_keys(wrap_key(manifest)):
        data = source.read_bytes(key)
        try:
            parsed = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            parsed = None
        kek_id = key.rsplit("/", 1)[-1].removesuffix(".json")
        problem = wrap_problem(parsed, manifest, kek_id)
        if problem:
            raise WrapMismatch(f"{source.name}:{key}", manifest.encryption, problem)
        digest = hashlib.sha256(data).hexdigest()
        destination.write_stream(key, [data], size=len(data), sha256=digest)
        carried.append(kek_id)
    return carried


class _Copier:
    """Copies the points of one system from its primary to its off-site store."""

    source: Store
    destination: Store

    def __init__(self, runtime: Runtime, detected_by: str) -> None:
        self.runtime = runtime
        self.detected_by = detected_by
        self.failures: list[Failure] = []
        self.intruders: list[str] = []
        self.outcomes: list[CopyOutcome] = []
        self.removed: list[str] = []  # source copies retention removed while being copied
        self.job: CatalogJob | None = None  # the system's copy job, whose lease fences records

    def _fail(
        self,
        opened: tuple[str, str, str],
        store: str,
        file: str,
        kind: str,
        expected: str,
        actual: str,
    ) -> None:
        system, dataset, point = opened
        failure = Failure(point, system, dataset, store, file, kind, expected, actual)
        # Marked bad now, for good: a fault or a kill later in the run must not lose it (the
        # evidence package is added at the end, as verify --all does).
        record_failures(
            self.runtime, [failure], detected_by=self.detected_by, package=None, at=cat.now()
        )
        self.failures.append(failure)

    def open(self, system: str, dataset: str, point: str) -> OpenedPoint | None:
        """Open a source point; None (and the reason noted) when it must not be copied."""
        label = (system, dataset, point)
        try:
            return open_point(self.runtime, self.source, system, dataset, point)
        except FileNotFoundError:
            return None  # incomplete: no manifest, never counts
        except Intruder as error:
            logger.error("copy-offsite: not copied: %s", error)
            self.intruders.append(f"{self.source.name}: {system}/{dataset}/{point}")
        except BrokenSignature as error:  # the source store was changed: never carried off-site
            logger.error("copy-offsite: not copied: %s", error)
            if not error.recorded:
                self.intruders.append(f"{self.source.name}: {system}/{dataset}/{point}")
            else:
                broken = (error.kind, error.expected, error.actual)
                self._fail(label, self.source.name, SIGNATURE_NAME, *broken)
        except DigestMismatch as error:
            self._fail(
                label, self.source.name, MANIFEST_NAME, "manifest", error.expected, error.actual
            )
        except CheckFailed as error:
            self._fail(
                label, self.source.name, MANIFEST_NAME, "manifest", "a valid manifest", str(error)
            )
        return None

    def copy(self, opened: OpenedPoint) -> None:
        label = (opened.system, opened.dataset, opened.point)
        try:
            with store_scratch(
                self.runtime, self.destination, opened.prefix, job=f"copy_offsite:{opened.point}"
            ):
                wraps = copy_point(
                    opened.store,
                    self.destination,
                    opened.manifest,
                    opened.manifest_bytes,
                    opened.digest,
                    signature=opened.signature,  # the bytes authenticated, not a second read
                )
        except MissingSource as error:
            if removed_by_retention(self.runtime, opened.point, self.source.name):
                self.removed.append(removed_note("copy-offsite", opened.label, self.source.name))
                return  # not copied, not judged: retention removed the source meanwhile
            self._fail(label, self.source.name, error.path, "missing", "present", "(absent)")
            return
        except DigestMismatch as error:
            where, _, key = error.key.partition(":")
            store = where if where == self.destination.name else self.source.name
            file = key.partition(f"/{opened.point}/")[2].removeprefix("data/") or error.key
            self._fail(label, store, file, "mismatch", error.expected, error.actual)
            return
        self._record(opened, wraps)

    def _record(self, opened: OpenedPoint, wraps: list[str]) -> None:
        prefix = opened.prefix
        keys = [f"{prefix}/data/{entry.path}" for entry in opened.manifest.files]
        versions = written_versions(
            self.destination, keys + [f"{prefix}/{SIGNATURE_NAME}", f"{prefix}/{MANIFEST_NAME}"]
        )
        verified = cat.now()
        with self.runtime.catalog.begin() as connection:
            if self.job is not None:
                self.job.fence(connection)
            cat.record_copy(
                connection,
                opened.point,
                self.destination.name,
                self.destination.site,
                written_at=verified,
                verified_at=verified,
            )
            integrity.record_versions(
                connection, opened.point, self.destination.name, versions, at=verified
            )
            record_wraps(connection, opened.point, self.destination.name, wraps, verified)
        logger.info(
            "copied %s to %s (%s), verified there",
            opened.label,
            self.destination.name,
            self.destination.site,
        )
        self.outcomes.append(
            CopyOutcome(
                opened.point,
                opened.system,
                opened.dataset,
                self.source.name,
                self.destination.name,
                opened.manifest.total_bytes,
            )
        )


def _store_sha256(source: Store, key: str, manifest: Manifest, entry: FileEntry) -> str:
    """Return the sha256 the destination store checks the file against: the manifest's digest
    for a sha256 manifest; for an SM3 one, the sha256 of the source file, read once more (the
    copy itself is still judged by its SM3 digest against the manifest)."""
    if manifest.hash_algorithm == "sha256":
        return entry.at_rest_digest
    with source.open_read(key) as handle:
        return digest_stream(handle, "sha256")[1]


def run_copy_offsite(
    runtime: Runtime,
    *,
    systems: Sequence[str] | None = None,
    source_store: str | None = None,
    destination_store: str | None = None,
    points: Sequence[str] | None = None,
) -> list[CopyOutcome]:
    """Copy every authenticated, not-bad recovery point that has no verified copy in its
    system's off-site store yet (or the given points); return what was copied. Raise
    CheckFailed after copying the others when a point did not match or was an intruder."""
    config = runtime.config.model
    outcomes: list[CopyOutcome] = []
    failures: list[Failure] = []
    intruders: list[str] = []
    faults: list[OrchestratorError] = []
    detected_by = f"copy-offsite {sortable_id()}"
    sweep_orphans(runtime)
    for system in config.systems:
        if systems and system.name not in systems:
            continue
        copier = _Copier(runtime, detected_by)
        try:  # one system's fault does not stop the others, nor lose what was found
            copier.source = runtime.store(source_store or system.primary_store)
            copier.destination = runtime.store(destination_store or system.offsite_store)
            subject = f"{system.name}->{copier.destination.name}"
            with catalog_job(runtime.catalog, "copy_offsite", subject) as job:
                copier.job = job
                _copy_system(runtime, copier, system, points)
                job.detail = {
                    "copied": len(copier.outcomes),
                    "failed": len(copier.failures),
                    "removed_by_retention": copier.removed,
                }
                if copier.failures or copier.intruders:
                    job.fail(f"{len(copier.failures) + len(copier.intruders)} problem(s)")
        except OrchestratorError as error:
            logger.error("copy-offsite: %s: %s", system.name, error)
            faults.append(error)
        finally:
            outcomes += copier.outcomes
            failures += copier.failures
            intruders += copier.intruders
    _raise_for(runtime, detected_by, (failures, intruders, faults), len(outcomes))
    return outcomes


def _copy_system(
    runtime: Runtime, copier: _Copier, system: System, points: Sequence[str] | None
) -> None:
    name = system.name
    listed = point_ids_by_dataset(runtime, copier.source, name)  # the source, listed once
    # Fail early: an unreachable destination is a fault before any byte is read to copy.
    next(iter(copier.destination.list_points()), None)
    with runtime.catalog.begin() as connection:
        done = cat.verified_in_store(connection, copier.destination.name, name)
        bad = integrity.bad_point_ids(connection)
        recorded = cat.recorded_point_ids(connection, name)
    for dataset in system.datasets:
        for point in listed.get(dataset.name, []):
            if (points and point not in points) or (not points and point in done):
                continue
            label = (name, dataset.name, point)
            if point in bad:
                logger.warning("copy-offsite: %s/%s/%s is marked bad: not copied", *label)
                continue
            opened = copier.open(*label)  # an intruder is named whether recorded or not
            if opened is not None and point not in recorded:
                logger.warning("copy-offsite: %s/%s/%s %s: not copied", *label, NOT_RECORDED)
            elif opened is not None:
                copier.copy(opened)


class CopyFaults(OrchestratorError):
    """Systems whose copy stopped at a fault before any mismatch was seen; the exit code is
    the worst of theirs (errors.worst_exit_code)."""

    def __init__(self, faults: Sequence[OrchestratorError]) -> None:
        self.exit_code = worst_exit_code(fault.exit_code for fault in faults)
        super().__init__("; ".join(str(fault) for fault in faults))


def _raise_for(
    runtime: Runtime,
    detected_by: str,
    found: tuple[list[Failure], list[str], list[OrchestratorError]],
    copied: int,
) -> None:
    """Write the evidence of the mismatches (already marked bad when seen) and raise: a
    mismatch or an intruder is a failed check (exit 1) whatever else went wrong; else the
    faults' worst code."""
    failures, intruders, faults = found
    if not failures and not intruders:
        if len(faults) == 1:
            raise faults[0]
        if faults:
            raise CopyFaults(faults)
        return
    package = report_failures(runtime, failures, detected_by=detected_by)
    if package is not None:
        with runtime.catalog.begin() as connection:
            integrity.attach_evidence(
                connection, detected_by, str(package.path), package.manifest_sha256
            )
    parts = [failure.describe() for failure in failures]
    parts += [f"{intruder}: intruder (not authenticated), not copied" for intruder in intruders]
    parts += [f"not finished: {fault}" for fault in faults]
    raise CheckFailed(
        f"copy-offsite: {copied} point(s) copied; {len(parts)} problem(s): "
        + "; ".join(parts)
        + (f"; evidence: {package.path}" if package else "")
    )
