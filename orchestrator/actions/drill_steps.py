"""The steps a drill scenario can use, dispatched through STEP_ACTIONS by their `action`.

workload, disaster, failover, failback write or destroy live data: the scenario check
(model/scenario_safety.py) lets them run only on sandbox sites, failover also in a switchover.
The test failover's steps (drill-scoped targets only) are in drill_isolated.py.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from orchestrator.actions import drill_isolated
from orchestrator.actions.backup import run_backup
from orchestrator.actions.copy_offsite import run_copy_offsite
from orchestrator.actions.drill_state import DrillState, both
from orchestrator.actions.restore import RestoreOutcome, run_fingerprint, run_fingerprints
from orchestrator.actions.workload import run_workload
from orchestrator.errors import CheckFailed, InfrastructureError
from orchestrator.integrations.ansible import PlaybookRun, play_started, run_playbook
from orchestrator.model import catalog as cat
from orchestrator.model.downstream import raise_if_refused
from orchestrator.model.engines import make_playbook_item, spool_root
from orchestrator.model.manifest import compare_fingerprints, serialise_manifest
from orchestrator.model.scenario import Step
from orchestrator.model.settings import Site, System

logger = logging.getLogger(__name__)
StepResult = tuple[str, dict[str, Any]]
DESTROY_PLAY = "Destroy live datasets"  # destroy.yml's play: its start is the disaster time


def step_workload(state: DrillState, step: Step) -> StepResult:
    assert step.site and step.dataset
    state.ledger_dataset = step.dataset
    result, events = run_workload(
        state.runtime,
        state.scenario.system,
        step.site,
        step.dataset,
        postings=step.postings or 500,
        seed=step.seed,
    )
    state.events.append(events)
    verb = "seeded" if step.seed is not None else "wrote postings to"
    verb_zh = "初始化" if step.seed is not None else "写入记账"
    return (
        both(
            f"{step.site} 账务库{verb_zh}：共 {result['postings']} 笔",
            f"{verb} the ledger at {step.site}: {result['postings']} postings in total",
        ),
        dict(result),
    )


def step_backup(state: DrillState, step: Step) -> StepResult:
    outcomes = run_backup(
        state.runtime, state.scenario.system, site_name=step.site, store_name=step.store
    )
    for outcome in outcomes:
        state.manifests[outcome.recovery_point_id] = serialise_manifest(outcome.manifest)
        state.events.append(outcome.events_path)
    points = {o.dataset: o.recovery_point_id for o in outcomes}
    total = sum(o.manifest.total_bytes for o in outcomes)
    return (
        both(
            f"{len(outcomes)} 个完全备份恢复点（{total} 字节）存入 {outcomes[0].store}",
            f"{len(outcomes)} full recovery points ({total} bytes) in store {outcomes[0].store}",
        ),
        {"recovery_points": points},
    )


def step_copy_offsite(state: DrillState, step: Step) -> StepResult:
    outcomes = run_copy_offsite(
        state.runtime,
        systems=[state.scenario.system],
        source_store=step.from_store,
        destination_store=step.store,
    )
    if not outcomes:
        raise CheckFailed("nothing was copied off-site")
    return (
        both(
            f"{len(outcomes)} 个恢复点复制到 {outcomes[0].destination} 并在该处重新校验",
            f"{len(outcomes)} recovery points copied to {outcomes[0].destination} and re-hashed "
            "there",
        ),
        {"copied": [o.recovery_point_id for o in outcomes]},
    )


def step_disaster(state: DrillState, step: Step) -> StepResult:
    """Given a disaster step, fingerprint the site's live data (postings at disaster time),
    destroy every dataset of the system there (one dr_datasets run) and the step's
    stores (file:// roots removed, others declared lost), and mark their copies lost.

    Raise CheckFailed if anything meant to be destroyed survives."""
    assert step.site
    runtime = state.runtime
    config = runtime.config.model
    site = config.site(step.site)
    system = config.system(state.scenario.system)
    roots, declared_lost = _store_roots(state, step.destroy_stores)
    run = _inject_disaster(state, site, system, list(roots.values()))
    if state.ledger_dataset:
        ledger = run.result(site.host, f"fingerprint:{state.ledger_dataset}")
        objects = ledger["fingerprint"].get("objects", {})
        state.postings_at_disaster = objects.get("postings", {}).get("rows")
    state.disaster_time = play_started(run, DESTROY_PLAY)
    datasets = _destroyed(run, site, system)
    destroyed_stores = list(roots)
    with runtime.catalog.begin() as connection:
        for copy in cat.list_copies(connection):
            if copy.store in step.destroy_stores and copy.status == "present":
                cat.mark_copy(
                    connection,
                    copy.recovery_point_id,
                    copy.store,
                    "lost",
                    reason=f"destroyed by drill {state.scenario.name}"
                    if copy.store not in declared_lost
                    else f"declared lost by drill {state.scenario.name}",
                )
    what = ", ".join(
        f"{name} ({result['engine']} {result['kind']} {result['target']}"
        f"{'' if result['destroyed'] else ', already absent'})"
        for name, result in datasets.items()
    )
    parts = [f"destroyed {what or 'no datasets'}"]
    if destroyed_stores:
        parts.append(f"store(s) {', '.join(destroyed_stores)} destroyed")
    if declared_lost:
        parts.append(f"declared lost: {', '.join(declared_lost)}")
    return (
        both(
            f"{site.name} 生产数据已按场景销毁或宣告丢失；"
            f"灾难时刻共 {state.postings_at_disaster} 笔",
            f"production data at {site.name}: {'; '.join(parts)}; "
            f"{state.postings_at_disaster} postings at disaster time",
        ),
        {
            "datasets": datasets,
            "stores_destroyed": destroyed_stores,
            "declared_lost": declared_lost,
        },
    )


def _inject_disaster(
    state: DrillState, site: Site, system: System, paths: list[str]
) -> PlaybookRun:
    """In one disaster.yml run on the site's host: fingerprint the system's live datasets,
    destroy them (one dr_datasets run), remove the store roots in paths.
    Raise InfrastructureError if the run failed."""
    runtime = state.runtime
    run = run_playbook(
        "disaster.yml",
        inventory=runtime.config.inventory,
        extravars={
            "dr_host": site.host,
            "dr_fingerprint_datasets": [
                make_playbook_item(site, d, spool_root(site, "fingerprint", system.name))
                for d in system.datasets
            ],
            "dr_destroy_datasets": [
                make_playbook_item(site, d, spool_root(site, "disaster", system.name))
                for d in system.datasets
            ],
            "dr_paths": paths,
            "dr_hash_algorithm": "sha256",
        },
        ident=f"disaster-{site.name}-{time.time_ns()}",
        work_dir=runtime.work_dir,
        limit=site.host,
    )
    state.events.append(run.events_path)
    if not run.ok:
        raise_if_refused(run.failures, f"disaster at {site.name}")
        raise InfrastructureError(
            "disaster injection failed: " + "; ".join(run.failures or [run.status])
        )
    return run


def _destroyed(run: PlaybookRun, site: Site, system: System) -> dict[str, dict[str, Any]]:
    """Return {dataset: its role's destroy report (engine, kind, target, destroyed, exists,
    ...)}. Raise CheckFailed if a role reports its dataset still present."""
    results = {d.name: dict(run.result(site.host, f"destroy:{d.name}")) for d in system.datasets}
    survivors = [name for name, result in results.items() if result.get("exists") is not False]
    if survivors:
        raise CheckFailed(f"disaster injection left datasets at {site.name}: {survivors}")
    return {
        name: {key: value for key, value in result.items() if key != "name"}
        for name, result in results.items()
    }


def _store_roots(state: DrillState, store_names: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """Return ({file:// store: its root, to remove from the site's host}, the other stores,
    declared lost)."""
    roots: dict[str, str] = {}
    declared_lost = []
    for store_name in store_names:
        url = state.runtime.config.store_url(store_name)
        if url.startswith("file://"):
            roots[store_name] = url.removeprefix("file://")
        else:
            # S3 with Object Lock cannot be destroyed, by design, and an SFTP server is not the
            # site's host: the drill declares the store lost instead (copies marked lost by the
            # caller, so nothing is restored from it).
            declared_lost.append(store_name)
    return roots, declared_lost


def _restore_checked(state: DrillState, step: Step) -> RestoreOutcome:
    assert step.from_store and step.to_site
    outcome = drill_isolated.restore_and_check(
        state,
        store_name=step.from_store,
        site_name=step.to_site,
        purpose=step.name,
        points=state.cleared_points if step.action == "failover" else None,
    )
    return outcome


def step_failover(state: DrillState, step: Step) -> StepResult:
    outcome = _restore_checked(state, step)
    state.failover = outcome
    state.failover_verified_time = time.time()
    state.failover_ok = True
    return (
        both(
            f"{len(outcome.datasets)} 个数据集从 {step.from_store} 恢复到 {step.to_site}；"
            "逐一核对文件摘要、逻辑指纹与不变量",
            f"{len(outcome.datasets)} datasets restored from {step.from_store} into "
            f"{step.to_site}; every file digest, fingerprint and invariant checked",
        ),
        {"restored": {d.dataset: d.recovery_point_id for d in outcome.datasets}},
    )


def step_failback(state: DrillState, step: Step) -> StepResult:
    outcome = _restore_checked(state, step)
    return (
        both(
            f"{len(outcome.datasets)} 个数据集回切恢复到 {step.to_site}",
            f"{len(outcome.datasets)} datasets restored back into {step.to_site}",
        ),
        {"restored": {d.dataset: d.recovery_point_id for d in outcome.datasets}},
    )


def step_compare_sites(state: DrillState, step: Step) -> StepResult:
    first, second = step.sites
    system = state.scenario.system
    stamp = time.time_ns()
    hosts = {state.runtime.config.model.site(name).host for name in (first, second)}
    if len(hosts) == 2:  # one run, both hosts in parallel
        both_sites, events = run_fingerprints(
            state.runtime, system, [first, second], ident=f"compare-{stamp}"
        )
        left, right = both_sites[first], both_sites[second]
        state.events.append(events)
    else:
        left, events_left = run_fingerprint(
            state.runtime, system, first, ident=f"compare-{first}-{stamp}"
        )
        right, events_right = run_fingerprint(
            state.runtime, system, second, ident=f"compare-{second}-{stamp}"
        )
        state.events += [events_left, events_right]
    differences = [
        f"{name}: {difference}"
        for name in left
        for difference in compare_fingerprints(
            left[name]["fingerprint"], right[name]["fingerprint"]
        )
    ]
    if differences:
        raise CheckFailed(f"{first} and {second} differ: " + "; ".join(differences))
    state.failback_ok = state.failover_ok
    return (
        both(
            f"{first} 与 {second} 的 {len(left)} 个数据集逻辑指纹一致"
            "（第十一条 「支持双向恢复，保证数据一致性」）",
            f"{first} and {second} have equal fingerprints for {len(left)} datasets",
        ),
        {"datasets": sorted(left)},
    )


def step_reprotect(state: DrillState, step: Step) -> StepResult:
    assert step.site
    system = state.runtime.config.model.system(state.scenario.system)
    store = state.runtime.store(step.store or system.primary_store)
    store.prepare()
    backup_message, detail = step_backup(state, step)
    run_copy_offsite(
        state.runtime,
        systems=[system.name],
        source_store=store.name,
        points=list(detail["recovery_points"].values()),
    )
    count = len(detail["recovery_points"])
    english = backup_message.partition(" / ")[2]
    return both(
        f"生产中心重新受保护：{count} 个恢复点已备份并异地复制",
        f"production protected again: {english}, copied off-site",
    ), detail


STEP_ACTIONS: dict[str, Callable[[DrillState, Step], StepResult]] = {
    "test_failover": drill_isolated.step_test_failover,
    "test_failback": drill_isolated.step_test_failback,
    "wipe": drill_isolated.step_wipe,
    "workload": step_workload,
    "backup": step_backup,
    "copy_offsite": step_copy_offsite,
    "disaster": step_disaster,
    "failover": step_failover,
    "failback": step_failback,
    "compare_sites": step_compare_sites,
    "reprotect": step_reprotect,
}
