"""`drctl check-config`: validate the site and the drill scenarios given, all errors at once;
with --connect also what a backup needs from the world (hosts, stores, password variables)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from orchestrator.actions.connect_checks import check_connections
from orchestrator.actions.evidence_setup import evidence_setup_problems
from orchestrator.actions.site_locations import mixed_site_locations
from orchestrator.actions.store_checks import check_store
from orchestrator.cli.call import Call
from orchestrator.config import LoadedConfig
from orchestrator.errors import ExitCode, InfrastructureError, InputError, worst_exit_code
from orchestrator.model.scenario import load_scenario
from orchestrator.model.settings import Config
from orchestrator.rules.evaluate_encryption import escrow_warning
from orchestrator.rules.timezone import SHANGHAI


def check_config(call: Call) -> int:
    """Validate the site; with --connect also what a backup needs from the world. Every
    problem is listed; the command ends with the worst code (connect_checks)."""
    site = call.site()
    config, model = site.config, site.config.model
    problems = [p for store in model.stores for p in check_store(config, site.pack, store.name)]
    unreachable: list[tuple[ExitCode, str]] = []
    try:
        problems += evidence_setup_problems(config)
    except InfrastructureError as error:  # the anchor store is down, or chain.jsonl is cut
        if not call.args.connect:
            raise
        unreachable.append((ExitCode.INFRASTRUCTURE, f"evidence: {error}"))
    if problems and not call.args.connect:
        raise InputError(str(config.path), problems)
    scenarios = check_scenarios(model, call.args.scenario, config)
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


def check_scenarios(
    config: Config, paths: Sequence[str], loaded: LoadedConfig | None = None
) -> dict[str, str]:
    """Check each scenario file against the config (and, given the loaded config, its sites'
    locations); raise InputError with every problem of every file (exit 2); return {path:
    scenario kind}."""
    checked: dict[str, str] = {}
    problems: list[str] = []
    locations = mixed_site_locations(loaded) if paths and loaded is not None else None
    urls = loaded.store_urls() if loaded is not None else None
    for path in paths:
        try:
            checked[path] = load_scenario(Path(path), config, locations, urls).kind
        except InputError as error:
            problems += [f"{error.source}: {problem}" for problem in error.problems]
    if problems:
        raise InputError("drill scenarios", problems)
    return checked
