"""The points of a validity check or a re-check, each from its planned store into the enclave
(verify_sample.py, verify_recheck.py).

Each point's manifest is authenticated against the catalog's digest and its listing and sizes at
rest are checked against the manifest before anything is restored; the engine's restore then
hashes every file in flight and compares the logical fingerprint and invariants. Every mismatch
is a result, never raised.

`check_points` restores the points of one system from one store together: one restore run (one
playbook) for all of them instead of one each, which is most of a check's time with many small
datasets (docs/benchmarks.md, "Several serve nodes"). A batch holds each dataset once, at most
BATCH_POINTS points and BATCH_BYTES bytes (so a batch never puts more than that in the enclave's
spool, or one point when a single point is larger). A batch whose restore stops at a mismatch
(a file missing or not matching its digest, a manifest refused on its second reading) keeps that
mismatch for the point it names, as a check of that point alone would have found it, and checks
the other points again one by one: a failed read is never replaced by a later one that passes.
Each point of a batch is timed with the batch: its restore finished within that time, as a drill
step times each dataset it restores.

A point found with a file or its manifest missing is judged only after its copy's catalog row is
read again (actions/removed_copies.py): a copy retention recorded deleted meanwhile is
`removed` (not judged: no mismatch, no bad mark); a copy still present stays failed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.actions.point_trust import (
    SIGNATURE_NAME,
    BrokenSignature,
    Intruder,
    OpenedPoint,
    open_point,
)
from orchestrator.actions.removed_copies import removed_by_retention, removed_note
from orchestrator.actions.restore import RestoredDataset, restore_failures, run_restore
from orchestrator.actions.restore_selection import MissingFile
from orchestrator.actions.verify_enclave import PURPOSE, enclave_target
from orchestrator.actions.verify_problems import check_listing, check_wraps
from orchestrator.errors import CheckFailed
from orchestrator.integrations.stores.base import MANIFEST_NAME, point_prefix
from orchestrator.integrations.transfer import DigestMismatch
from orchestrator.model.integrity import Failure
from orchestrator.model.key_wraps import wrapped_under
from orchestrator.model.plan import PlanItem
from orchestrator.model.settings import Site
from orchestrator.runtime import Runtime

logger = logging.getLogger(__name__)
BATCH_POINTS = 32
BATCH_BYTES = 1 << 30


@dataclass
class ItemResult:
    item: PlanItem
    status: str = "passed"  # passed | failed | removed (by retention while checked)
    manifest_sha256: str = ""
    checked_at: float = 0.0
    mismatches: list[dict[str, str]] = field(default_factory=list)
    fingerprint: str = ""
    manifest_bytes: bytes = b""
    business_date: str = ""
    finished_at: str = ""
    started_at: float = 0.0

    def fail(self, file: str, expected: str, actual: str, kind: str) -> None:
        self.status = "failed"
        self.mismatches.append(
            {
                "recovery_point": self.item.recovery_point,
                "system": self.item.system,
                "dataset": self.item.dataset,
                "store": self.item.store,
                "file": file,
                "kind": kind,
                "expected": expected,
                "actual": actual,
            }
        )


def _open_item(runtime: Runtime, item: PlanItem, result: ItemResult) -> OpenedPoint | None:
    """Open and authenticate a planned point's manifest; None (and result failed) if not."""
    try:
        return open_point(
            runtime, runtime.store(item.store), item.system, item.dataset, item.recovery_point
        )
    except DigestMismatch as error:
        result.fail(MANIFEST_NAME, f"{error.expected} (catalog)", error.actual, "manifest")
    except Intruder as error:
        result.fail(MANIFEST_NAME, "an authenticated manifest", error.reason, "manifest")
    except BrokenSignature as error:  # the store was changed: a failed check, as a changed file
        result.fail(SIGNATURE_NAME, error.expected, error.actual, error.kind)
    except CheckFailed as error:
        result.fail(MANIFEST_NAME, "a valid manifest", str(error), "manifest")
    except FileNotFoundError:
        result.fail(MANIFEST_NAME, "present", "(absent)", "missing")
    return None


