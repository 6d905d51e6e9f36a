"""Which recovery point a restore uses: the given one, or the newest good one.

Without a given point, candidates are every point of the dataset in the store (listed by the
store, or recorded there by the catalog), newest first. A point marked bad is passed over; an
intruder (point_trust) is passed over; a point whose manifest, listing or file digests do not
match is recorded bad (bad_points.report_failures, with evidence) and passed over, unless a file
or manifest it found missing belongs to a copy retention recorded deleted meanwhile: that one is
passed over, not judged (actions/removed_copies.py). Each pass is kept with its reason, so the
restore can say why it fell back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from orchestrator.actions.bad_points import report_failures
from orchestrator.actions.evidence_marks import evidence_bad_points
from orchestrator.actions.point_keys import data_key, unsealed
from orchestrator.actions.point_trust import (
    SIGNATURE_NAME,
    BrokenSignature,
    Intruder,
    OpenedPoint,
    open_point,
    point_ids_by_dataset,
)
from orchestrator.actions.removed_copies import REMOVED, removed_by_retention
from orchestrator.actions.verify_problems import extra_files
from orchestrator.errors import CheckFailed
from orchestrator.integrations.envelope import SealBroken
from orchestrator.integrations.hosts import HostFiles
from orchestrator.integrations.stores.base import MANIFEST_NAME, Store, point_prefix
from orchestrator.integrations.transfer import DigestMismatch, hashed, read_blocks
from orchestrator.model import catalog as cat
from orchestrator.model import integrity
from orchestrator.model.integrity import Failure
from orchestrator.model.manifest import Manifest
from orchestrator.runtime import Runtime

logger = logging.getLogger(__name__)
REBUILD_HINT = "(the catalog lacks the mark: put back from an older copy? drctl catalog rebuild)"


@dataclass(frozen=True)
class PassedOver:
    """A newer recovery point a restore did not use, and why (bad, intruder, mismatch)."""

    recovery_point_id: str
    store: str
    reason: str
    mismatch: bool = False  # this restore found it did not match (a failed check, exit 1)


class NoGoodPoint(CheckFailed):
    """No point of a dataset was left to restore; carries the mismatches that disqualified
    the ones tried, so a drill's report can name them (point, file, both digests)."""

    def __init__(self, message: str, failures: list[Failure]) -> None:
        self.failures = failures
        super().__init__(message)


class MarkedBad(CheckFailed):
    """A point given by id that the catalog marks bad: never restored (verification.md §8),
    whoever asks for it and whenever the mark was made since the point was chosen."""

    def __init__(self, where: str, reason: str = "marked bad in the catalog") -> None:
        self.where = where
        super().__init__(f"{where}: {reason}; a bad point is never restored")


class MissingFile(CheckFailed):
    """A file the manifest lists (or the manifest) of a point is not in the store.
    `removed_by_retention` is set when the copy's catalog row, read again, says retention
    deleted it meanwhile: then the point was not judged (actions/removed_copies.py)."""

    def __init__(self, where: str, expected: str, path: str, point: str) -> None:
        self.where = where
        self.expected = expected
        self.path = path
        self.point = point
        self.removed_by_retention = False
        super().__init__(f"{where}: missing (expected {expected})")


class ExtraFile(CheckFailed):
    """A file in a point's data its manifest does not list: the point was written into."""

    def __init__(self, where: str, path: str) -> None:
        self.path = path
        super().__init__(f"{where}: not in the manifest; the point was written into")


