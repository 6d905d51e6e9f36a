"""A test failover: the drill that runs on real sites and never touches production's data.

test_failover  fingerprint production's live datasets (read only) and declare the disaster;
               restore the off-site recovery points into drill-scoped targets at the
               disaster-recovery site (model/drill_targets.py), check every digest, fingerprint
               and invariant; RTO, RPO and rows behind are measured against production's state.
test_failback  the way back (第十一条 「支持双向恢复」): dump the disaster-recovery site's
               drill target there, stream it (hashed in flight) to the production site's host,
               restore it into a second drill-scoped target there and compare fingerprints.
wipe           drill_wipe.py: drop every drill target, prove it gone, fingerprint production
               again and compare with before.

Every target is checked to be isolated from live data (exit 2; a path target's drill directory
also as its host resolves it, symbolic links followed) and absent before it is made,
and recorded in the state before it is made, so the wipe covers a half-made target too. It is
also journalled in the catalog first (drill_wipe.journal_targets): a drctl killed before its
wipe leaves the targets to the next command that writes, which wipes them.
"""

from __future__ import annotations

import posixpath
import time
from collections.abc import Mapping, Sequence
from typing import Any

from orchestrator.actions.drill_hosts import fingerprint_and_probe, run_on_site, target_items
from orchestrator.actions.drill_state import DrillState, both
from orchestrator.actions.drill_wipe import journal_targets, step_wipe
from orchestrator.actions.host_places import HostPlaces
from orchestrator.actions.removed_copies import RemovedWhileRead
from orchestrator.actions.restore import RestoreOutcome, run_restore
from orchestrator.actions.restore_selection import MissingFile, NoGoodPoint
from orchestrator.actions.scratch import database_scratch
from orchestrator.errors import CheckFailed, InputError
from orchestrator.integrations.transfer import DigestMismatch, hashed, read_blocks
from orchestrator.model.downstream import downstream_setting
from orchestrator.model.drill_targets import (
    DrillTarget,
    Leg,
    check_isolated,
    drill_root,
    live_paths,
    make_target,
)
from orchestrator.model.engines import scratch_database_name
from orchestrator.model.integrity import Failure
from orchestrator.model.manifest import compare_fingerprints
from orchestrator.model.scenario import Step
from orchestrator.model.settings import Site

StepResult = tuple[str, dict[str, Any]]
__all__ = ["restore_and_check", "step_test_failback", "step_test_failover", "step_wipe"]


def restore_and_check(
    state: DrillState,
    *,
    store_name: str,
    site_name: str,
    purpose: str,
    points: Mapping[str, str] | None = None,
    targets: Sequence[DrillTarget] = (),
) -> RestoreOutcome:
    """Restore from a store into a site (into drill targets when given) and check it.

    Raise CheckFailed (a data mismatch: the drill fails) naming what differs, after recording
    a digest mismatch in the state; InfrastructureError passes through (the drill aborts)."""
    try:
        outcome = run_restore(
            state.runtime,
            state.scenario.system,
            store_name=store_name,
            site_name=site_name,
            purpose=purpose,
            points=points,
            targets={t.dataset: t.playbook_keys() for t in targets} or None,
            allow_downstream=state.allow_replica_writes,
        )
    except DigestMismatch as error:
        point, _, file = error.key.partition("/data/")
        state.mismatches.append(
            {
                "recovery_point": point.rsplit("/", 1)[-1],
                "file": file,
                "expected": error.expected,
                "actual": error.actual,
                "store": store_name,
            }
        )
        raise
    except NoGoodPoint as error:
        state.mismatches += [_mismatch(failure) for failure in error.failures]
        raise
    except MissingFile as error:  # a given point (a switchover's) lacks a file: recorded bad
        if error.removed_by_retention:  # unless retention removed it as it was read
            raise RemovedWhileRead(error.where) from error
        state.mismatches += _missing(error, store_name)
        raise
    state.events.append(outcome.events_path)
    # A newer point that did not match was recorded bad and passed over: the older point
    # restored may be good, but the drill met a failed check (verification.md §8, exit 1).
    state.mismatches += [_mismatch(failure) for failure in outcome.failures]
    found = _what_failed(outcome)
    if found:
        raise CheckFailed("; ".join(found))
    return outcome


def _what_failed(outcome: RestoreOutcome) -> list[str]:
    """Given a restore's outcome, return what makes it a failed check: the newer points it
    found not to match and passed over, and a restored dataset that differs from the source."""
    passed = [
        f"{f.system}/{f.dataset} {f.recovery_point_id} in {f.store}: {f.file}: {f.kind}: "
        f"expected {f.expected}, actual {f.actual}"
        for f in outcome.failures
    ]
    bad = [f"{d.dataset}: {'; '.join(d.differences)}" for d in outcome.datasets if d.differences]
    bad += [
        f"{d.dataset}: invariant {name} violated by {count} rows"
        for d in outcome.datasets
        for name, count in d.invariant_violations.items()
        if count
    ]
    found = []
    if passed:
        found.append(
            "newer recovery points did not match (recorded bad, an older one restored): "
            + " | ".join(passed)
        )
    if bad:
        found.append("restored data does not match the source: " + " | ".join(bad))
    return found


