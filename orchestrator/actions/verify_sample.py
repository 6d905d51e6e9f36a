"""`drctl verify`: the validity check of 260号 第七条 — restore a ≥ 10 % sample in the enclave.

Each point of the plan (`orchestrator.model.plan`) is read from its planned copy: its manifest
must match the catalog's digest, its listing must match the manifest (nothing missing, short
or extra), every file is hashed in flight against the digest taken at the source, and the
engine role restores it into the verification enclave and compares the logical fingerprint
and invariants. The enclave is then wiped with playbooks/wipe.yml and the wipe recorded. The
check counts toward the 30-day clock when it completed with a plan meeting both 10 % bars,
whether or not it found a mismatch; a mismatch marks the point bad and exits 1. A sampled copy
that retention removed while it was checked is `removed`: not judged, no mismatch, and the
check counts only if the points it did judge still meet both bars.

The enclave is the site named `verification` (role `vault`), or else the only `vault` site;
its host is in the inventory group `verification`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from orchestrator.actions.bad_points import (
    raise_found_before_abort,
    report_failures,
)
from orchestrator.actions.evidence_setup import prepare_evidence, write_site_package
from orchestrator.actions.restore_timing import record_timings, verify_timings
from orchestrator.actions.rule_status import rule_findings
from orchestrator.actions.scratch import sweep_orphans
from orchestrator.actions.verify_enclave import (
    check_enclave_apart,
    enclave_site,
    journal_enclave,
    wipe_journalled,
)
from orchestrator.actions.verify_evidence import (
    make_report,
    manifest_attachments,
)
from orchestrator.actions.verify_plan import SEED_GIVEN, build_plan
from orchestrator.actions.verify_points import ItemResult, batches, check_points, item_failures
from orchestrator.actions.verify_record import (
    abort_killed_checks,
    abort_verification,
    catalog_record,
    finish_verification,
    pending_verdict,
    record_items,
    start_verification,
)
from orchestrator.errors import CheckFailed
from orchestrator.model.catalog_errors import catalog_problem, is_catalog_error
from orchestrator.model.jobs import catalog_job
from orchestrator.model.plan import PlanItem, SamplePlan
from orchestrator.model.settings import Site
from orchestrator.runtime import Runtime

logger = logging.getLogger(__name__)
VERIFY_RULES = ("verify.sample", "verify.interval", "restore.duration")
WHY_NOT_COUNTED = {  # (English, Chinese)
    "bars": ("the sample misses a 10 % bar", "抽检比例未达 10%"),
    "seed": (
        "its seed was given on the command line (an operator-chosen sample, not a random one)",
        "抽样种子由命令行指定（操作员选定的样本，非随机抽样）",
    ),
}


@dataclass
class SampleOutcome:
    verification_id: str
    plan: SamplePlan
    items: list[ItemResult]
    counted: bool
    wipe: dict[str, Any]
    evidence_path: Path | None = None
    evidence_manifest_sha256: str | None = None
    meets_bars: bool = False  # both 10 % bars met by what was judged (counted unless chosen)

    @property
    def passed(self) -> bool:
        """Every point verified (or removed by retention while checked) and the enclave wiped."""
        return (
            all(result.status in ("passed", "removed") for result in self.items)
            and self.wipe.get("result") == "wiped"
        )

    @property
    def not_counted_because(self) -> tuple[str, str] | None:
        """Return why the check is not counted toward the 30-day clock (English, Chinese), or
        None if it is."""
        if self.counted:
            return None
        return WHY_NOT_COUNTED["seed" if self.meets_bars else "bars"]

    @property
    def removed(self) -> list[ItemResult]:
        """The sampled copies retention removed while they were checked (not judged)."""
        return [result for result in self.items if result.status == "removed"]

    @property
    def mismatches(self) -> list[dict[str, str]]:
        return [m for result in self.items for m in result.mismatches]


def run_verify_sample(runtime: Runtime, seed: int | str | None = None) -> SampleOutcome:
    """Plan and run a validity check; record it and write its `verify` evidence package.

    Raise CheckFailed if the population is empty, InfrastructureError if a host or playbook
    fails (recorded as aborted, never counted; the enclave is wiped either way)."""
    enclave = enclave_site(runtime.config.model, str(runtime.config.path))
    check_enclave_apart(runtime, enclave)
    sweep_orphans(runtime)
    prepare_evidence(runtime.config)  # no check starts that could not be evidenced (exit 2)
    with catalog_job(runtime.catalog, "verify", "sample") as job:
        for killed in abort_killed_checks(runtime):
            logger.warning("verify: check %s was killed before it finished: aborted", killed)
        outcome = _run(runtime, enclave, seed)
        job.detail = {"verification": outcome.verification_id, "passed": outcome.passed}
    return outcome


def _planned(runtime: Runtime, seed: int | str | None) -> SamplePlan:
    """Return the check's plan; raise CheckFailed when there is nothing to check, or the
    fault of a store it reads that is down (before anything is recorded)."""
    plan = build_plan(runtime, seed)
    if not plan.items:
        raise CheckFailed(
            "no complete full recovery point in the population "
            f"({plan.policy.population}): nothing to check"
        )
    for store_name in sorted({item.store for item in plan.items}):
        # A store that is down is a fault, not a mismatch: stop before anything is recorded.
        next(iter(runtime.store(store_name).list_points()), None)
    return plan


def _run(runtime: Runtime, enclave: Site, seed: int | str | None) -> SampleOutcome:
    plan = _planned(runtime, seed)
    started = time.time()
    verification_id = start_verification(runtime, plan, started)
    events: list[Path] = []
    results: list[ItemResult] = []
    # What the check restores into the enclave is journalled until the wipe has removed it,
    # so a killed check is wiped by the next run (actions/scratch.py).
    systems = {item.system for item in plan.items}
    areas = journal_enclave(runtime, enclave, systems, job="verify:sample")
    try:
        _check_items(runtime, enclave, plan, events, results)
    except BaseException as error:
        wipe = wipe_journalled(runtime, enclave, systems, events, areas)
        _abort(runtime, verification_id, plan, wipe, error, results)
        raise
    wipe = wipe_journalled(runtime, enclave, systems, events, areas)
    # What is recorded and stated is what was judged: a point retention removed as it was
    # checked is listed, but not in the sample's counts.
    judged = _judged(plan, results)
    meets_bars = plan.meets_bars and judged.meets_bars
    # An operator-chosen seed is recorded and judged, never counted (model/plan.py).
    counted = meets_bars and plan.seed_derivation.get("method") != SEED_GIVEN
    outcome = SampleOutcome(verification_id, judged, results, counted, wipe, meets_bars=meets_bars)
    try:
        _record(runtime, outcome, started, enclave, events)
    except BaseException as error:
        # The package could not be written (the evidence directory unwritable, a full disk):
        # the check is aborted, but a mismatch it found is still a failed check (exit 1).
        _abort(runtime, verification_id, plan, wipe, error, results)
        raise
    _log_mismatches(outcome)
    return outcome


def _abort(
    runtime: Runtime,
    verification_id: str,
    plan: SamplePlan,
    wipe: dict[str, Any],
    error: BaseException,
    results: list[ItemResult],
) -> None:
    """Record the check aborted by `error`; raise CheckFailed (exit 1) from it when the check
    had already found mismatches (bad_points.raise_found_before_abort), else return. A catalog
    that just failed is not asked again (the check stays `running`: the next check records it
    aborted); one that fails now is logged on one line, and the mismatches still named."""
    try:
        if not is_catalog_error(error):
            abort_verification(runtime, verification_id, plan, wipe, error, results)
    except Exception as unrecorded:
        if not is_catalog_error(unrecorded):
            raise
        logger.error(
            "verify %s: its abort is not recorded: %s",
            verification_id,
            catalog_problem(unrecorded, runtime.catalog.url),
        )
    raise_found_before_abort(
        runtime,
        item_failures(results),
        error,
        detected_by=f"verify {verification_id}",
        what=f"validity check {verification_id}",
    )


def _record(
    runtime: Runtime, outcome: SampleOutcome, started: float, enclave: Site, events: list[Path]
) -> None:
    """Record the check's facts, then its package, then its verdict with the package."""
    finished = time.time()
    # Facts first, committed at once: the items, restore times and, for every mismatch, its
    # point and copy marked bad for good, with a failure package of its own: a check killed
    # before its verdict leaves its bad marks in the evidence too, so a catalog lost and
    # rebuilt gets them back (the check's package is attached to them with the verdict).
    record_items(runtime, outcome)
    verification_id = outcome.verification_id
    record_timings(runtime, verify_timings(runtime.config.model, verification_id, outcome.items))
    detected_by = f"verify {verification_id}"
    report_failures(runtime, item_failures(outcome.items), detected_by=detected_by)
    # The verdict is judged by the rules inside a rolled-back transaction and committed only
    # with its evidence: a process killed in between leaves the check running, never counted.
    findings = _findings(runtime, outcome.plan, pending_verdict(outcome, finished))
    report = make_report(runtime, outcome, started, finished, enclave, findings)
    report["record"] = catalog_record(outcome, started, finished)
    package = write_site_package(
        runtime.config,
        "verify",
        report,
        {
            **{f"events/{p.name}": p for p in events if p.is_file()},
            **manifest_attachments(runtime, outcome),
        },
    )
    outcome.evidence_path = package.path
    outcome.evidence_manifest_sha256 = package.manifest_sha256
    finish_verification(runtime, outcome, finished, package, detected_by)


