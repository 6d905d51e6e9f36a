"""`drctl serve`: /metrics, network probes and the scheduler in one long-running process."""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

from exporters import DEFAULT_LISTEN
from orchestrator.errors import ExitCode, InputError


def command_serve(args: argparse.Namespace) -> int:
    from orchestrator.actions.serve import ServeOptions, run_serve
    from orchestrator.cli import emit, load
    from orchestrator.runtime import open_runtime

    if args.run_due_interval <= 0:
        raise InputError("--run-due-interval", [f"{args.run_due_interval}: expected seconds > 0"])
    config = load(args)
    options = ServeOptions(
        listen=None if args.once else args.listen,
        once=args.once,
        run_due=not args.no_run_due,
        run_due_interval_seconds=args.run_due_interval,
    )
    stop = threading.Event()

    def request_stop(signum: int, _frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        with open_runtime(config) as runtime:
            summary = run_serve(runtime, options, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    emit(
        args,
        summary,
        f"summary: probed {len(summary['paths'])} network path(s); "
        f"{len(summary['recovered_open_outages'])} fault(s) left open by a "
        "previous run closed at their last observation",
    )
    return ExitCode.OK


def add_serve_commands(commands: Any) -> None:
    """Register `serve` on the drctl subcommand parser."""
    sub = commands.add_parser("serve", help="loop: /metrics, network probes, run-due passes")
    sub.set_defaults(handler=command_serve)
    sub.add_argument(
        "--listen", default=DEFAULT_LISTEN, help=f"metrics ADDRESS:PORT (default {DEFAULT_LISTEN})"
    )
    sub.add_argument(
        "--once",
        action="store_true",
        help="one probe round of every path and one scheduler pass, then exit",
    )
    sub.add_argument("--no-run-due", action="store_true", help="never run scheduler passes")
    sub.add_argument(
        "--run-due-interval",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="seconds between scheduler passes (default 300)",
    )
