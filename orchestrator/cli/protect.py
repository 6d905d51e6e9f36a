"""`drctl backup` and `copy-offsite`: protect the site's data (validating it: cli/check.py)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from orchestrator.actions.backup import BackupOutcome, back_up_system, require_backup_keys
from orchestrator.cli.call import Call
from orchestrator.errors import ExitCode, InputError, worst_exit_code
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


def backup(call: Call) -> int:
    """Back up each chosen system, each dataset on its own; list every dataset's outcome and
    end with the worst exit code (errors.worst_exit_code)."""
    site = call.site()
    model = site.config.model
    systems = choose_systems(model, call.args.system)
    systems = choose_datasets(model, systems, call.args.dataset)
    datasets = [call.args.dataset] if call.args.dataset else None
    if call.args.dry_run:
        from orchestrator.cli.dry_run import backup_plan  # only a plan needs it

        call.out.emit(*backup_plan(model, systems, call.args.dataset))
        return ExitCode.OK
    require_backup_keys(site.config)  # a bad key is exit 2 before the catalog opens
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


def copy_offsite(call: Call) -> int:
    # Imported here: it brings the evidence package and its renderer (jinja2), which a
    # backup, the other command of this module, does not need (issue 15, start-up).
    from orchestrator.actions.copy_offsite import run_copy_offsite

    site = call.site()
    systems = choose_systems(site.config.model, call.args.system)
    if call.args.dry_run:
        from orchestrator.cli.dry_run import copy_plan

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