def fetch_to_host(
    store: Store,
    manifest: Manifest,
    host_files: HostFiles,
    destination: str,
    data_key: bytes | None = None,
) -> None:
    """Stream every file of a recovery point from the store to the host, checking size and
    digest in flight; an encrypted point's files are checked as stored (ciphertext digest),
    opened with its data key, and checked again as plaintext against the source's digest.
    Raise DigestMismatch (or its SealBroken) naming the file, MissingFile when a file is
    missing, ExtraFile (before anything is read) when the point holds one it does not list."""
    prefix = point_prefix(manifest.system, manifest.dataset, manifest.recovery_point_id)
    if (extra := next(iter(extra_files(store, prefix, manifest)), None)) is not None:
        raise ExtraFile(f"{store.name}:{prefix}/data/{extra}", extra)
    for entry in manifest.files:
        key = f"{prefix}/data/{entry.path}"
        where = f"{store.name}:{key}"
        expected = f"{entry.at_rest_size} bytes, digest {entry.at_rest_digest}"
        if not store.exists(key):
            raise MissingFile(where, expected, entry.path, manifest.recovery_point_id)
        try:
            opening = store.open_read(key)
        except FileNotFoundError as error:  # gone since it was listed: missing, as seen
            raise MissingFile(where, expected, entry.path, manifest.recovery_point_id) from error
        with opening as handle:
            sealed, stored = hashed(read_blocks(handle), manifest.hash_algorithm)
            blocks, result = sealed, stored  # clear: the stored bytes are the plaintext
            if data_key is not None:
                opened = unsealed(sealed, manifest, entry, data_key, where)
                blocks, result = hashed(opened, manifest.hash_algorithm)
            try:
                host_files.write_stream(f"{destination}/data/{entry.path}", blocks)
            except SealBroken as error:
                for _ in sealed:  # the rest of the stored file, for its whole digest
                    pass
                raise DigestMismatch(
                    where, entry.at_rest_digest, stored()[1], error.detail
                ) from error
        size, digest = stored()
        if digest != entry.at_rest_digest or size != entry.at_rest_size:
            detail = f"{size} bytes read, {entry.at_rest_size} expected"
            raise DigestMismatch(where, entry.at_rest_digest, digest, detail)
        size, digest = result()
        if digest != entry.digest or size != entry.size:
            detail = f"{size} bytes restored, {entry.size} expected"
            raise DigestMismatch(where, entry.digest, digest, detail)