def _missing(error: MissingFile, store: str) -> list[dict[str, str]]:
    """Return the mismatch of the drill's report for a given point's missing file."""
    found = {"file": error.path, "expected": error.expected, "actual": "(absent)"}
    return [{"recovery_point": error.point, **found, "store": store}]


def _mismatch(failure: Failure) -> dict[str, str]:
    """Return a mismatch of the drill's report for a failure a restore found."""
    return {
        "recovery_point": failure.recovery_point_id,
        "file": failure.file,
        "expected": failure.expected,
        "actual": failure.actual,
        "store": failure.store,
    }


def plan_targets(state: DrillState, site: Site, leg: Leg) -> list[DrillTarget]:
    """Return the drill targets of every dataset at a site for one leg, checked isolated from
    live data (InputError, exit 2, otherwise)."""
    config = state.runtime.config.model
    system = config.system(state.scenario.system)
    targets = [
        make_target(site, dataset, index, state.drill_id, leg)
        for index, dataset in enumerate(system.datasets)
    ]
    source = f"drill {state.scenario.name} ({state.drill_id})"
    check_isolated(targets, config, source)
    if any(target.kind == "path" for target in targets):
        _check_resolved(state, site, source)
    return targets


def _check_resolved(state: DrillState, site: Site, source: str) -> None:
    """Raise InputError (exit 2, nothing made) when the drill directory, as the site's host
    holds it (symbolic links followed, mounts placed by its mount table), is, holds or lies in
    a live dataset path there: a spool that is a link or a bind mount into live data passes
    the check of the names alone."""
    places = HostPlaces(state.runtime.host_files(site.host))
    root = drill_root(site, state.drill_id)
    problems = [
        f"{site.name}: drill directory {root} on {site.host}, which overlaps the live dataset "
        f"path {live} ({how}): refused, nothing made"
        for live in live_paths(state.runtime.config.model)
        if (how := places.clash(root, live))
    ]
    if problems:
        raise InputError(source, problems)


def _refuse_present(site: Site, present: list[str]) -> None:
    if present:
        raise CheckFailed(
            f"drill targets already exist at {site.name}: {', '.join(present)}; refusing to "
            "restore over anything this drill did not make"
        )


def step_test_failover(state: DrillState, step: Step) -> StepResult:
    """Given a test_failover step: prove the drill targets free (at the DR site, and the
    failback's on the production side), fingerprint production (read only) and declare the
    disaster; restore the off-site points into the DR site's drill targets and check them.
    Targets are recorded in the state before anything is created, so the wipe covers them."""
    config = state.runtime.config.model
    system = config.system(state.scenario.system)
    site = config.site(step.to_site or system.disaster_recovery_site)
    production = config.site(system.production_site)
    store = step.from_store or system.offsite_store
    targets = plan_targets(state, site, "fo")
    back = next((s for s in state.scenario.steps if s.action == "test_failback"), None)
    back_site = config.site(back.to_site or system.production_site) if back else None
    back_targets = plan_targets(state, back_site, "fb") if back_site else []
    _, present = fingerprint_and_probe(state, site, "fo-absent", live=False, targets=targets)
    _refuse_present(site, present)
    if back_site is not None and back_site.name != production.name:
        _, present = fingerprint_and_probe(
            state, back_site, "fb-absent", live=False, targets=back_targets
        )
        _refuse_present(back_site, present)
    before, present = fingerprint_and_probe(
        state,
        production,
        "before",
        live=True,
        targets=back_targets if back_site and back_site.name == production.name else [],
    )
    _refuse_present(production, present)
    journal_targets(state, targets + back_targets)  # a kill -9 from here on: the next run wipes
    state.targets += targets + back_targets
    state.production_before = before
    state.ledger_dataset, state.ledger_table = step.dataset, step.table or "postings"
    if step.dataset and before is not None:
        state.postings_at_disaster = before.rows(step.dataset, state.ledger_table)
    state.disaster_time = time.time()
    outcome = restore_and_check(
        state,
        store_name=store,
        site_name=site.name,
        purpose=f"drill-{state.drill_id}-fo",
        targets=targets,
    )
    state.failover = outcome
    state.failover_verified_time = time.time()
    state.failover_ok = True
    where = ", ".join(f"{t.dataset} → {t.target}" for t in targets)
    return (
        both(
            f"{len(outcome.datasets)} 个恢复点从 {store} 恢复到 {site.name} 的演练专用目标；"
            f"逐一核对摘要、逻辑指纹与不变量；演练前已只读采集 {production.name} 生产指纹",
            f"{len(outcome.datasets)} recovery points from {store} restored into drill targets "
            f"at {site.name} ({where}); every digest, fingerprint and invariant checked; "
            f"production fingerprinted (read only) at {production.name} before",
        ),
        {
            "restored": {d.dataset: d.recovery_point_id for d in outcome.datasets},
            "targets": [t.as_record() for t in targets],
        },
    )


