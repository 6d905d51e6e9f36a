"""`drctl verify`: the validity check of 260号 第七条 — restore a ≥ 10 % sample in the enclave.

Each point of the plan (`orchestrator.model.plan`) is read from its planned copy: its manifest
must match the catalog's digest, its listing must match the manifest (nothing missing, short
or extra), every file is hashed in flight against the digest taken at the source, and the
engine role restores it into the verification enclave and compares the logical fingerprint
and invariants. The enclave is then wiped with playbooks/wipe.yml and the wipe recorded. The
check counts toward the 30-day clock when it completed with a plan meeting both 10 % bars,
whether or not it found a mismatch; a mismatch marks the point bad and exits 1.

The enclave is the site named `verification` (role `vault`), or else the only `vault` site;
its host is in the inventory group `verification`.
"""

from __future__ import annotations

import logging
import posixpath
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from orchestrator.actions.restore import load_manifest, run_restore
from orchestrator.actions.verify import check_listing
from orchestrator.actions.verify_evidence import (
    make_report,
    manifest_attachments,
)
from orchestrator.actions.verify_plan import build_plan
from orchestrator.errors import CheckFailed, InputError
from orchestrator.evidence.setup import prepare_evidence, write_site_package
from orchestrator.integrations.ansible import run_playbook
from orchestrator.integrations.stores.base import MANIFEST_NAME, point_prefix
from orchestrator.integrations.transfer import DigestMismatch
from orchestrator.model import catalog as cat
from orchestrator.model.engines import spool_root
from orchestrator.model.jobs import catalog_job
from orchestrator.model.plan import PlanItem, SamplePlan, plan_dict
from orchestrator.model.settings import Config, Site
from orchestrator.runtime import Runtime
from orchestrator.timefmt import iso_utc, sortable_id

logger = logging.getLogger(__name__)
ENCLAVE_NAME = "verification"
PURPOSE = "verify"


@dataclass
class ItemResult:
    item: PlanItem
    status: str = "passed"  # passed | failed
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


@dataclass
class SampleOutcome:
    verification_id: str
    plan: SamplePlan
    items: list[ItemResult]
    counted: bool
    wipe: dict[str, Any]
    evidence_path: Path | None = None
    evidence_manifest_sha256: str | None = None

    @property
    def passed(self) -> bool:
        """Every point verified and the enclave wiped."""
        return (
            all(result.status == "passed" for result in self.items)
            and self.wipe.get("result") == "wiped"
        )

    @property
    def mismatches(self) -> list[dict[str, str]]:
        return [m for result in self.items for m in result.mismatches]


def enclave_site(config: Config, source: str) -> Site:
    """Return the verification enclave: the site named `verification`, else the only site of
    role `vault`. Raise InputError if there is none, or if it is not a vault (a restore there
    would overwrite live data)."""
    named = [s for s in config.sites if s.name == ENCLAVE_NAME]
    vaults = [s for s in config.sites if s.role == "vault"]
    site = named[0] if named else vaults[0] if len(vaults) == 1 else None
    if site is None:
        raise InputError(
            source,
            [
                "sites: expected a site named 'verification' with role "
                "'vault' (the verification enclave, A14)"
            ],
        )
    if site.role != "vault":
        raise InputError(
            source,
            [
                f"sites.{site.name}.role: expected 'vault' for the "
                f"verification enclave, got {site.role!r}"
            ],
        )
    return site


