"""`drctl`: subcommands → actions, exit codes, `--json`, a summary line.

Machine output goes to stdout with --json; logs always go to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from exporters import DEFAULT_LISTEN
from orchestrator import __version__
from orchestrator.errors import ExitCode, InputError, OrchestratorError

logger = logging.getLogger("orchestrator")
Handler = Callable[[argparse.Namespace], int]


def emit(args: argparse.Namespace, data: Any, text: str) -> None:
    """Print data as JSON with --json, else the human text."""
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True, default=str))
    elif text:
        print(text)


def load(args: argparse.Namespace) -> Any:
    from orchestrator.checks import load_checked_config

    return load_checked_config(Path(args.config))


def command_check_config(args: argparse.Namespace) -> int:
    from orchestrator.actions.store_checks import check_store

    config = load(args)
    model = config.model
    problems = [problem for store in model.stores for problem in check_store(config, store.name)]
    if problems:
        raise InputError(str(config.path), problems)
    datasets = sum(len(system.datasets) for system in model.systems)
    emit(
        args,
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


def command_backup(args: argparse.Namespace) -> int:
    from orchestrator.actions.backup import run_backup
    from orchestrator.runtime import open_runtime

    config = load(args)
    results = []
    with open_runtime(config) as runtime:
        for system in config.model.systems:
            if args.system and system.name != args.system:
                continue
            for outcome in run_backup(
                runtime, system.name, datasets=[args.dataset] if args.dataset else None
            ):
                results.append(
                    {
                        "system": outcome.system,
                        "dataset": outcome.dataset,
                        "recovery_point": outcome.recovery_point_id,
                        "store": outcome.store,
                        "bytes": outcome.manifest.total_bytes,
                        "manifest_sha256": outcome.manifest_sha256,
                    }
                )
    emit(
        args,
        {"recovery_points": results},
        "\n".join(
            f"{r['system']}/{r['dataset']}: {r['recovery_point']} "
            f"({r['bytes']} bytes) in {r['store']}"
            for r in results
        )
        + f"\nsummary: {len(results)} full recovery point(s) written",
    )
    return ExitCode.OK


def command_copy_offsite(args: argparse.Namespace) -> int:
    from orchestrator.actions.copy_offsite import run_copy_offsite
    from orchestrator.runtime import open_runtime

    config = load(args)
    with open_runtime(config) as runtime:
        outcomes = run_copy_offsite(runtime, systems=[args.system] if args.system else None)
    emit(
        args,
        {"copied": [o.__dict__ for o in outcomes]},
        "\n".join(
            f"{o.system}/{o.dataset}: {o.recovery_point_id} → {o.destination} (verified there)"
            for o in outcomes
        )
        + f"\nsummary: {len(outcomes)} recovery point(s) copied off-site",
    )
    return ExitCode.OK


def command_verify(args: argparse.Namespace) -> int:
    from orchestrator.actions.verify import run_verify_all
    from orchestrator.runtime import open_runtime

    config = load(args)
    if not args.all:
        from orchestrator.actions.verify_sample import command_verify_sample

        return command_verify_sample(args, config, emit)
    with open_runtime(config, progress=sys.stderr.isatty()) as runtime:
        result = run_verify_all(runtime)
    data = {
        "ok": result.ok,
        "recovery_points": result.points,
        "files": result.files,
        "bytes": result.bytes,
        "incomplete_ignored": result.incomplete,
        "problems": [problem.__dict__ for problem in result.problems],
    }
    lines = [f"MISMATCH {problem.describe()}" for problem in result.problems]
    lines += [f"incomplete (no manifest, ignored): {item}" for item in result.incomplete]
    lines.append(
        f"summary: {result.points} recovery points, {result.files} files, "
        f"{result.bytes} bytes checked, {len(result.problems)} problem(s)"
    )
    emit(args, data, "\n".join(lines))
    return ExitCode.OK if result.ok else ExitCode.CHECK_FAILED


def command_drill_run(args: argparse.Namespace) -> int:
    from orchestrator.actions.drill import StepRecord, run_drill
    from orchestrator.actions.sandbox import SCENARIO, prepare_sandbox
    from orchestrator.model.scenario import load_scenario
    from orchestrator.runtime import open_runtime

    if args.sandbox:
        args.config = str(prepare_sandbox())
    config = load(args)
    scenario_path = Path(args.scenario) if args.scenario else SCENARIO
    scenario = load_scenario(scenario_path, config.model)
    count = len(scenario.steps)

    def show(record: StepRecord) -> None:
        if args.json:
            return
        index = next(i for i, s in enumerate(scenario.steps, 1) if s.name == record.name)
        mark = {"passed": "ok  ", "failed": "FAIL", "skipped": "skip"}[record.status]
        took = f"{record.duration_seconds:6.1f}s" if record.started_at else "       "
        print(f"[{index:2d}/{count}] {mark} {record.name:<22} {took}  {record.message}", flush=True)

    if not args.json:
        print(f"drill {scenario.name}: {scenario.title.en} / {scenario.title.zh}")
        print(f"config {config.path}")
    with open_runtime(config) as runtime:
        outcome = run_drill(runtime, scenario, scenario_path, on_step=show)
    measured = outcome.measurements
    data = {
        "drill": outcome.drill_id,
        "scenario": outcome.scenario,
        "passed": outcome.passed,
        "rto_seconds": measured.get("rto_seconds"),
        "rpo_seconds": measured.get("rpo_seconds"),
        "postings_lost": measured.get("postings_lost"),
        "evidence": str(outcome.evidence_path),
        "steps": [
            {"name": r.name, "status": r.status, "message": r.message} for r in outcome.steps
        ],
    }
    rpo_text = (
        "n/a"
        if measured.get("rpo_seconds") is None
        else (
            f"{measured['rpo_seconds']:.1f} s"
            + (
                f" ({measured['postings_lost']} postings lost)"
                if measured.get("postings_lost") is not None
                else ""
            )
        )
    )
    rto_text = "n/a" if measured.get("rto_seconds") is None else f"{measured['rto_seconds']:.1f} s"
    emit(
        args,
        data,
        "\n".join(
            [
                f"RTO: {rto_text}",
                f"RPO: {rpo_text}",
                f"result: {'PASSED 通过' if outcome.passed else 'FAILED 未通过'}",
                f"evidence: {outcome.evidence_path}",
            ]
        ),
    )
    return ExitCode.OK if outcome.passed else ExitCode.CHECK_FAILED


def command_metrics(args: argparse.Namespace) -> int:
    from exporters.collector import serve_metrics

    config = load(args)
    serve_metrics(config, args.listen)
    return ExitCode.OK


def command_evidence_verify(args: argparse.Namespace) -> int:
    from orchestrator.evidence.verify import verify_package

    problems = verify_package(Path(args.path), Path(args.public_key) if args.public_key else None)
    emit(
        args,
        {"ok": not problems, "problems": problems},
        "\n".join(
            problems
            + [
                f"summary: {args.path}: "
                + ("ok" if not problems else f"{len(problems)} problem(s)")
            ]
        ),
    )
    return ExitCode.OK if not problems else ExitCode.CHECK_FAILED


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="drctl", description=__doc__)
    parser.add_argument("-c", "--config", default="dr.yml", help="site config (default ./dr.yml)")
    parser.add_argument("--json", action="store_true", help="machine output on stdout")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    parser.add_argument("--version", action="version", version=f"drctl {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.set_defaults(handler=handler)
        return sub

    add("check-config", command_check_config, "validate config and inventory, all errors at once")
    sub = add("backup", command_backup, "full backup now")
    sub.add_argument("--system")
    sub.add_argument("--dataset")
    sub = add("copy-offsite", command_copy_offsite, "copy recovery points off-site, verify there")
    sub.add_argument("--system")
    sub = add("verify", command_verify, "restore sampling (≥10 %%) or --all integrity scan")
    sub.add_argument("--all", action="store_true", help="check every digest of every point")
    sub.add_argument("--plan", action="store_true", help="print the sample plan only")
    sub.add_argument("--seed", type=int)
    drill = commands.add_parser("drill", help="drills").add_subparsers(dest="drill", required=True)
    sub = drill.add_parser("run", help="run a drill scenario")
    sub.set_defaults(handler=command_drill_run)
    sub.add_argument("scenario", nargs="?", help="scenario file (default: the sandbox drill)")
    sub.add_argument(
        "--sandbox",
        action="store_true",
        help="set up a fresh sandbox under .dr/sandbox and use its dr.yml",
    )
    sub = add("metrics", command_metrics, "serve /metrics from the catalog")
    sub.add_argument(
        "--listen", default=DEFAULT_LISTEN, help=f"ADDRESS:PORT (default {DEFAULT_LISTEN})"
    )
    evidence = commands.add_parser("evidence", help="evidence packages").add_subparsers(
        dest="evidence", required=True
    )
    sub = evidence.add_parser("verify", help="check a package: digests, signature, chain")
    sub.set_defaults(handler=command_evidence_verify)
    sub.add_argument("path")
    sub.add_argument("--public-key", help="trusted signer public key (PEM), got out of band")
    from orchestrator.cli_calendar import add_calendar_commands

    add_calendar_commands(commands)
    from orchestrator.cli_rules import add_rules_commands
    from orchestrator.cli_serve import add_serve_commands

    add_rules_commands(commands)

    add_serve_commands(commands)
    return parser


def configure_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    # --json is global, but operators type it after the subcommand too; accept it anywhere.
    if "--json" in arguments:
        arguments = ["--json", *(argument for argument in arguments if argument != "--json")]
    args = parser.parse_args(arguments)
    configure_logging(args.verbose)
    handler: Handler = args.handler
    try:
        return int(handler(args))
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return int(error.exit_code)
    except OrchestratorError as error:
        print(f"error: {error}", file=sys.stderr)
        return int(error.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
