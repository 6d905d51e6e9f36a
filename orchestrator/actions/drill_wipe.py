"""The last step of a test failover, run even after a failed or aborted step: wipe every
drill-scoped target, prove it gone, and fingerprint production again.

The wipe record names what was removed and what remains (nothing, or what could not be
proven gone). Production's after-fingerprint is compared with the one taken before the
failover - per dataset whether it exists, per table its rows (count and digest), per database
the schema digest of each kind of object (module_utils/dr_schema.py: definitions, owners,
privileges): equal → "unchanged" is claimed, nothing more. When they differ and the scenario says
production is live (`production_may_change: true`), the differences are recorded and the
drill does not fail on them — drctl does not claim production unchanged, nor that the change
was production's own: only that every write it made went to a drill-scoped target (enforced by
model/drill_targets.py). Otherwise a changed production fails the drill. A dataset absent both
before and after was never read: production is then not claimed unchanged, and a scenario that
requires it unchanged fails (exit 1: the check did not hold, since it could not be made).
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from orchestrator.actions.drill_hosts import fingerprint_site, run_on_site, target_items
from orchestrator.actions.drill_state import both
from orchestrator.actions.scratch import close_area, open_area
from orchestrator.errors import CheckFailed
from orchestrator.model.drill_targets import DrillTarget, drill_root
from orchestrator.model.manifest import compare_fingerprints
from orchestrator.model.scenario import Step
from orchestrator.model.settings import Site

if TYPE_CHECKING:
    from orchestrator.actions.drill_state import DrillState

StepResult = tuple[str, dict[str, Any]]


def step_wipe(state: DrillState, step: Step) -> StepResult:
    """Given the wipe step, remove every drill target and the drill directories, then compare
    production's fingerprint with the one taken before. Raise CheckFailed if something
    remains or production changed (unless the scenario allows a live production to)."""
    state.wipe = {
        "complete": False,
        "removed": [],
        "remains": [t.as_record() for t in state.targets],
    }
    removed, remains = _wipe_targets(state)
    state.wipe = {"complete": True, "removed": removed, "remains": remains}
    system = state.runtime.config.model.system(state.scenario.system)
    if state.production_before is not None:
        state.production_after = fingerprint_site(state, system.production_site, "after")
        state.production_changes = _changes(state)
        state.production_unread = _unread(state)
    if remains:
        raise CheckFailed(f"drill targets remain after the wipe: {remains}")
    count = sum(r["kind"] != "directory" for r in removed)
    zh = f"已清除 {count} 个演练目标及演练目录，无演练数据残留"
    message = (
        f"removed {count} drill target(s) and the drill directories; nothing drill-scoped remains"
    )
    if state.production_before is None:
        return both(
            zh + "；演练前未采集生产指纹", message + "; production was not fingerprinted before"
        ), {"wipe": state.wipe}
    if state.production_changes and not state.scenario.production_may_change:
        raise CheckFailed(
            "production's fingerprint changed during the drill: "
            + "; ".join(state.production_changes)
        )
    if state.production_unread:
        return _unread_verdict(state, zh, message)
    verdict = (
        "production's fingerprint unchanged (before = after: each table's rows, each "
        "database's schema objects and privileges)"
        if not state.production_changes
        else "production changed during the drill (a live production, production_may_change: "
        "true); the differences are recorded, production is not claimed unchanged"
    )
    verdict_zh = (
        "生产指纹（各表数据、各库结构对象与权限）演练前后一致"
        if not state.production_changes
        else "演练期间生产数据有业务变化（已记录差异，不声称生产未变）"
    )
    return both(f"{zh}；{verdict_zh}", f"{message}; {verdict}"), {
        "wipe": state.wipe,
        "production_changes": state.production_changes,
    }


def _site_wipe(
    state: DrillState, targets: Sequence[DrillTarget], site_name: str
) -> tuple[Site, list[DrillTarget], list[str]]:
    """Return what wiping a site takes: the site, its drill databases and the drill
    directories (the drill's own, and run_restore's spool of the failover)."""
    site = state.runtime.config.model.site(site_name)
    here = [t for t in targets if t.site == site_name]
    paths = [drill_root(site, state.drill_id)]
    if any(t.leg == "fo" for t in here):
        # run_restore's own spool for the failover (restore.yml removes it, unless it died)
        paths.append(
            posixpath.join(site.spool, f"drill-{state.drill_id}-fo-{state.scenario.system}")
        )
    return site, [t for t in here if t.kind == "database"], paths


def journal_targets(state: DrillState, targets: Sequence[DrillTarget]) -> None:
    """Journal, per site, the drill targets and directories a test failover is about to make,
    before the first is made (actions/scratch.py, kind `drill`). A drctl killed before its
    wipe leaves them to the next command that writes, which wipes them with drill_wipe.yml as
    this wipe would have; step_wipe forgets a site's row once its wipe left nothing there."""
    for site_name in sorted({t.site for t in targets}):
        site, databases, paths = _site_wipe(state, targets, site_name)
        state.areas[site_name] = open_area(
            state.runtime,
            "drill",
            site.host,
            paths[0],
            job=f"drill-{state.drill_id}:{state.scenario.system}@{site_name}",
            detail={"datasets": target_items(site, databases, state), "paths": paths},
        )


