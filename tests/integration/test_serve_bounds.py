"""The per-host and per-store bounds of `drctl serve` on a PostgreSQL catalog, contended for
(docs/deploy.md, "Concurrency bounds"): six systems, three on each of two production hosts
(real sshd on 127.0.0.1, Ansible over SSH), all writing to one primary store; two serve nodes
with three workers each, so without the bounds all six backups would run at once.

With `--per-host 2 --per-store 3` the catalog's job rows (each written inside the slots its
action holds) show at most two backups at a time on each host and three on the store, and the
bounds are reached: the test fails if the slots are ignored and if they let nothing overlap.

The test holds the verification enclave's host slots itself (advisory locks on its own
connection to the catalog's database) from the start: the validity check, due once the
backups are in, must wait on the queue without starting until the test lets them go, and then
run.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy import select

from orchestrator.actions.queue_jobs import slot_key
from orchestrator.actions.run_due import plan_due
from orchestrator.actions.task_queue import queue_conninfo
from orchestrator.model import schema
from orchestrator.model.catalog import Catalog
from orchestrator.model.snapshot import read_catalog
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.fixtures.databases import PostgresServer, pg_create_database
from tests.fixtures.hosts import SshHost
from tests.fixtures.serve_nodes import NODE_OPTIONS, build_site, settled, start_node

PER_HOST, PER_STORE, WORKERS, SYSTEMS_PER_HOST = 2, 3, 3, 3
DEADLINE_SECONDS = 300.0  # a hang guard, not a timing: the bed shares 2 cores
ENCLAVE_HOST = "verify-1"  # the sandbox's verification enclave, which build_site keeps
VERIFY_WAITS = "queue: verify:all waits for a host or store slot"


def most_at_once(intervals: Iterable[tuple[float, float]]) -> int:
    """The largest number of (start, end) intervals open at one instant (an end at the same
    instant as a start closes first)."""
    spans = list(intervals)
    events = sorted([(end, -1) for _start, end in spans] + [(start, 1) for start, _end in spans])
    running = peak = 0
    for _moment, change in events:
        running += change
        peak = max(peak, running)
    return peak


def stop_nodes(nodes: list[subprocess.Popen[bytes]]) -> list[int | None]:
    """SIGTERM every node and wait for it; one that does not stop in 120 s is killed and
    its code is None (so the assertion shows the logs, not a timeout)."""
    for node in nodes:
        node.send_signal(signal.SIGTERM)
    codes: list[int | None] = []
    for node in nodes:
        try:
            codes.append(node.wait(timeout=120))
        except subprocess.TimeoutExpired:
            node.kill()
            node.wait()
            codes.append(None)
    return codes


def hold_host_slots(conninfo: str, host: str) -> psycopg.Connection[tuple[object, ...]]:
    """Take every slot of a host (PER_HOST of them) on a connection of the test's own;
    closing it lets them go."""
    connection = psycopg.connect(conninfo, autocommit=True)
    for slot in range(PER_HOST):
        connection.execute("SELECT pg_advisory_lock(%s, %s)", (slot_key(f"host:{host}"), slot))
    return connection


def due_keys(config_path: Path) -> list[str]:
    with open_runtime(load_site(config_path), writes=False) as runtime:
        due = plan_due(
            runtime.config, read_catalog(runtime.catalog), datetime.now(UTC), runtime.pack
        )
    return [job.key for job in due]


def verify_started(catalog: Catalog) -> list[tuple[str, float]]:
    """When each queued validity check (`due:verify`) and each sample check (`sample`)
    started: none means none began."""
    with catalog.begin() as connection:
        jobs = connection.execute(select(schema.jobs).where(schema.jobs.c.kind == "due:verify"))
        checks = connection.execute(
            select(schema.verifications).where(schema.verifications.c.kind == "sample")
        )
        return [(row.kind, row.started_at) for row in [*jobs, *checks]]


def wait_for(what: str, ready: Callable[[], bool], nodes: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not ready():
        assert all(node.poll() is None for node in nodes), "a node ended"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def test_most_at_once_counts_overlaps_only() -> None:
    assert most_at_once([(0, 2), (1, 3), (2, 4)]) == 2
    assert most_at_once([(0, 1), (1, 2)]) == 1
    assert most_at_once([(0, 9), (1, 2), (3, 4), (1.5, 3.5)]) == 3


def test_two_nodes_keep_the_per_host_and_per_store_bounds(
    tmp_path: Path, postgres_server: PostgresServer, sshd_host: SshHost, sshd_host_b: SshHost
) -> None:
    url = postgres_server.url(pg_create_database(postgres_server, f"b_{uuid.uuid4().hex[:8]}"))
    hosts = [sshd_host, sshd_host_b]
    config_path = build_site(tmp_path / "sb", hosts, url, 1, systems_per_host=SYSTEMS_PER_HOST)
    with open_runtime(load_site(config_path)):
        pass  # the catalog's tables, as `drctl catalog upgrade` makes them before nodes start
    catalog = Catalog(url)
    options: tuple[str, ...] = (*NODE_OPTIONS, "--workers", str(WORKERS))
    options += ("--per-host", str(PER_HOST), "--per-store", str(PER_STORE))
    logs = [tmp_path / f"node-{n}.log" for n in range(2)]
    holder = hold_host_slots(str(queue_conninfo(url)), ENCLAVE_HOST)
    nodes = [start_node(config_path, log, options) for log in logs]
    try:
        # The check comes due once the backups are in, and tries (and waits) at every pass.
        def waiting() -> bool:
            if verify_started(catalog):
                return True  # it did not wait: the assertion below says so at once
            output = "\n".join(log.read_text(errors="replace") for log in logs)
            return due_keys(config_path) == ["verify:all"] and VERIFY_WAITS in output

        wait_for("the check to wait for its host's slots", waiting, nodes)
        assert verify_started(catalog) == [], "the check started on a host without a free slot"
        released = time.time()
        holder.close()
        wait_for("the site to settle", lambda: settled(config_path, catalog), nodes)
    finally:
        holder.close()
        codes = stop_nodes(nodes)
    output = "\n".join(log.read_text(errors="replace") for log in logs)
    assert codes == [0, 0], output
    # Once the slots were free the check ran (its queued job and the sample check itself).
    started = verify_started(catalog)
    assert {kind for kind, _at in started} == {"due:verify", "sample"}, started
    assert min(at for _kind, at in started) >= released, (started, released)

    with catalog.begin() as connection:
        jobs = list(connection.execute(select(schema.jobs)))
        points = list(connection.execute(select(schema.recovery_points)))
    catalog.close()
    complete = Counter(p.system for p in points if p.status == "complete")
    assert len(complete) == 2 * SYSTEMS_PER_HOST and set(complete.values()) == {1}, complete
    # Every row of an action was written inside the slots it held (a skipped one too).
    held = [(j.subject, j.started_at, j.finished_at) for j in jobs if j.kind == "due:backup"]
    ran = [j for j in jobs if j.kind == "due:backup" and "message" in (j.detail or {})]
    assert sorted(j.subject for j in ran) == sorted(complete), [(j.subject, j.detail) for j in ran]
    sites = ("branch-0", "branch-1")  # one production host each
    per_host = {
        host: most_at_once((start, end) for subject, start, end in held if subject.startswith(host))
        for host in sites
    }
    on_store = most_at_once((start, end) for _subject, start, end in held)
    assert max(per_host.values()) <= PER_HOST and on_store <= PER_STORE, (per_host, on_store)
    # ... and the bounds were reached by backups that ran, so the test can fail both ways.
    reached = [
        most_at_once((j.started_at, j.finished_at) for j in ran if j.subject.startswith(h))
        for h in sites
    ]
    assert max(reached) == PER_HOST, reached
    assert most_at_once((j.started_at, j.finished_at) for j in ran) == PER_STORE
    # The bound held some backup back (it waited for a slot and ran at a later pass).
    assert re.search(r"queue: backup:\S+ waits for a host or store slot", output), output