def _check_stored(
    runtime: Runtime, item: PlanItem, opened: OpenedPoint, result: ItemResult
) -> None:
    """Before restoring: the point's listing against its manifest (nothing missing or extra),
    its key wraps (each of its data key, as verify --all checks them) and each file's size at
    rest; a version drift over a locked key is logged."""
    prefix = point_prefix(item.system, item.dataset, item.recovery_point)
    manifest, view = opened.manifest, opened.store
    result.manifest_sha256 = opened.digest
    result.business_date, result.finished_at = manifest.business_date, manifest.finished_at
    result.manifest_bytes = opened.manifest_bytes
    for drift in opened.drift:
        logger.warning(
            "verify: %s in %s: %s: %s (the version drctl wrote is read: %s)",
            opened.label,
            item.store,
            drift.key,
            drift.actual,
            drift.expected,
        )
    found = check_listing(view, opened.label, prefix, manifest)
    with runtime.catalog.begin() as connection:  # the key wraps drctl wrote beside the point
        wraps = wrapped_under(connection, item.recovery_point, item.store)
    for problem in found + check_wraps(view, opened.label, prefix, manifest, wraps):
        result.fail(problem.file, problem.expected, problem.actual, problem.kind)
    for entry in manifest.files:
        key = f"{prefix}/data/{entry.path}"
        if not view.exists(key):
            continue  # named by the listing's check
        try:
            size = view.size(key)
        except FileNotFoundError:  # gone since it was listed: missing, as seen
            result.fail(entry.path, f"{entry.at_rest_size} bytes", "(absent)", "missing")
            continue
        if size != entry.at_rest_size:
            result.fail(
                entry.path,
                f"{entry.at_rest_digest} ({entry.at_rest_size} bytes)",
                f"{size} bytes",
                "truncated" if size < entry.at_rest_size else "size",
            )


def check_item(runtime: Runtime, enclave: Site, item: PlanItem, events: list[Path]) -> ItemResult:
    """Check one planned point from its planned store into the enclave; return the result
    (every mismatch — digest, listing, fingerprint, invariant — is a result, never raised).
    Raise InfrastructureError when a host or the playbook fails before the data is compared."""
    [result] = check_points(runtime, enclave, [item], events)
    return result


def check_points(
    runtime: Runtime,
    enclave: Site,
    items: Sequence[PlanItem],
    events: list[Path],
    failed: list[ItemResult] | None = None,
) -> list[ItemResult]:
    """Check a batch (points of one system from one store, each dataset once) with one
    restore run; return the results in the order given, each timed with the batch. Raise
    InfrastructureError when a host or the playbook fails before the data is compared;
    the points already found failed (a refused manifest, a missing file, a mismatch the
    batch stopped at) are first appended to `failed`, so that the fault never hides them."""
    begun = time.time()
    results = [ItemResult(item) for item in items]
    ready: dict[str, tuple[ItemResult, OpenedPoint]] = {}
    for result in results:
        opened = _open_item(runtime, result.item, result)
        if opened is not None:
            _check_stored(runtime, result.item, opened, result)
        if opened is not None and result.status == "passed":
            ready[result.item.dataset] = (result, opened)
    try:
        try:
            if ready:
                _restore_together(runtime, enclave, ready, events)
        except CheckFailed as error:  # MissingFile and DigestMismatch among them
            _after_stop(runtime, enclave, ready, results, error, events)
    except BaseException:
        _timed(results, begun)
        with suppress(Exception):  # a catalog fault here keeps the failures as seen
            _spare_removed(runtime, results)
        if failed is not None:
            failed.extend(r for r in results if r.status == "failed")
        raise
    _timed(results, begun)
    _spare_removed(runtime, results)
    return results


def _spare_removed(runtime: Runtime, results: list[ItemResult]) -> None:
    """Re-read the copy row of each failed result that found a file or manifest missing: a
    copy retention recorded deleted meanwhile is `removed`, its missing files not judged (a
    mismatch of bytes it did read stays failed); a copy still present stays failed."""
    for result in results:
        missing = [m for m in result.mismatches if m["kind"] == "missing"]
        item = result.item
        if not missing or not removed_by_retention(runtime, item.recovery_point, item.store):
            continue
        result.mismatches = [m for m in result.mismatches if m["kind"] != "missing"]
        if not result.mismatches:
            result.status = "removed"
        label = f"{item.system}/{item.dataset} {item.recovery_point}"
        removed_note("verify", label, item.store)


def _timed(results: list[ItemResult], begun: float) -> None:
    finished = time.time()
    for result in results:
        if not result.checked_at:
            result.started_at, result.checked_at = begun, finished


