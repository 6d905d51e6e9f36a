"""`drctl status`, `drctl run-due` and `drctl retention`: judge the rules, run what is due,
rotate safely.

`add_rules_commands(commands)` registers them; it replaces an earlier `status` command (the
per-dataset table, which `status` now includes).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from orchestrator.errors import CheckFailed, ExitCode


def _load(args: argparse.Namespace) -> Any:
    from orchestrator.checks import load_checked_config

    return load_checked_config(Path(args.config))


def _json(args: argparse.Namespace) -> argparse.Namespace:
    args.json = bool(getattr(args, "json", False) or getattr(args, "command_json", False))
    return args


def command_status(args: argparse.Namespace) -> int:
    from orchestrator.actions.rule_status import (
        collect_status,
        parse_at,
        render_text,
        report_to_dict,
    )
    from orchestrator.cli import emit
    from orchestrator.runtime import open_runtime

    at = parse_at(args.at)
    config = _load(args)
    with open_runtime(config) as runtime:
        report = collect_status(runtime, at)
    emit(_json(args), report_to_dict(report), render_text(report))
    return ExitCode.CHECK_FAILED if report.failing else ExitCode.OK


def command_run_due(args: argparse.Namespace) -> int:
    from orchestrator.actions.run_due import plan_due, run_due_pass
    from orchestrator.checks import site_pack
    from orchestrator.cli import emit
    from orchestrator.rules.snapshot import load_snapshot
    from orchestrator.runtime import open_runtime

    config = _load(args)
    with open_runtime(config) as runtime:
        if args.plan:
            from datetime import UTC, datetime

            due = plan_due(config, load_snapshot(runtime), datetime.now(UTC), site_pack(config))
            emit(
                _json(args),
                {"due": [job.__dict__ for job in due]},
                "\n".join(f"due: {job.kind} {job.subject}: {job.reason}" for job in due)
                + f"\nsummary: {len(due)} job(s) due",
            )
            return ExitCode.OK
        result = run_due_pass(runtime)
    lines = [f"{o.status:<11} {o.kind} {o.subject}: {o.message}" for o in result.outcomes]
    if result.released_stale:
        lines.insert(0, f"released {result.released_stale} stale job lock(s) of a crashed run")
    lines.append(
        f"summary: {len(result.ran)} job(s) run, "
        f"{sum(o.status == 'skipped' for o in result.outcomes)} skipped, "
        f"{sum(o.status == 'failed' for o in result.outcomes)} failed"
    )
    emit(_json(args), result.to_dict(), "\n".join(lines))
    return result.exit_code


def command_retention(args: argparse.Namespace) -> int:
    from orchestrator.actions.retention import run_retention
    from orchestrator.cli import emit
    from orchestrator.model.catalog import JobBusy
    from orchestrator.runtime import open_runtime

    config = _load(args)
    with open_runtime(config) as runtime:
        try:
            result = run_retention(runtime, dry_run=args.dry_run, approver=args.approver)
        except JobBusy as busy:
            raise CheckFailed(f"retention: {busy}; try again when it has finished") from busy
    verb = "would delete" if result.dry_run else "deleted"
    chosen = result.plan.deletions if result.dry_run else result.deleted
    data = {
        "dry_run": result.dry_run,
        "approver": result.approver,
        "deletions": [{**d.__dict__, "business_date": d.business_date.isoformat()} for d in chosen],
        "kept_generations": dict(result.plan.kept),
        "notes": list(result.plan.notes),
    }
    lines = [
        f"{verb}: {d.system}/{d.dataset} {d.recovery_point_id} from {d.store}: {d.reason}"
        for d in chosen
    ]
    lines += [f"note: {note}" for note in result.plan.notes]
    lines += [f"kept: {key}: {count} generation(s)" for key, count in result.plan.kept.items()]
    lines.append(
        f"summary: {len(chosen)} copy(ies) {verb}"
        + (f", approved by {result.approver}" if result.approver else "")
    )
    emit(_json(args), data, "\n".join(lines))
    return ExitCode.OK


def _drop_existing(commands: Any, name: str) -> None:
    """Remove an already registered subcommand, so this module's version replaces it."""
    if name in commands.choices:
        del commands.choices[name]
        commands._choices_actions = [
            action for action in commands._choices_actions if action.dest != name
        ]


def add_rules_commands(commands: Any) -> None:
    """Register `status`, `run-due` and `retention` on the drctl subcommand parser."""
    _drop_existing(commands, "status")
    sub = commands.add_parser(
        "status",
        help="every rule × subject: status, measured, threshold, clause; exit 1 on a violation",
    )
    sub.set_defaults(handler=command_status)
    sub.add_argument(
        "--at", help="judge as of this date (YYYY-MM-DD, end of day Asia/Shanghai) or ISO date-time"
    )
    sub.add_argument(
        "--json", dest="command_json", action="store_true", help="machine output on stdout"
    )
    sub = commands.add_parser("run-due", help="one scheduler pass: run what is due")
    sub.set_defaults(handler=command_run_due)
    sub.add_argument("--plan", action="store_true", help="print what is due, run nothing")
    sub.add_argument("--json", dest="command_json", action="store_true")
    sub = commands.add_parser(
        "retention",
        help="rotate full recovery points; never below the 7-day and 8-generation floors",
    )
    sub.set_defaults(handler=command_retention)
    sub.add_argument("--dry-run", action="store_true", help="print the plan, delete nothing")
    sub.add_argument("--approver", help="who approved the destruction (T/TJSFB 009 §8 b)")
    sub.add_argument("--json", dest="command_json", action="store_true")