class Selection:
    """Which point each dataset is restored from: the given one, or the newest good one."""

    def __init__(
        self,
        runtime: Runtime,
        store: Store,
        system: str,
        explicit: dict[str, str],
        *,
        record_given: bool = True,
    ):
        self.runtime = runtime
        self.record_given = record_given
        self.store = store
        self.system = system
        self.explicit = explicit
        self.passed_over: dict[str, list[PassedOver]] = {}
        self.failures: dict[str, list[Failure]] = {}
        self._queues: dict[str, list[str]] = {}
        self._points: dict[str, list[str]] | None = None
        with runtime.catalog.begin() as connection:
            self._bad = integrity.bad_point_ids(connection)
        # Marks the catalog may have lost (put back from an older copy): never restored either.
        self._evidence_bad = {
            point: package
            for point, package in evidence_bad_points(runtime).items()
            if point not in self._bad
        }

    def _listed(self) -> dict[str, list[str]]:
        """Every point of the system's datasets in the store: listed once per restore, not
        once per dataset."""
        if self._points is None:
            self._points = point_ids_by_dataset(self.runtime, self.store, self.system)
        return self._points

    def _queue(self, dataset: str) -> list[str]:
        if dataset not in self._queues:
            if dataset in self.explicit:
                queue = [self.explicit[dataset]]
            else:
                queue = self._listed().get(dataset, [])[::-1]
            if not queue:
                raise CheckFailed(
                    f"store {self.store.name}: no complete recovery point of "
                    f"{self.system}/{dataset}"
                )
            self._queues[dataset] = queue
        return self._queues[dataset]

    def fetch(self, dataset: str, host_files: HostFiles, spool: str) -> OpenedPoint:
        """Open the next usable point of dataset and stream it to the host's spool; raise
        CheckFailed when none is left (or, for a given point, when it does not match)."""
        queue = self._queue(dataset)
        while queue:
            point = queue.pop(0)
            if self.explicit:
                return self._given(dataset, point, host_files, spool)
            if point in self._evidence_bad:
                self._pass(dataset, point, self._evidence_reason(point))
                continue
            if self._marked_bad(point):
                self._pass(dataset, point, "marked bad in the catalog")
                continue
            opened_or_none = self._try(dataset, point, host_files, spool)
            if opened_or_none is not None:
                return opened_or_none
        passed = "; ".join(
            f"{p.recovery_point_id}: {p.reason}" for p in self.passed_over.get(dataset, [])
        )
        raise NoGoodPoint(
            f"store {self.store.name}: no good recovery point of {self.system}/{dataset} "
            f"left to restore ({passed})",
            self.failures.get(dataset, []),
        )

    def _given(self, dataset: str, point: str, host_files: HostFiles, spool: str) -> OpenedPoint:
        """Open a given point and stream it to the host's spool. Raise MarkedBad when it is
        bad, CheckFailed (MissingFile, ExtraFile, DigestMismatch…) when it does not match —
        recorded bad first (with evidence) unless the caller records what it finds itself
        (record_given False)."""
        where = f"{self.store.name}:{point_prefix(self.system, dataset, point)}/"
        if point in self._evidence_bad:
            raise MarkedBad(where, self._evidence_reason(point))
        if self._marked_bad(point):
            raise MarkedBad(where)
        try:
            opened = self._open_given(dataset, point)
            key = data_key(self.runtime.config, opened.store, opened.manifest, self.runtime.catalog)
            fetch_to_host(opened.store, opened.manifest, host_files, spool, key)
        except MissingFile as error:
            error.removed_by_retention = removed_by_retention(self.runtime, point, self.store.name)
            if not error.removed_by_retention:  # else not judged
                missing = (error.path, "missing", error.expected, "(absent)")
                self.record_given_failures([self._failure(dataset, point, *missing)])
            raise
        except ExtraFile as error:
            extra = (error.path, "extra", "(not in the manifest)", "present")
            self.record_given_failures([self._failure(dataset, point, *extra)])
            raise
        except DigestMismatch as error:
            file = error.key.partition(f"/{point}/")[2].removeprefix("data/") or error.key
            kind = "manifest" if file == MANIFEST_NAME else "mismatch"
            self.record_given_failures(
                [self._failure(dataset, point, file, kind, error.expected, error.actual)]
            )
            raise
        except BrokenSignature as error:  # the store was changed: bad, as a changed file is
            broken = (SIGNATURE_NAME, error.kind, error.expected, error.actual)
            self.record_given_failures([self._failure(dataset, point, *broken)])
            raise
        except CheckFailed as error:  # a recorded point's manifest refused, as in _try (an
            # intruder is no recorded point: raised unrecorded)
            if self._recorded(dataset, point):
                refused = (MANIFEST_NAME, "manifest", "a valid manifest", str(error))
                self.record_given_failures([self._failure(dataset, point, *refused)])
            raise
        return opened

    def record_given_failures(self, failures: list[Failure]) -> None:
        """Record what a restore of given points found (bad for good, with evidence), unless
        its caller records it itself (a validity check: verify_record)."""
        if self.record_given and failures:
            report_failures(self.runtime, failures, detected_by=f"restore from {self.store.name}")

    def _failure(
        self, dataset: str, point: str, file: str, kind: str, expected: str, actual: str
    ) -> Failure:
        return Failure(point, self.system, dataset, self.store.name, file, kind, expected, actual)

    def _open_given(self, dataset: str, point: str) -> OpenedPoint:
        """Open a given point's manifest; its absence is a missing file of that point
        (MissingFile, a failed check naming it), not a fault: the caller named a point
        that exists, and a manifest gone between two reads must not pass for a fault."""
        try:
            return open_point(self.runtime, self.store, self.system, dataset, point)
        except FileNotFoundError as error:
            prefix = point_prefix(self.system, dataset, point)
            where = f"{self.store.name}:{prefix}/{MANIFEST_NAME}"
            raise MissingFile(where, "present", MANIFEST_NAME, point) from error

    def _try(
        self, dataset: str, point: str, host_files: HostFiles, spool: str
    ) -> OpenedPoint | None:
        label = f"{self.store.name}: {self.system}/{dataset}/{point}"
        try:
            opened = open_point(self.runtime, self.store, self.system, dataset, point)
        except FileNotFoundError:
            if self._removed(dataset, point):
                return None
            if self._recorded(dataset, point):
                self._fail(dataset, point, MANIFEST_NAME, "missing", "present", "(absent)")
            else:
                self._pass(dataset, point, "incomplete: no manifest")
            return None
        except Intruder as error:
            logger.error("restore: %s is an intruder: %s", label, error.reason)
            self._pass(dataset, point, f"intruder ({error.reason})")
            return None
        except BrokenSignature as error:
            if error.recorded:  # the store was changed: bad, as a changed file is
                broken = (error.kind, error.expected, error.actual)
                self._fail(dataset, point, SIGNATURE_NAME, *broken)
            else:
                self._pass(dataset, point, f"intruder ({error.reason})")
            return None
        except DigestMismatch as error:
            self._fail(dataset, point, MANIFEST_NAME, "manifest", error.expected, error.actual)
            return None
        except CheckFailed as error:
            if self._recorded(dataset, point):
                self._fail(
                    dataset, point, MANIFEST_NAME, "manifest", "a valid manifest", str(error)
                )
            else:
                self._pass(dataset, point, f"intruder ({error})")
            return None
        try:
            # Without the key-encryption key nothing can be judged: KeyUnavailable (exit 3)
            # passes through; a wrap that does not open the point's key is a WrapMismatch.
            key = data_key(self.runtime.config, opened.store, opened.manifest, self.runtime.catalog)
            fetch_to_host(opened.store, opened.manifest, host_files, spool, key)
        except MissingFile as error:
            if not self._removed(dataset, point):
                self._fail(dataset, point, error.path, "missing", error.expected, "(absent)")
            return None
        except ExtraFile as error:
            self._fail(dataset, point, error.path, "extra", "(not in the manifest)", "present")
            return None
        except DigestMismatch as error:
            file = error.key.partition(f"/{point}/")[2].removeprefix("data/") or error.key
            self._fail(dataset, point, file, "mismatch", error.expected, error.actual)
            return None
        return opened

    def _removed(self, dataset: str, point: str) -> bool:
        """Return whether retention removed the point's copy in this store while it was read
        (its catalog row, read again, says deleted): then it is passed over, not judged."""
        if not removed_by_retention(self.runtime, point, self.store.name):
            return False
        self._pass(dataset, point, REMOVED)
        return True

    def _evidence_reason(self, point: str) -> str:
        return f"marked bad by evidence {self._evidence_bad[point]} {REBUILD_HINT}"

    def _marked_bad(self, point: str) -> bool:
        """Whether the point is bad: found so by this restore, or marked in the catalog now
        (a check running beside this restore may have marked it since the restore began)."""
        if point in self._bad:
            return True
        with self.runtime.catalog.begin() as connection:
            row = cat.get_recovery_point(connection, point)
        return row is not None and row.status == "bad"

    def _recorded(self, dataset: str, point: str) -> bool:
        """Whether the catalog holds this point of this dataset (a point id under another
        dataset's prefix is not the catalog's point: someone put it there)."""
        with self.runtime.catalog.begin() as connection:
            row = cat.get_recovery_point(connection, point)
        return row is not None and (row.system, row.dataset) == (self.system, dataset)

    def _pass(self, dataset: str, point: str, reason: str, *, mismatch: bool = False) -> None:
        logger.warning(
            "restore: passed over %s/%s/%s in %s: %s",
            self.system,
            dataset,
            point,
            self.store.name,
            reason,
        )
        self.passed_over.setdefault(dataset, []).append(
            PassedOver(point, self.store.name, reason, mismatch)
        )

    def _fail(
        self, dataset: str, point: str, file: str, kind: str, expected: str, actual: str
    ) -> None:
        self.reject(dataset, point, [self._failure(dataset, point, file, kind, expected, actual)])

    def reject(self, dataset: str, point: str, failures: list[Failure]) -> None:
        """Record a point's failures (bad for good, with evidence) and pass it over."""
        self.failures.setdefault(dataset, []).extend(failures)
        package = report_failures(
            self.runtime, failures, detected_by=f"restore from {self.store.name}"
        )
        self._bad.add(point)
        reason = "; ".join(
            f"{f.file}: {f.kind}: expected {f.expected}, actual {f.actual}" for f in failures
        )
        self._pass(
            dataset,
            point,
            reason + (f" (evidence {package.path})" if package else ""),
            mismatch=True,
        )