def _wipe_targets(state: DrillState) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """At every site with drill targets, in one playbook run, drop the drill databases and
    remove the drill directories; return (removed, remains) records. A site left with
    nothing is taken out of the scratch-area journal."""
    removed: list[dict[str, Any]] = []
    remains: list[dict[str, Any]] = []
    for site_name in sorted({t.site for t in state.targets}):
        site, databases, paths = _site_wipe(state, state.targets, site_name)
        targets = [t for t in state.targets if t.site == site_name]
        root = paths[0]
        left = len(remains)
        run = run_on_site(
            state,
            "drill_wipe.yml",
            site,
            "wipe",
            # drill-scoped drops only: they reach a replica as its made targets did
            dr_datasets=[
                {**item, "downstream": "allow"} for item in target_items(site, databases, state)
            ],
            dr_paths=paths,
        )
        for target in databases:
            result = run.result(site.host, f"destroy:{target.dataset}")
            record = {**target.as_record(), "existed": bool(result.get("destroyed"))}
            (remains if result.get("exists") is not False else removed).append(record)
        wiped = run.result(site.host, "wipe:drill")
        for path in paths:
            record = {"site": site.name, "host": site.host, "kind": "directory", "target": path}
            gone = path not in wiped.get("remaining", [])
            (removed if gone else remains).append({**record, "existed": path in wiped["removed"]})
        for target in targets:
            if target.kind == "path":
                record = {**target.as_record(), "existed": root in wiped["removed"]}
                (removed if root not in wiped.get("remaining", []) else remains).append(record)
        if len(remains) == left and site_name in state.areas:
            close_area(state.runtime, state.areas.pop(site_name))
    return removed, remains


def _unread(state: DrillState) -> list[str]:
    """Return production's datasets absent both before and after: nothing of them was read,
    so nothing can be said of whether they changed."""
    before, after = state.production_before, state.production_after
    assert before is not None and after is not None
    return [
        name
        for name in sorted(set(before.datasets) | set(after.datasets))
        if before.datasets.get(name, {}).get("exists", True) is False
        and after.datasets.get(name, {}).get("exists", True) is False
    ]


def _unread_verdict(state: DrillState, zh: str, message: str) -> StepResult:
    """Given a wipe that found production's datasets absent before and after, raise
    CheckFailed when the scenario requires production unchanged (it was not measured, so it
    cannot be shown); else return the step's result, which does not claim it unchanged."""
    names = ", ".join(state.production_unread)
    unread = f"production could not be read (absent before and after: {names})"
    if not state.scenario.production_may_change:
        raise CheckFailed(f"{unread}; production is not shown unchanged")
    return both(
        f"{zh}；生产数据集演练前后均不存在（{names}），未能读取，不声称生产未变",
        f"{message}; {unread}: production is not claimed unchanged",
    ), {"wipe": state.wipe, "production_unread": state.production_unread}


def _changes(state: DrillState) -> list[str]:
    """Return production's differences between the before and after fingerprints."""
    before, after = state.production_before, state.production_after
    assert before is not None and after is not None
    changes = []
    for name in sorted(set(before.datasets) | set(after.datasets)):
        left, right = before.datasets.get(name, {}), after.datasets.get(name, {})
        if left.get("exists", True) != right.get("exists", True):
            changes.append(f"{name}: exists {left.get('exists')} → {right.get('exists')}")
            continue
        for difference in compare_fingerprints(
            left.get("fingerprint", {}), right.get("fingerprint", {})
        ):
            changes.append(f"{name}: {difference}")
        changes += [f"{name}: {difference}" for difference in _schema_changes(left, right)]
    return changes


def _schema_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Given a dataset's results before and after, return one line per kind of schema object
    whose digest differs (or that was read only once)."""
    if "schema" not in before and "schema" not in after:
        return []  # a file tree: no schema
    if "schema" not in before or "schema" not in after:
        return ["schema read only " + ("after" if "schema" in after else "before")]
    left, right = before["schema"].get("kinds", {}), after["schema"].get("kinds", {})
    return [
        f"schema {kind} changed ({left.get(kind, {}).get('objects')} → "
        f"{right.get(kind, {}).get('objects')} objects)"
        for kind in sorted(set(left) | set(right))
        if left.get(kind) != right.get(kind)
    ]
