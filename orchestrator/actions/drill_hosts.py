"""How a test failover reaches a site's host: playbook runs recorded in the drill's events,
playbook items that address drill targets, and read-only fingerprints of live data."""

from __future__ import annotations

import posixpath
import time
from collections.abc import Sequence
from typing import Any

from orchestrator.actions.drill_state import DrillState, SiteFingerprint
from orchestrator.errors import InfrastructureError
from orchestrator.integrations.ansible import PlaybookRun, run_playbook
from orchestrator.model.downstream import raise_if_refused
from orchestrator.model.drill_targets import DrillTarget, drill_root
from orchestrator.model.engines import make_playbook_item, spool_root
from orchestrator.model.settings import Site


def run_on_site(
    state: DrillState, playbook: str, site: Site, label: str, **extravars: Any
) -> PlaybookRun:
    """Run a playbook on a site's host for the drill; keep its events. Raise
    InfrastructureError if it fails (unreachable hosts raise it from run_playbook)."""
    run = run_playbook(
        playbook,
        inventory=state.runtime.config.inventory,
        extravars={"dr_host": site.host, "dr_hash_algorithm": "sha256", **extravars},
        ident=f"drill-{state.drill_id}-{label}-{site.name}",
        work_dir=state.runtime.work_dir,
        limit=site.host,
    )
    state.events.append(run.events_path)
    if not run.ok:
        raise_if_refused(run.failures, f"{playbook} at {site.name} ({label})")
        raise InfrastructureError(
            f"{playbook} at {site.name} ({label}) failed: "
            + "; ".join(run.failures or [run.status])
        )
    return run


def target_items(site: Site, targets: Sequence[DrillTarget], state: DrillState) -> list[Any]:
    """Return playbook items that address drill targets where the roles read the live data's
    name (`database`, `live_path`): fingerprint.yml, destroy.yml and backup_full.yml."""
    system = state.runtime.config.model.system(state.scenario.system)
    datasets = {dataset.name: dataset for dataset in system.datasets}
    spool = posixpath.join(drill_root(site, state.drill_id), "items")
    items = []
    for target in targets:
        item = make_playbook_item(site, datasets[target.dataset], spool)
        item["database" if target.kind == "database" else "live_path"] = target.target
        items.append(item)
    return items


def fingerprint_and_probe(
    state: DrillState,
    site: Site,
    label: str,
    *,
    live: bool,
    targets: Sequence[DrillTarget] = (),
) -> tuple[SiteFingerprint | None, list[str]]:
    """In one fingerprint.yml run at a site, fingerprint the system's live datasets (when
    live; read only; rows and each database's schema digest) and probe drill targets; return
    (the live fingerprint or None, the targets that already exist)."""
    system = state.runtime.config.model.system(state.scenario.system)
    spool = spool_root(site, f"drill-{state.drill_id}-fingerprint", system.name)
    items = [make_playbook_item(site, d, spool) for d in system.datasets] if live else []
    probes = target_items(site, targets, state)
    for item, target in zip(probes, targets, strict=True):
        item["name"] = f"{target.dataset}@{target.leg}"
    taken_at = time.time()
    run = run_on_site(
        state, "fingerprint.yml", site, label, dr_datasets=items + probes, dr_schema=live
    )
    present = [
        t.target
        for t in targets
        if run.result(site.host, f"fingerprint:{t.dataset}@{t.leg}").get("exists") is not False
    ]
    if not live:
        return None, present
    results = {d.name: run.result(site.host, f"fingerprint:{d.name}") for d in system.datasets}
    return SiteFingerprint(site.name, taken_at, results), present


def fingerprint_site(state: DrillState, site_name: str, label: str) -> SiteFingerprint:
    """Fingerprint the system's live datasets at a site (read only), with each database's
    schema digest, as fingerprint_and_probe does."""
    site = state.runtime.config.model.site(site_name)
    fingerprint, _ = fingerprint_and_probe(state, site, label, live=True)
    assert fingerprint is not None
    return fingerprint
