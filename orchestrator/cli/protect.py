"""`drctl check-config`, `backup` and `copy-offsite`: validate the site, protect its data."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from orchestrator.actions.backup import BackupOutcome, back_up_system
from orchestrator.actions.connect_checks import check_connections
from orchestrator.actions.copy_offsite import run_copy_offsite
from orchestrator.actions.evidence_setup import evidence_setup_problems
from orchestrator.actions.store_checks import check_store
from orchestrator.cli.call import Call
from orchestrator.cli.dry_run import backup_plan, copy_plan
from orchestrator.errors import ExitCode, InfrastructureError, InputError, worst_exit_code
from orchestrator.model.scenario import load_scenario
from orchestrator.model.settings import Config
from orchestrator.rules.evaluate_encryption import escrow_warning
from orchestrator.rules.workdays import SHANGHAI
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


def add_check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--connect",
        action="store_true",
        help="also check password variables, hosts (strict host keys, spool writable) and "
        "stores (writable, locked)",
    )
    _add_scenario_argument(parser)


def check_config(call: Call) -> int:
    """Validate the site; with --connect also what a backup needs from the world. Every
    problem is listed; the command ends with the worst code (connect_checks)."""
    site = call.site()
    config, model = site.config, site.config.model
    problems = [p for store in model.stores for p in check_store(config, site.pack, store.name)]
    unreachable: list[tuple[ExitCode, str]] = []
    try:
        problems += evidence_setup_problems(config)
    except InfrastructureError as error:  # the anchor store is down
        if not call.args.connect:
            raise
        unreachable.append((ExitCode.INFRASTRUCTURE, f"evidence anchor: {error}"))
    if problems and not call.args.connect:
        raise InputError(str(config.path), problems)
    scenarios = check_scenarios(model, call.args.scenario)
    found = [(ExitCode.USAGE, problem) for problem in problems] + unreachable
    if call.args.connect:
        found += [(p.exit_code, p.describe()) for p in check_connections(config, site.pack)]
    errors = [text for code, text in found if code != ExitCode.OK]
    notes = [text for code, text in found if code == ExitCode.OK]
    code = worst_exit_code(code for code, _text in found)
    warnings = [w for w in (escrow_warning(model, datetime.now(SHANGHAI).date()),) if w]
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if errors:
        print(f"error: {config.path}: {len(errors)} error(s)", file=sys.stderr)
        for text in errors:
            print(f"  {text}", file=sys.stderr)
    datasets = sum(len(system.datasets) for system in model.systems)
    call.out.emit(
        {
            "ok": not errors,
            "config": str(config.path),
            "connected": bool(call.args.connect),
            "systems": len(model.systems),
            "datasets": datasets,
            "stores": len(model.stores),
            "problems": errors,
            "notes": notes,
            "warnings": warnings,
            "exit_code": int(code),
            "scenarios": scenarios,
        },
        f"{config.path}: "
        + ("ok" if not errors else f"{len(errors)} problem(s)")
        + f" ({len(model.systems)} systems, {datasets} datasets, {len(model.stores)} stores"
        + ("; hosts, stores and password variables checked" if call.args.connect else "")
        + ")"
        + "".join(f"\n{path}: ok ({kind})" for path, kind in scenarios.items()),
    )
    return code


def _add_scenario_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scenario",
        action="append",
        default=[],
        metavar="FILE",
        help="also check a drill scenario (repeatable); refuses one that would seed, write or "
        "destroy data at a site not marked sandbox",
    )


def check_scenarios(config: Config, paths: Sequence[str]) -> dict[str, str]:
    """Check each scenario file against the config; raise InputError with every problem of
    every file (exit 2); return {path: scenario kind}."""
    checked: dict[str, str] = {}
    problems: list[str] = []
    for path in paths:
        try:
            checked[path] = load_scenario(Path(path), config).kind
        except InputError as error:
            problems += [f"{error.source}: {problem}" for problem in error.problems]
    if problems:
        raise InputError("drill scenarios", problems)
    return checked


DRY_RUN_HELP = "print what would be done (every dataset, where it lives); write nothing"


def add_backup_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--system", help="only this system (default: every system)")
    parser.add_argument("--dataset", help="only this dataset (default: every dataset)")
    parser.add_argument("--dry-run", action="store_true", help=DRY_RUN_HELP)


def backup(call: Call) -> int:
    """Back up each chosen system, each dataset on its own; list every dataset's outcome and
    end with the worst exit code (errors.worst_exit_code)."""
    site = call.site()
    model = site.config.model
    systems = choose_systems(model, call.args.system)
    systems = choose_datasets(model, systems, call.args.dataset)
    datasets = [call.args.dataset] if call.args.dataset else None
    if call.args.dry_run:
        call.out.emit(*backup_plan(model, systems, call.args.dataset))
        return ExitCode.OK
    with open_runtime(site) as runtime:
        reports = [back_up_system(runtime, s, datasets=datasets) for s in systems]
    results = [backup_result(o) for r in reports for o in r.outcomes]
    failed = [
        {
            "system": f.system,
            "dataset": f.dataset,
            "outcome": "failed",
            "exit_code": int(f.exit_code),
            "error": f.reason,
        }
        for r in reports
        for f in r.failures
    ]
    code = worst_exit_code(f.exit_code for r in reports for f in r.failures)
    for failure in failed:
        print(
            f"error: {failure['system']}/{failure['dataset']}: {failure['error']}", file=sys.stderr
        )
    lines = [
        f"{r['system']}/{r['dataset']}: {r['recovery_point']} ({r['bytes']} bytes) in {r['store']}"
        if r["outcome"] == "ok"
        else f"{r['system']}/{r['dataset']}: FAILED (exit {r['exit_code']})"
        for r in sorted(results + failed, key=lambda r: (r["system"], r["dataset"]))
    ]
    summary = f"summary: {len(results)} full recovery point(s) written"
    zh = f"小结：写入 {len(results)} 个完整恢复点"
    if failed:
        names = ", ".join(f"{f['system']}/{f['dataset']}" for f in failed)
        summary += f", {len(failed)} dataset(s) FAILED: {names}; exit {int(code)}"
        zh += f"，{len(failed)} 个数据集失败：{names}"
    summary += "\n" + zh
    call.out.emit(
        {"recovery_points": results, "datasets": results + failed, "exit_code": int(code)},
        "\n".join([*lines, summary]),
    )
    return code


def backup_result(outcome: BackupOutcome) -> dict[str, Any]:
    return {
        "system": outcome.system,
        "dataset": outcome.dataset,
        "outcome": "ok",
        "recovery_point": outcome.recovery_point_id,
        "store": outcome.store,
        "bytes": outcome.manifest.total_bytes,
        "manifest_sha256": outcome.manifest_sha256,
    }


def add_copy_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--system", help="only this system (default: every system)")
    parser.add_argument("--dry-run", action="store_true", help=DRY_RUN_HELP)


def copy_offsite(call: Call) -> int:
    site = call.site()
    systems = choose_systems(site.config.model, call.args.system)
    if call.args.dry_run:
        call.out.emit(*copy_plan(site.config.model, systems))
        return ExitCode.OK
    with open_runtime(site) as runtime:
        outcomes = run_copy_offsite(runtime, systems=systems)
    lines = [
        f"{o.system}/{o.dataset}: {o.recovery_point_id} → {o.destination} (verified there)"
        for o in outcomes
    ]
    lines.append(f"summary: {len(outcomes)} recovery point(s) copied off-site")
    lines.append(f"小结：{len(outcomes)} 个恢复点已复制到异地并在异地校验")
    call.out.emit({"copied": [o.__dict__ for o in outcomes]}, "\n".join(lines))
    return ExitCode.OK