def _after_stop(
    runtime: Runtime,
    enclave: Site,
    ready: dict[str, tuple[ItemResult, OpenedPoint]],
    results: list[ItemResult],
    error: CheckFailed,
    events: list[Path],
) -> None:
    """Given a batch's restore stopped by `error`, put in `results` the point the error
    names (its store key) failed with what was seen, as it would alone, and the rest of the
    ready points checked alone (all of them when the error names none), each as soon as it
    is known. What was seen is kept: a second read that passes never replaces a mismatch the
    first read found."""
    stopped = next(iter(ready)) if len(ready) == 1 else _named(error, ready)
    if stopped is not None:
        _restore_failed(ready[stopped][0], error)
    others = [d for d in ready if d != stopped]
    if others:
        logger.info("verify: %d points restored together: %s; the rest alone", len(ready), error)
    for index, result in enumerate(results):
        if result.item.dataset in others:
            results[index] = check_item(runtime, enclave, result.item, events)


def _named(error: CheckFailed, ready: dict[str, tuple[ItemResult, OpenedPoint]]) -> str | None:
    """Return the dataset of the one ready point whose store key the error names, or None
    (every error of a point's fetch names `<store>:<system>/<dataset>/<point>/…`)."""
    text = error.key if isinstance(error, DigestMismatch) else str(error)
    named = [
        dataset
        for dataset, (result, _opened) in ready.items()
        if f":{point_prefix(*_point(result.item))}/" in text
    ]
    return named[0] if len(named) == 1 else None


def _point(item: PlanItem) -> tuple[str, str, str]:
    return item.system, item.dataset, item.recovery_point


def _restore_together(
    runtime: Runtime,
    enclave: Site,
    ready: dict[str, tuple[ItemResult, OpenedPoint]],
    events: list[Path],
) -> None:
    """Restore the ready points in one run and judge each by its fingerprint and invariants."""
    items = [result.item for result, _opened in ready.values()]
    system = runtime.config.model.system(items[0].system)
    outcome = run_restore(
        runtime,
        system.name,
        store_name=items[0].store,
        site_name=enclave.name,
        points={item.dataset: item.recovery_point for item in items},
        datasets=[item.dataset for item in items],
        purpose=PURPOSE,
        restore_mode="scratch",
        record_given=False,  # verify_record records every mismatch of the check
        targets={
            d.name: {"target_path": enclave_target(enclave, system.name, d)}
            for d in system.datasets
            if d.name in ready and d.path
        },
    )
    events.append(outcome.events_path)
    restored: dict[str, RestoredDataset] = {d.dataset: d for d in outcome.datasets}
    for name, (result, opened) in ready.items():
        done = restored[name]
        result.fingerprint = "equal" if not done.differences else "different"
        for failure in restore_failures(
            opened, result.item.store, done.fingerprint, done.invariant_violations
        ):
            result.fail(failure.file, failure.expected, failure.actual, failure.kind)


def _restore_failed(result: ItemResult, error: Exception) -> None:
    """Record what stopped a point's restore before its data could be compared."""
    if isinstance(error, MissingFile):
        result.fail(error.path, error.expected, "(absent)", "missing")
    elif isinstance(error, DigestMismatch):
        file = error.key.partition("/data/")[2] or error.key
        result.fail(file, error.expected, error.actual, "mismatch")
    else:
        result.fail("(restore)", "restored", str(error), "restore")


def batches(items: Sequence[PlanItem]) -> Iterator[list[PlanItem]]:
    """Group a plan's points into batches for check_points: one system and store, each
    dataset once, at most BATCH_POINTS points and BATCH_BYTES bytes (a larger point alone)."""
    open_batches: list[list[PlanItem]] = []
    for item in items:
        batch = next((b for b in open_batches if _fits(b, item)), None)
        if batch is None:
            open_batches.append([item])
        else:
            batch.append(item)
    yield from open_batches


def _fits(batch: list[PlanItem], item: PlanItem) -> bool:
    first = batch[0]
    return (
        (item.system, item.store) == (first.system, first.store)
        and all(b.dataset != item.dataset for b in batch)
        and len(batch) < BATCH_POINTS
        and sum(b.bytes for b in batch) + item.bytes <= BATCH_BYTES
    )


def item_failures(results: list[ItemResult]) -> list[Failure]:
    """Return the failures of checked items, one per mismatch."""
    return [
        Failure(
            m["recovery_point"],
            m["system"],
            m["dataset"],
            m["store"],
            m["file"],
            m["kind"],
            m["expected"],
            m["actual"],
        )
        for result in results
        for m in result.mismatches
    ]
