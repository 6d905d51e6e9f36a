"""`drctl serve`: the long-running loop. /metrics, a probe round of every network path every
interval (one thread per path), a probe pass of every replication link every
REPLICATION_PROBE_SECONDS (one thread), and a scheduler pass every few minutes: on a SQLite
catalog `run_due` in this process; on a PostgreSQL catalog the due actions go to the shared
task queue (actions/task_queue.py), which this node's worker and every other node's take from.

On SIGTERM/SIGINT the loop stops, the probe threads finish their round, and every open
observation and fault is closed at its last probe, so a restart reports the unobserved time
as "no data" exactly. A process that dies without that is caught up at the next start.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from exporters import DEFAULT_LISTEN
from orchestrator.actions.replication_probe import probe_pass
from orchestrator.actions.run_due import PassResult, run_due_pass
from orchestrator.actions.task_queue import QueueNode, QueueOptions, queue_conninfo
from orchestrator.errors import OrchestratorError
from orchestrator.model.catalog_errors import catalog_problem, is_catalog_error
from orchestrator.model.outages import close_open
from orchestrator.network import REPLICATION_PROBE_SECONDS
from orchestrator.network.monitor import PathMonitor, build_monitors
from orchestrator.network.probes import Prober
from orchestrator.runtime import Runtime

logger = logging.getLogger(__name__)
DEFAULT_RUN_DUE_SECONDS = 300.0


@dataclass(frozen=True)
class ServeOptions:
    """How to serve: metrics address (None: no /metrics), one pass only, the scheduler."""

    listen: str | None = DEFAULT_LISTEN
    once: bool = False
    run_due: bool = True
    run_due_interval_seconds: float = DEFAULT_RUN_DUE_SECONDS
    replication_interval_seconds: float = REPLICATION_PROBE_SECONDS
    queue: QueueOptions | None = QueueOptions()  # None: run_due in process even on PostgreSQL


def _probe_loop(monitor: PathMonitor, runtime: Runtime, stop: threading.Event) -> None:
    interval = monitor.path.interval_seconds
    next_round = time.monotonic()
    while not stop.is_set():
        try:
            monitor.probe_round(runtime.catalog)
        except Exception:  # noqa: BLE001 - a probe thread must outlive one bad round
            logger.exception("network path %s: probe round failed", monitor.path.name)
        next_round += interval
        delay = next_round - time.monotonic()
        if delay < 0:  # the round overran: start again now, do not burst to catch up
            next_round, delay = time.monotonic(), 0
        stop.wait(delay)


def _replication_loop(runtime: Runtime, stop: threading.Event, interval: float) -> None:
    while not stop.is_set():
        probe_pass(runtime)
        stop.wait(interval)


def run_due_once(runtime: Runtime) -> PassResult | None:
    """Run one scheduler pass; return its result (None when it failed). Errors are logged,
    never raised: the loop goes on."""
    try:
        return run_due_pass(runtime)
    except OrchestratorError as error:
        logger.error("scheduler pass failed: %s", error)
    except Exception as error:  # noqa: BLE001 - the service keeps probing whatever a pass does
        if not is_catalog_error(error):
            logger.exception("scheduler pass crashed")
        else:  # locked, unreachable: one line naming the catalog, retried next pass
            logger.error("scheduler pass failed: %s", catalog_problem(error, runtime.catalog.url))
    return None


def run_serve(
    runtime: Runtime,
    options: ServeOptions,
    stop: threading.Event,
    extra_probers: Mapping[str, Mapping[str, Prober]] | None = None,
    on_ready: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Given a runtime, options and a stop event, serve until stop is set (or one pass with
    options.once); return a summary. Raise InputError for a network path that cannot be
    probed here, before anything starts."""
    monitors = build_monitors(runtime.config.model.network, str(runtime.config.path), extra_probers)
    recovered = close_open(runtime.catalog, "restart")
    summary: dict[str, Any] = {
        "paths": [m.path.name for m in monitors],
        "recovered_open_outages": recovered,
        "rounds": 0,
    }
    if options.once:
        for monitor in monitors:
            monitor.probe_round(runtime.catalog)
        summary["rounds"] = 1
        summary["replication"] = probe_pass(runtime)
        if options.run_due:
            summary["run_due"] = run_due_once(runtime)
        close_open(runtime.catalog, "stop", [m.path.name for m in monitors])
        return summary
    _serve_until_stopped(runtime, options, stop, monitors, on_ready)
    return summary


