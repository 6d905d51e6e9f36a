"""`drctl check-config`, `backup` and `copy-offsite`: validate the site, protect its data."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from orchestrator.actions.backup import run_backup
from orchestrator.actions.copy_offsite import run_copy_offsite
from orchestrator.actions.store_checks import check_store
from orchestrator.cli.call import Call
from orchestrator.errors import ExitCode, InputError
from orchestrator.evidence.setup import evidence_setup_problems
from orchestrator.model.settings import Config
from orchestrator.runtime import open_runtime


def choose_systems(config: Config, system: str | None, source: str = "command line") -> list[str]:
    """Given the config and --system (or None for all), return the systems to work on. Raise
    InputError naming the known systems when it names none of them."""
    known = [s.name for s in config.systems]
    if system is None:
        return known
    if system not in known:
        raise InputError(
            source, [f"--system: no system named {system!r}; expected one of {', '.join(known)}"]
        )
    return [system]


def choose_datasets(config: Config, systems: Sequence[str], dataset: str | None) -> list[str]:
    """Given the config, the chosen systems and --dataset (or None), return the systems that
    have that dataset. Raise InputError naming the known datasets when none has it."""
    if dataset is None:
        return list(systems)
    having = [s for s in systems if dataset in {d.name for d in config.system(s).datasets}]
    if not having:
        known = sorted({d.name for s in systems for d in config.system(s).datasets})
        raise InputError(
            "command line",
            [f"--dataset: no dataset named {dataset!r}; expected one of {', '.join(known)}"],
        )
    return having


def check_config(call: Call) -> int:
    site = call.site()
    config, model = site.config, site.config.model
    problems = [p for store in model.stores for p in check_store(config, site.pack, store.name)]
    problems += evidence_setup_problems(config)
    if problems:
        raise InputError(str(config.path), problems)
    datasets = sum(len(system.datasets) for system in model.systems)
    call.out.emit(
        {
            "ok": True,
            "config": str(config.path),
            "systems": len(model.systems),
            "datasets": datasets,
            "stores": len(model.stores),
        },
        f"{config.path}: ok ({len(model.systems)} systems, {datasets} datasets, "
        f"{len(model.stores)} stores)",
    )
    return ExitCode.OK


def add_backup_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--system", help="only this system (default: every system)")
    parser.add_argument("--dataset", help="only this dataset (default: every dataset)")


def backup(call: Call) -> int:
    site = call.site()
    model = site.config.model
    systems = choose_systems(model, call.args.system)
    systems = choose_datasets(model, systems, call.args.dataset)
    datasets = [call.args.dataset] if call.args.dataset else None
    with open_runtime(site) as runtime:
        outcomes = [o for s in systems for o in run_backup(runtime, s, datasets=datasets)]
    results = [
        {
            "system": o.system,
            "dataset": o.dataset,
            "recovery_point": o.recovery_point_id,
            "store": o.store,
            "bytes": o.manifest.total_bytes,
            "manifest_sha256": o.manifest_sha256,
        }
        for o in outcomes
    ]
    lines = [
        f"{r['system']}/{r['dataset']}: {r['recovery_point']} ({r['bytes']} bytes) in {r['store']}"
        for r in results
    ]
    lines.append(f"summary: {len(results)} full recovery point(s) written")
    call.out.emit({"recovery_points": results}, "\n".join(lines))
    return ExitCode.OK


def add_copy_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--system", help="only this system (default: every system)")


def copy_offsite(call: Call) -> int:
    site = call.site()
    systems = choose_systems(site.config.model, call.args.system)
    with open_runtime(site) as runtime:
        outcomes = run_copy_offsite(runtime, systems=systems)
    lines = [
        f"{o.system}/{o.dataset}: {o.recovery_point_id} → {o.destination} (verified there)"
        for o in outcomes
    ]
    lines.append(f"summary: {len(outcomes)} recovery point(s) copied off-site")
    call.out.emit({"copied": [o.__dict__ for o in outcomes]}, "\n".join(lines))
    return ExitCode.OK