def check_item(runtime: Runtime, enclave: Site, item: PlanItem, events: list[Path]) -> ItemResult:
    """Check one planned point from its planned store into the enclave; return the result.
    Raise InfrastructureError when a host or the playbook fails (the check is aborted)."""
    result = ItemResult(item)
    store = runtime.store(item.store)
    prefix = point_prefix(item.system, item.dataset, item.recovery_point)
    try:
        manifest, digest = load_manifest(
            runtime, store, item.system, item.dataset, item.recovery_point
        )
    except DigestMismatch as error:
        result.fail(MANIFEST_NAME, f"{error.expected} (catalog)", error.actual, "manifest")
        return result
    except CheckFailed as error:
        result.fail(MANIFEST_NAME, "a valid manifest", str(error), "manifest")
        return result
    except FileNotFoundError:
        result.fail(MANIFEST_NAME, "present", "(absent)", "missing")
        return result
    result.manifest_sha256 = digest
    result.business_date, result.finished_at = manifest.business_date, manifest.finished_at
    result.manifest_bytes = store.read_bytes(f"{prefix}/{MANIFEST_NAME}")
    for problem in check_listing(
        store, f"{item.system}/{item.dataset}/{item.recovery_point}", prefix, manifest
    ):
        result.fail(problem.file, problem.expected, problem.actual, problem.kind)
    for entry in manifest.files:
        key = f"{prefix}/data/{entry.path}"
        if store.exists(key) and (size := store.size(key)) != entry.size:
            result.fail(
                entry.path,
                f"{entry.digest} ({entry.size} bytes)",
                f"{size} bytes",
                "truncated" if size < entry.size else "size",
            )
    if result.status == "failed":
        return result
    try:
        outcome = run_restore(
            runtime,
            item.system,
            store_name=item.store,
            site_name=enclave.name,
            points={item.dataset: item.recovery_point},
            datasets=[item.dataset],
            purpose=PURPOSE,
            restore_mode="scratch",
        )
    except DigestMismatch as error:
        file = error.key.partition("/data/")[2] or error.key
        result.fail(file, error.expected, error.actual, "mismatch")
        return result
    except CheckFailed as error:
        result.fail("(restore)", "restored", str(error), "restore")
        return result
    events.append(outcome.events_path)
    restored = outcome.datasets[0]
    result.fingerprint = "equal" if not restored.differences else "different"
    for difference in restored.differences:
        name, _, detail = difference.partition(": ")
        result.fail(f"(fingerprint) {name}", "the source fingerprint", detail, "fingerprint")
    for name, count in restored.invariant_violations.items():
        if count:
            result.fail(f"(invariant) {name}", "no violating rows", f"{count} rows", "invariant")
    return result


def wipe_enclave(
    runtime: Runtime, enclave: Site, plan: SamplePlan, events: list[Path]
) -> dict[str, Any]:
    """Remove everything the check restored into the enclave; return the wipe record."""
    config = runtime.config.model
    paths: list[str] = []
    databases: list[str] = []
    for system_name in sorted({item.system for item in plan.items}):
        system = config.system(system_name)
        for dataset in system.datasets:
            if dataset.path:
                top = PurePosixPath(dataset.path).parts[0]
                paths.append(posixpath.join(enclave.data_root, top))
            else:
                databases.append(f"{system_name}/{dataset.name}")
        paths.append(spool_root(enclave, PURPOSE, system_name))
    paths = sorted(set(paths))
    started = time.time()
    run = run_playbook(
        "wipe.yml",
        inventory=runtime.config.inventory,
        extravars={
            "dr_host": enclave.host,
            "dr_paths": paths,
            "dr_purpose": "verification-enclave",
        },
        ident=f"verify-wipe-{enclave.name}-{time.time_ns()}",
        work_dir=runtime.work_dir,
        limit=enclave.host,
    )
    events.append(run.events_path)
    record: dict[str, Any] = {
        "site": enclave.name,
        "host": enclave.host,
        "paths": paths,
        "started_at": iso_utc(started),
        "finished_at": iso_utc(time.time()),
        "result": "wiped" if run.ok else "failed",
    }
    if run.ok:
        detail = run.result(enclave.host, "wipe:verification-enclave")
        record["removed"] = list(detail.get("removed", []))
        record["remaining"] = list(detail.get("remaining", []))
    else:
        record["error"] = "; ".join(run.failures or [run.status])
    if databases:
        record["databases_not_covered"] = databases
    return record


