"""The core-banking workload: seed the ledger and trees, or write postings.

Synthetic data for sandbox sites only: a scenario that would run it at a site not marked
sandbox is refused before anything runs (model/scenario_safety.py).

The ledger is SQLite in the sandbox (playbooks/sandbox_ledger.yml) and PostgreSQL on real
hosts (playbooks/ledger_postgresql.yml); both keep balance == sum of postings per account.
"""

from __future__ import annotations

import hashlib
import posixpath
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orchestrator.errors import InfrastructureError, InputError
from orchestrator.integrations.ansible import run_playbook
from orchestrator.model.engines import make_playbook_item
from orchestrator.model.settings import Dataset, Site
from orchestrator.runtime import Runtime


def make_tree_files(
    data_root: str, dataset_path: str, category: str, seed: int
) -> list[dict[str, str]]:
    """Return small, seed-dependent configuration or program files for a files dataset."""
    files = []
    for index in range(12):
        token = hashlib.sha256(f"{seed}:{category}:{index}".encode()).hexdigest()
        if category == "configuration":
            name = f"etc/service-{index:02d}.conf"
            content = (
                f"# core-banking service {index}\nlisten_port = {7000 + index}\n"
                f"pool_size = {8 + index % 5}\ninstance_token = {token[:16]}\n"
            )
        else:
            name = f"bin/batch-{index:02d}.sh"
            content = f"#!/bin/sh\n# end-of-day batch step {index}\necho {token}\n" * 20
        files.append({"dest": posixpath.join(data_root, dataset_path, name), "content": content})
    return files


def run_workload(
    runtime: Runtime,
    system_name: str,
    site_name: str,
    dataset_name: str,
    *,
    postings: int,
    seed: int | None,
) -> tuple[Mapping[str, Any], Path]:
    """Seed (when seed is given) or write postings to the ledger dataset at a site."""
    config = runtime.config.model
    system = config.system(system_name)
    site = config.site(site_name)
    ledger = next(d for d in system.datasets if d.name == dataset_name)
    if ledger.engine == "postgresql":
        return _run_postgresql_workload(runtime, site, ledger, postings=postings, seed=seed)
    if ledger.engine != "sqlite" or not ledger.path:
        raise InputError(
            "drill scenario",
            [f"workload: dataset {dataset_name} is not a SQLite or PostgreSQL ledger"],
        )
    trees = []
    if seed is not None:
        for dataset in system.datasets:
            if dataset.engine == "files" and dataset.path:
                trees += make_tree_files(site.data_root, dataset.path, dataset.category, seed)
    run = run_playbook(
        "sandbox_ledger.yml",
        inventory=runtime.config.inventory,
        extravars={
            "dr_host": site.host,
            "dr_action": "seed" if seed is not None else "post",
            "dr_ledger_path": posixpath.join(site.data_root, ledger.path),
            "dr_postings": postings,
            "dr_seed": seed or 0,
            "dr_files": trees,
        },
        ident=f"workload-{site.name}-{time.time_ns()}",
        work_dir=runtime.work_dir,
        limit=site.host,
    )
    if not run.ok:
        raise InfrastructureError("workload failed: " + "; ".join(run.failures or [run.status]))
    return run.result(site.host, "ledger"), run.events_path


def _run_postgresql_workload(
    runtime: Runtime, site: Site, ledger: Dataset, *, postings: int, seed: int | None
) -> tuple[Mapping[str, Any], Path]:
    """Seed (when seed is given) or write postings to a PostgreSQL ledger at a site."""
    item = make_playbook_item(site, ledger, site.spool)
    run = run_playbook(
        "ledger_postgresql.yml",
        inventory=runtime.config.inventory,
        extravars={
            "dr_host": site.host,
            "dr_action": "seed" if seed is not None else "post",
            "dr_item": item,
            "dr_postings": postings,
            "dr_seed": seed or 0,
        },
        ident=f"workload-{site.name}-{time.time_ns()}",
        work_dir=runtime.work_dir,
        limit=site.host,
    )
    if not run.ok:
        raise InfrastructureError("workload failed: " + "; ".join(run.failures or [run.status]))
    return run.result(site.host, "ledger"), run.events_path
