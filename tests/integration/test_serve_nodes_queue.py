"""Issue 12's bar: three `drctl serve` nodes share a PostgreSQL catalog and take the due work
from the procrastinate queue in its database (docs/deploy.md, "Several serve nodes").

30 directory datasets on three production hosts (real sshd on 127.0.0.1, Ansible over SSH),
one queued backup per dataset. The node running a backup is killed with SIGKILL mid-run: its
worker's heartbeat stops, a surviving node puts the stalled job back on the queue, another
node takes the dead holder's catalog lease over and finishes it. Every dataset ends with
exactly one complete recovery point, and `status --json` judges the same as a single
`run-due` pass of the same site on a catalog of its own.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from orchestrator.model import schema
from orchestrator.model.catalog import Catalog
from orchestrator.model.jobs import CRASH_MARK
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.fixtures.databases import PostgresServer, pg_create_database
from tests.fixtures.hosts import SshHost, sshd_running
from tests.fixtures.serve_nodes import (
    build_site,
    queue_jobs,
    resume,
    settled,
    start_node,
    stopped_in_backup,
)
from tests.integration.test_crash_safety import kill_hard

DATASETS_PER_HOST = 10
DEADLINE_SECONDS = 600.0  # a hang guard, not a timing: the bed shares 2 cores
POLL_SECONDS = 0.2


@pytest.fixture(scope="module")
def three_hosts(
    tmp_path_factory: pytest.TempPathFactory,
    ssh_client_key: Path,
    sshd_host: SshHost,
    sshd_host_b: SshHost,
) -> Iterator[list[SshHost]]:
    root = tmp_path_factory.mktemp("sshd-c")
    with sshd_running(root, "host-c", client_key=ssh_client_key) as third:
        yield [sshd_host, sshd_host_b, third]


def drctl_json(config_path: Path, *args: str) -> tuple[int, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "orchestrator", "-c", str(config_path), "--json", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    return result.returncode, json.loads(result.stdout) if result.stdout.strip() else result.stderr


def judged(config_path: Path) -> dict[str, Any]:
    """`status --json` without times: every finding's rule, subject and verdict."""
    code, document = drctl_json(config_path, "status")
    assert code in (0, 1), document
    return {
        "findings": sorted((f["rule"], f["subject"], f["status"]) for f in document["findings"]),
        "summary": document["summary"],
        "failing": sorted(document["failing"]),
        "undetermined": sorted(document["undetermined"]),
    }


def rows(catalog: Catalog, table: Any) -> list[Any]:
    with catalog.begin() as connection:
        return list(connection.execute(select(table)))


def wait_until(what: str, condition: Any, nodes: dict[int, subprocess.Popen[bytes]]) -> Any:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not (found := condition()):
        assert all(node.poll() is None for node in nodes.values()), f"a node ended before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(POLL_SECONDS)
    return found


def test_three_serve_nodes_back_up_every_dataset_once_through_a_node_kill(
    tmp_path: Path, postgres_server: PostgresServer, three_hosts: list[SshHost]
) -> None:
    url = postgres_server.url(pg_create_database(postgres_server, f"q_{uuid.uuid4().hex[:8]}"))
    config_path = build_site(tmp_path / "nodes" / "sb", three_hosts, url, DATASETS_PER_HOST)
    with open_runtime(load_site(config_path)):
        pass  # the catalog's tables, as `drctl catalog upgrade` makes them before nodes start
    catalog = Catalog(url)
    # The single-node result: the same site on a catalog of its own, one `run-due` pass,
    # run meanwhile to keep the wall time down.
    single = build_site(tmp_path / "single" / "sb", three_hosts, None, DATASETS_PER_HOST)
    reference = subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "-c", str(single), "run-due"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    logs = [tmp_path / f"node-{n}.log" for n in range(3)]
    nodes = {node.pid: node for node in (start_node(config_path, log) for log in logs)}
    try:
        victim = stopped_in_backup(
            catalog, nodes, lambda condition: wait_until("a node's backup", condition, nodes)
        )
        kill_hard(nodes.pop(victim.holder_pid))  # type: ignore[arg-type]
        resume(nodes.values())
        wait_until("the site to settle", lambda: settled(config_path, catalog), nodes)
    finally:
        for node in nodes.values():
            node.send_signal(signal.SIGTERM)
        resume(nodes.values())
        codes = [node.wait(timeout=120) for node in nodes.values()]
        out, _ = reference.communicate(timeout=600)
    assert codes == [0, 0], "\n".join(log.read_text(errors="replace") for log in logs)

    complete = [p for p in rows(catalog, schema.recovery_points) if p.status == "complete"]
    per_dataset = Counter((p.system, p.dataset) for p in complete)
    assert len(per_dataset) == 3 * DATASETS_PER_HOST and set(per_dataset.values()) == {1}
    # The killed node's action: recorded aborted by it, then finished under another node,
    # for the datasets the dead node had not recorded (none twice, per the count above).
    leases = [j for j in rows(catalog, schema.jobs) if j.kind == "due:backup"]
    [aborted] = [j for j in leases if j.state == "aborted"]
    assert aborted.holder_pid == victim.holder_pid and CRASH_MARK in aborted.error
    finished = [
        j
        for j in leases
        if j.subject == aborted.subject and j.state == "succeeded" and "message" in j.detail
    ]
    assert len(finished) == 1 and finished[0].holder_pid in nodes, finished
    assert finished[0].detail["datasets"], finished[0].detail
    # On the queue: the dead worker's job left `doing` (put back and run, or ended because
    # the same action already waited), and that action's job ran to its end on another node.
    queued = [
        (job.id, job.status, job.attempts)
        for job in queue_jobs(catalog)
        if job.args == {"kind": "backup", "system": aborted.subject}
    ]
    assert {status for _id, status, _attempts in queued} <= {"succeeded", "failed"}, queued
    assert any(status == "succeeded" for _id, status, _attempts in queued), queued

    assert reference.returncode == 0, out
    shared, alone = judged(config_path), judged(single)
    differ = set(shared["findings"]) ^ set(alone["findings"])
    assert shared == alone, sorted(differ)
    catalog.close()