def run_verify_sample(runtime: Runtime, seed: int | str | None = None) -> SampleOutcome:
    """Plan and run a validity check; record it and write its `verify` evidence package.

    Raise CheckFailed if the population is empty, InfrastructureError if a host or playbook
    fails (recorded as aborted, never counted; the enclave is wiped either way)."""
    enclave = enclave_site(runtime.config.model, str(runtime.config.path))
    prepare_evidence(runtime.config)  # no check starts that could not be evidenced (exit 2)
    with catalog_job(runtime.catalog, "verify", "sample") as job:
        outcome = _run(runtime, enclave, seed)
        job.detail = {"verification": outcome.verification_id, "passed": outcome.passed}
    return outcome


def _run(runtime: Runtime, enclave: Site, seed: int | str | None) -> SampleOutcome:
    plan = build_plan(runtime, seed)
    if not plan.items:
        raise CheckFailed(
            "no complete full recovery point in the population "
            f"({plan.policy.population}): nothing to check"
        )
    for store_name in sorted({item.store for item in plan.items}):
        # A store that is down is a fault, not a mismatch: stop before anything is recorded.
        next(iter(runtime.store(store_name).list_points()), None)
    started = time.time()
    verification_id = sortable_id()
    with runtime.catalog.begin() as connection:
        connection.execute(
            cat.verifications.insert().values(
                id=verification_id,
                kind="sample",
                started_at=started,
                status="running",
                counted=False,
                seed=plan.seed,
                population_points=plan.population_points,
                population_bytes=plan.population_bytes,
                sample_points=len(plan.items),
                sample_bytes=plan.sample_bytes,
                detail={"plan": plan_dict(plan)},
            )
        )
    events: list[Path] = []
    results: list[ItemResult] = []
    try:
        for item in plan.items:
            begun = time.time()
            result = check_item(runtime, enclave, item, events)
            result.started_at, result.checked_at = begun, time.time()
            results.append(result)
            logger.info(
                "verify %s/%s %s from %s: %s",
                item.system,
                item.dataset,
                item.recovery_point,
                item.store,
                result.status,
            )
    except BaseException as error:
        wipe = wipe_enclave(runtime, enclave, plan, events)
        with runtime.catalog.begin() as connection:
            connection.execute(
                cat.verifications.update()
                .where(cat.verifications.c.id == verification_id)
                .values(
                    status="aborted",
                    finished_at=time.time(),
                    detail={"plan": plan_dict(plan), "wipe": wipe, "error": str(error)},
                )
            )
        raise
    wipe = wipe_enclave(runtime, enclave, plan, events)
    outcome = SampleOutcome(verification_id, plan, results, counted=plan.meets_bars, wipe=wipe)
    finished = time.time()
    _record_items(runtime, outcome)
    report = make_report(runtime, outcome, started, finished, enclave)
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
    with runtime.catalog.begin() as connection:
        connection.execute(
            cat.verifications.update()
            .where(cat.verifications.c.id == verification_id)
            .values(
                finished_at=finished,
                status="passed" if outcome.passed else "failed",
                counted=outcome.counted,
                evidence_path=str(package.path),
                evidence_manifest_sha256=package.manifest_sha256,
                detail={"plan": plan_dict(plan), "wipe": wipe, "mismatches": outcome.mismatches},
            )
        )
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
    return outcome


def _record_items(runtime: Runtime, outcome: SampleOutcome) -> None:
    with runtime.catalog.begin() as connection:
        for result in outcome.items:
            item = result.item
            connection.execute(
                cat.verification_items.insert().values(
                    verification_id=outcome.verification_id,
                    recovery_point_id=item.recovery_point,
                    store=item.store,
                    status=result.status,
                    checked_at=result.checked_at,
                    detail={
                        "source": item.source,
                        "reason": item.reason,
                        "bytes": item.bytes,
                        "manifest_sha256": result.manifest_sha256,
                        "mismatches": result.mismatches,
                    },
                )
            )
            if result.status == "passed":
                cat.mark_recovery_point(
                    connection, item.recovery_point, last_verified_at=result.checked_at
                )
            else:
                cat.mark_recovery_point(connection, item.recovery_point, status="bad")
                cat.mark_copy(
                    connection,
                    item.recovery_point,
                    item.store,
                    "bad",
                    reason=f"verification {outcome.verification_id}: "
                    + "; ".join(f"{m['file']}: {m['kind']}" for m in result.mismatches),
                )