def _serve_until_stopped(
    runtime: Runtime,
    options: ServeOptions,
    stop: threading.Event,
    monitors: list[PathMonitor],
    on_ready: Callable[[], None] | None,
) -> None:
    """Start /metrics and one probe thread per path, run scheduler passes until stop is set,
    then stop the threads and close every open observation at its last probe."""
    server = start_site_metrics(runtime, options.listen)
    threads = [
        threading.Thread(
            target=_probe_loop, args=(m, runtime, stop), name=f"probe-{m.path.name}", daemon=True
        )
        for m in monitors
    ]
    if any(system.replication for system in runtime.config.model.systems):
        threads.append(
            threading.Thread(
                target=_replication_loop,
                args=(runtime, stop, options.replication_interval_seconds),
                name="replication-probe",
                daemon=True,
            )
        )
    for thread in threads:
        thread.start()
    logger.info(
        "serving: %d network path(s), metrics on %s, run-due %s",
        len(monitors),
        options.listen or "(off)",
        f"every {options.run_due_interval_seconds:g} s" if options.run_due else "off",
    )
    node = _start_queue(runtime, options)
    if on_ready is not None:
        on_ready()
    try:
        while not stop.is_set():
            if node is not None:
                _schedule_once(node)
            elif options.run_due:
                run_due_once(runtime)
            stop.wait(options.run_due_interval_seconds if options.run_due else 3600)
    finally:
        stop.set()
        if node is not None:
            node.stop()
        timeout = max((m.path.timeout_seconds for m in monitors), default=0) + 5
        for thread in threads:
            thread.join(timeout=timeout)
        close_open(runtime.catalog, "stop", [m.path.name for m in monitors])
        if server is not None:
            server.shutdown()
        logger.info("serve stopped; open observations closed")


def _start_queue(runtime: Runtime, options: ServeOptions) -> QueueNode | None:
    """Start this node's task-queue worker when the catalog is PostgreSQL (and the scheduler
    and the queue are on); return it, or None for the in-process run_due loop."""
    conninfo = queue_conninfo(runtime.catalog.url)
    if not options.run_due or options.queue is None or conninfo is None:
        return None
    node = QueueNode(runtime, conninfo, options.queue)
    node.start()
    logger.info("serving: due work through the shared task queue in the catalog database")
    return node


def _schedule_once(node: QueueNode) -> None:
    try:
        node.schedule_pass()
    except Exception as error:  # noqa: BLE001 - the service keeps probing and working the queue
        if not is_catalog_error(error):
            logger.exception("task queue: scheduling pass failed")
        else:
            problem = catalog_problem(error, node.runtime.catalog.url)
            logger.error("task queue: scheduling pass failed: %s", problem)


def start_site_metrics(runtime: Runtime, listen: str | None) -> Any:
    """Start the site's /metrics on listen (None or empty: off), the catalog's families and
    its history signs (actions/catalog_age.py); return the server or None."""
    if not listen:
        return None
    from exporters.collector import make_registry
    from exporters.http_server import start_metrics_server
    from orchestrator.actions.catalog_age import catalog_signs

    registry = make_registry(
        runtime.config.model,
        runtime.pack,
        runtime.calendar,
        runtime.catalog,
        lambda: catalog_signs(runtime),
    )
    return start_metrics_server(listen, registry)