def _judged(plan: SamplePlan, results: list[ItemResult]) -> SamplePlan:
    """Return the plan of the points the check judged: all of them, but those retention
    removed while they were checked (the population stays as planned: never a smaller one).
    The check counts only if both the plan and this meet both 10 % bars."""
    judged = tuple(r.item for r in results if r.status != "removed")
    return plan if len(judged) == len(plan.items) else replace(plan, items=judged)


def _findings(
    runtime: Runtime, plan: SamplePlan, pending: Callable[[Connection], None]
) -> list[dict[str, Any]]:
    """Return the findings a check's package states, as `status` judges them with this check
    recorded: the site's validity-check rules, and restore times of the systems it checked."""
    systems = {item.system for item in plan.items}
    return [
        f.to_dict()
        for f in rule_findings(runtime, VERIFY_RULES, pending)
        if f.subject in systems or f.rule != "restore.duration"
    ]


def _log_mismatches(outcome: SampleOutcome) -> None:
    for mismatch in outcome.mismatches:
        logger.error(
            "verify: %s %s in %s: %s: expected %s, actual %s",
            mismatch["kind"],
            mismatch["recovery_point"],
            mismatch["store"],
            mismatch["file"],
            mismatch["expected"],
            mismatch["actual"],
        )


def _check_items(
    runtime: Runtime,
    enclave: Site,
    plan: SamplePlan,
    events: list[Path],
    results: list[ItemResult],
) -> None:
    """Check the plan's points batch by batch (verify_points.batches: the points of one system
    from one store restored in one run), `verification.restore_concurrency` systems at a time
    (each restores into its own directory of the enclave; one system's batches run one after
    another). Results are appended as they are known; a fault stops the batches not yet begun,
    waits for those under way and leaves the results so far for the abort path. At the end the
    results are in the plan's order."""
    by_system: dict[str, list[list[PlanItem]]] = {}
    for batch in batches(plan.items):
        by_system.setdefault(batch[0].system, []).append(batch)
    lock, stop = threading.Lock(), threading.Event()

    def check_system(system_batches: list[list[PlanItem]]) -> None:
        for batch in system_batches:
            if stop.is_set():
                return
            seen: list[ItemResult] = []
            try:
                found = check_points(runtime, enclave, batch, events, seen)
            except BaseException:
                stop.set()  # before this worker takes the next system
                with lock:
                    results.extend(seen)  # what the batch found failed before its fault
                raise
            with lock:
                results.extend(found)
            for result in found:
                item = result.item
                logger.info(
                    "verify %s/%s %s from %s: %s",
                    item.system,
                    item.dataset,
                    item.recovery_point,
                    item.store,
                    result.status,
                )

    workers = min(runtime.config.model.verification.restore_concurrency, len(by_system))
    with ThreadPoolExecutor(max(workers, 1), thread_name_prefix="verify") as pool:
        futures = [pool.submit(check_system, each) for each in by_system.values()]
        try:
            for future in as_completed(futures):
                future.result()
        finally:
            stop.set()  # no batch begins after a fault; the pool's exit waits for those under way
    order = {item: index for index, item in enumerate(plan.items)}
    results.sort(key=lambda result: order[result.item])
