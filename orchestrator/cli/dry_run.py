"""`--dry-run` of the commands that write: what they would do, from the validated config and
scenario alone. Nothing is written, no host or store is contacted, the catalog is not opened.

The plan names every dataset with where it lives, so an operator sees exactly what a real run
would touch before running it (a drill's plan lists each step and the site it acts on).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from orchestrator.model.scenario import Scenario
from orchestrator.model.settings import Config

NOTHING_WRITTEN = "dry run: nothing was written and no host or store was contacted"


def _where(dataset: Any) -> str:
    if dataset.database:
        return f"{dataset.engine} database {dataset.database}"
    return f"{dataset.engine} path {dataset.path}"


def backup_plan(
    config: Config, systems: Sequence[str], dataset: str | None
) -> tuple[dict[str, Any], str]:
    """Return (JSON data, text) of what `backup` would do."""
    planned = []
    for name in systems:
        system = config.system(name)
        site = config.site(system.production_site)
        for item in system.datasets:
            if dataset is not None and item.name != dataset:
                continue
            planned.append(
                {
                    "system": system.name,
                    "dataset": item.name,
                    "what": _where(item),
                    "site": site.name,
                    "host": site.host,
                    "store": system.primary_store,
                }
            )
    lines = [
        f"would back up {p['system']}/{p['dataset']} ({p['what']}) at {p['site']} "
        f"({p['host']}) into store {p['store']}"
        for p in planned
    ]
    return {"dry_run": True, "backups": planned}, "\n".join([*lines, NOTHING_WRITTEN])


def copy_plan(config: Config, systems: Sequence[str]) -> tuple[dict[str, Any], str]:
    """Return (JSON data, text) of what `copy-offsite` would do."""
    planned = []
    for name in systems:
        system = config.system(name)
        planned.append(
            {
                "system": system.name,
                "from_store": system.primary_store,
                "to_store": system.offsite_store,
                "datasets": [d.name for d in system.datasets],
            }
        )
    lines = [
        f"would copy every authenticated, good recovery point of {p['system']} "
        f"({', '.join(p['datasets'])}) with no verified copy in {p['to_store']} from "
        f"{p['from_store']}, and check each at {p['to_store']}"
        for p in planned
    ]
    return {"dry_run": True, "copies": planned}, "\n".join([*lines, NOTHING_WRITTEN])


def drill_plan(scenario: Scenario, path: str) -> tuple[dict[str, Any], str]:
    """Return (JSON data, text) of what `drill run` would do: the validated scenario's steps."""
    steps = [
        {
            "name": step.name,
            "action": step.action,
            "site": step.site or step.to_site,
            "store": step.store or step.from_store,
        }
        for step in scenario.steps
    ]
    lines = [f"drill {scenario.name} ({scenario.kind}, system {scenario.system}) from {path}:"]
    for number, step in enumerate(steps, 1):
        where = ", ".join(
            f"{key} {step[key]}" for key in ("site", "store") if step[key] is not None
        )
        lines.append(
            f"  [{number:2d}/{len(steps)}] {step['name']:<22} {step['action']}"
            + (f" ({where})" if where else "")
        )
    data = {
        "dry_run": True,
        "scenario": scenario.name,
        "kind": scenario.kind,
        "system": scenario.system,
        "steps": steps,
    }
    return data, "\n".join([*lines, NOTHING_WRITTEN])
