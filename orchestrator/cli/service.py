"""`drctl serve` and `drctl metrics`: the long-running processes, stopped by SIGTERM/SIGINT."""

from __future__ import annotations

import math
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from orchestrator.actions.queue_jobs import Bounds
from orchestrator.actions.serve import ServeOptions, run_serve, start_site_metrics
from orchestrator.actions.task_queue import QueueOptions
from orchestrator.cli.call import Call
from orchestrator.errors import ExitCode, InputError
from orchestrator.runtime import open_runtime

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """Yield an event that SIGTERM or SIGINT sets; the previous handlers come back after."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda _signum, _frame: stop.set()) for sig in STOP_SIGNALS}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def metrics(call: Call) -> int:
    if not call.args.listen:
        raise InputError("--listen", ["expected ADDRESS:PORT, got an empty value"])
    with open_runtime(call.site(), writes=False) as runtime, stop_on_signals() as stop:
        server = start_site_metrics(runtime, call.args.listen)
        try:
            stop.wait()
        finally:
            server.shutdown()
    return ExitCode.OK


def serve(call: Call) -> int:
    interval = call.args.run_due_interval
    # `not 0 < x < inf`, not `x <= 0`: nan compares false both ways and slipped through.
    if not 0 < interval < math.inf:
        raise InputError("--run-due-interval", [f"{interval}: expected seconds > 0"])
    if not 0 < call.args.replication_interval < math.inf:
        raise InputError(
            "--replication-interval", [f"{call.args.replication_interval}: expected seconds > 0"]
        )
    options = ServeOptions(
        listen=None if call.args.once else call.args.listen,
        once=call.args.once,
        run_due=not call.args.no_run_due,
        run_due_interval_seconds=interval,
        replication_interval_seconds=call.args.replication_interval,
        queue=None if call.args.no_queue else queue_options(call),
    )
    with stop_on_signals() as stop, open_runtime(call.site()) as runtime:
        summary = run_serve(runtime, options, stop)
    call.out.emit(
        summary,
        f"summary: probed {len(summary['paths'])} network path(s); "
        f"{len(summary['recovered_open_outages'])} fault(s) left open by a "
        "previous run closed at their last observation",
    )
    return ExitCode.OK


def queue_options(call: Call) -> QueueOptions:
    """Return the task-queue options of `drctl serve`; raise InputError for a bound < 1 or a
    heartbeat that would call a live node dead."""
    args = call.args
    problems = [
        f"{name} {value}: expected an integer >= 1"
        for name, value in (
            ("--workers", args.workers),
            ("--per-host", args.per_host),
            ("--per-store", args.per_store),
        )
        if value < 1
    ]
    if not 0 < args.heartbeat < args.stalled_after < math.inf:
        problems.append(
            f"--heartbeat {args.heartbeat:g} / --stalled-after {args.stalled_after:g}: "
            "expected 0 < heartbeat < stalled-after"
        )
    if problems:
        raise InputError("command line", problems)
    return QueueOptions(
        concurrency=args.workers,
        heartbeat_seconds=args.heartbeat,
        stalled_after_seconds=args.stalled_after,
        poll_seconds=min(5.0, args.heartbeat),
        bounds=Bounds(per_host=args.per_host, per_store=args.per_store),
    )