def step_test_failback(state: DrillState, step: Step) -> StepResult:
    """Given a test_failback step, take the DR site's drill targets back into second drill
    targets on the production site's host and compare fingerprints (第十一条)."""
    config = state.runtime.config.model
    system = config.system(state.scenario.system)
    if state.failover is None:
        raise CheckFailed("test_failback: no test failover to fail back from")
    source_targets = [t for t in state.targets if t.leg == "fo"]
    source = config.site(source_targets[0].site)
    site = config.site(step.to_site or system.production_site)
    targets = [t for t in state.targets if t.leg == "fb"]
    dumped = _dump_at(state, source, source_targets)
    spool = posixpath.join(drill_root(site, state.drill_id), "failback-spool")
    _carry(state, source, site, dumped, spool)
    restored = _restore_at(state, site, source_targets, targets, spool)
    differences = []
    for item in state.failover.datasets:
        for difference in compare_fingerprints(item.manifest.fingerprint, restored[item.dataset]):
            differences.append(f"{item.dataset}: {difference}")
    if differences:
        raise CheckFailed(
            "failback target differs from the recovery point: " + "; ".join(differences)
        )
    state.failback_ok = True
    return (
        both(
            f"{len(targets)} 个数据集从 {source.name} 回切到 {site.name} 主机上的演练专用目标；"
            "双向逻辑指纹一致（第十一条 「支持双向恢复，保证数据一致性」）",
            f"{len(targets)} datasets taken back from {source.name} into drill targets on "
            f"{site.name}'s host ({', '.join(t.target for t in targets)}); fingerprints equal "
            "both ways",
        ),
        {"targets": [t.as_record() for t in targets], "fingerprints_equal": True},
    )


def _dump_at(state: DrillState, site: Site, targets: list[DrillTarget]) -> dict[str, Any]:
    """Dump the drill targets at a site into its drill directory; return {dataset: (spool,
    artifacts)} with the digests the host computed."""
    root = posixpath.join(drill_root(site, state.drill_id), "failback-dump")
    items = target_items(site, targets, state)
    for item in items:
        item["spool"] = posixpath.join(root, item["name"])
    run = run_on_site(
        state, "backup_full.yml", site, "fb-dump", dr_spool_root=root, dr_datasets=items
    )
    return {
        item["name"]: (item["spool"], run.result(site.host, f"artifacts:{item['name']}")["files"])
        for item in items
    }


def _carry(
    state: DrillState, source: Site, site: Site, dumped: Mapping[str, Any], spool: str
) -> None:
    """Stream each dumped file from the source host to the site's host, hashed in flight."""
    reader = state.runtime.host_files(source.host)
    writer = state.runtime.host_files(site.host)
    for dataset, (from_spool, files) in dumped.items():
        for entry in files:
            with reader.open_read(f"{from_spool}/data/{entry['path']}") as handle:
                blocks, result = hashed(read_blocks(handle), "sha256")
                writer.write_stream(f"{spool}/{dataset}/data/{entry['path']}", blocks)
            size, digest = result()
            if digest != entry["digest"] or size != entry["size"]:
                state.mismatches.append(
                    {
                        "recovery_point": f"failback of {dataset}",
                        "file": entry["path"],
                        "expected": entry["digest"],
                        "actual": digest,
                        "store": f"{source.name}→{site.name}",
                    }
                )
                raise DigestMismatch(entry["path"], entry["digest"], digest, "in transit")


def _restore_at(
    state: DrillState,
    site: Site,
    sources: list[DrillTarget],
    targets: list[DrillTarget],
    spool: str,
) -> dict[str, Mapping[str, Any]]:
    """Restore the carried dumps into the drill targets at a site; return the fingerprints."""
    items = target_items(site, sources, state)  # names the dump files as they were made
    by_dataset = {t.dataset: t for t in targets}
    for item in items:
        item["spool"] = posixpath.join(spool, item["name"])
        item.update(by_dataset[item["name"]].playbook_keys())
        if by_dataset[item["name"]].kind == "database":
            # named here to be journalled: dropped by the next run if drctl dies meanwhile
            item["scratch_database"] = scratch_database_name(by_dataset[item["name"]].target)
    downstream = downstream_setting(
        state.runtime.config.model, state.scenario.system, site.name, state.allow_replica_writes
    )
    for item in items:
        item["downstream"] = downstream
    job = f"drill-{state.drill_id}-fb:{state.scenario.system}@{site.name}"
    with database_scratch(state.runtime, site.host, items, job=job):
        run = run_on_site(
            state,
            "restore.yml",
            site,
            "fb-restore",
            dr_spool_root=spool,
            dr_datasets=items,
            dr_restore_mode="replace",
        )
    return {
        item["name"]: run.result(site.host, f"restore:{item['name']}")["fingerprint"]
        for item in items
    }
