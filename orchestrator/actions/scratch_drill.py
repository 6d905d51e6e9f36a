"""The scratch area of a test failover killed before its wipe (kind `drill`, one per site).

actions/drill_wipe.journal_targets journals, per site, the drill databases and directories a
test failover is about to make. When the drctl that made them died, the next command that
writes (actions/scratch.sweep_orphans) wipes them here with drill_wipe.yml, as the drill's own
wipe step would have: each database dropped and proven gone, each directory removed.

Only drill-scoped names are ever touched, whatever the catalog row says: a database must be
named `drill_…` (model/drill_targets.py) and a directory's last component `drill-…`, and
neither may be (or hold, or lie inside) a live dataset of the config.
"""

from __future__ import annotations

import posixpath
import time
from collections.abc import Mapping
from typing import Any

from orchestrator.errors import OrchestratorError
from orchestrator.host_paths import overlap
from orchestrator.integrations.ansible import run_playbook
from orchestrator.model.drill_targets import DATABASE_PREFIX, live_databases, live_paths
from orchestrator.model.settings import Config
from orchestrator.runtime import Runtime


def drill_scoped(
    detail: Mapping[str, Any], config: Config
) -> tuple[list[dict[str, Any]], list[str]]:
    """Given a drill area's detail and the config, return (its database items, its
    directories), keeping only drill-scoped names that are no live dataset of the config."""
    live = live_databases(config)
    items = [
        dict(item)
        for item in detail.get("datasets", [])
        if str(item.get("database", "")).startswith(DATABASE_PREFIX)
        and str(item["database"]).lower() not in live
    ]
    live_roots = live_paths(config)
    paths = [
        str(path)
        for path in detail.get("paths", [])
        if posixpath.isabs(str(path))
        and posixpath.basename(str(path)).startswith("drill-")
        and not any(overlap(str(path), root) for root in live_roots)
    ]
    return items, paths


def wipe_drill_area(runtime: Runtime, host: str, detail: Mapping[str, Any]) -> list[str]:
    """Drop the drill databases and remove the drill directories of a drill area on host;
    return what is gone. Raise OrchestratorError if the wipe failed or anything remains."""
    items, paths = drill_scoped(detail, runtime.config.model)
    items = [{**item, "downstream": "allow"} for item in items]  # drill-scoped drops only
    run = run_playbook(
        "drill_wipe.yml",
        inventory=runtime.config.inventory,
        extravars={"dr_host": host, "dr_datasets": items, "dr_paths": paths},
        ident=f"cleanup-drill-{host}-{time.time_ns()}",
        work_dir=runtime.work_dir,
        limit=host,
    )
    if not run.ok:
        raise OrchestratorError("; ".join(run.failures or [run.status]))
    remains = [
        str(item["database"])
        for item in items
        if run.result(host, f"destroy:{item['name']}").get("exists") is not False
    ]
    remains += list(run.result(host, "wipe:drill").get("remaining", []))
    if remains:
        raise OrchestratorError(f"still there after the wipe: {', '.join(remains)}")
    return [str(item["database"]) for item in items] + paths
