"""Issue 12: "nodes at the DR site keep scheduling when the production site's nodes are gone".

Two `drctl serve` nodes stand for the production site and one for the DR site, all on one
PostgreSQL catalog (the catalog's own failover is PostgreSQL's, docs/deploy.md). Once a
production node is running a backup, every production node is killed with SIGKILL at once;
the DR node alone must then put the dead workers' jobs back, plan and run what is still due,
and finish with exactly one complete recovery point per dataset.
"""

from __future__ import annotations

import signal
import subprocess
import uuid
from collections import Counter
from pathlib import Path

from orchestrator.model import schema
from orchestrator.model.catalog import Catalog
from orchestrator.model.jobs import CRASH_MARK
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.fixtures.databases import PostgresServer, pg_create_database
from tests.fixtures.hosts import SshHost
from tests.fixtures.serve_nodes import (
    build_site,
    resume,
    settled,
    start_node,
    stopped_in_backup,
)
from tests.integration.test_crash_safety import kill_hard
from tests.integration.test_serve_nodes_queue import rows, wait_until

DATASETS_PER_HOST = 3


def test_the_dr_node_finishes_the_work_when_every_production_node_is_killed(
    tmp_path: Path, postgres_server: PostgresServer, sshd_host: SshHost, sshd_host_b: SshHost
) -> None:
    url = postgres_server.url(pg_create_database(postgres_server, f"s_{uuid.uuid4().hex[:8]}"))
    hosts = [sshd_host, sshd_host_b]
    config_path = build_site(tmp_path / "sb", hosts, url, DATASETS_PER_HOST)
    with open_runtime(load_site(config_path)):
        pass  # the catalog's tables, as `drctl catalog upgrade` makes them before nodes start
    catalog = Catalog(url)
    logs = {name: tmp_path / f"{name}.log" for name in ("prod-1", "prod-2", "dr-1")}
    nodes = {name: start_node(config_path, log) for name, log in logs.items()}
    production = {nodes[name].pid: nodes[name] for name in ("prod-1", "prod-2")}
    survivor: dict[int, subprocess.Popen[bytes]] = {nodes["dr-1"].pid: nodes["dr-1"]}
    try:
        victim = stopped_in_backup(
            catalog,
            production,
            lambda condition: wait_until("a production node's backup", condition, survivor),
        )
        for node in production.values():
            kill_hard(node)  # type: ignore[arg-type]
        wait_until(
            "the DR node to settle the site", lambda: settled(config_path, catalog), survivor
        )
    finally:
        for node in nodes.values():
            if node.poll() is None:
                node.send_signal(signal.SIGTERM)
        resume(nodes.values())
        code = nodes["dr-1"].wait(timeout=120)
    assert code == 0, logs["dr-1"].read_text(errors="replace")

    complete = [p for p in rows(catalog, schema.recovery_points) if p.status == "complete"]
    per_dataset = Counter((p.system, p.dataset) for p in complete)
    assert len(per_dataset) == 2 * DATASETS_PER_HOST and set(per_dataset.values()) == {1}
    leases = [j for j in rows(catalog, schema.jobs) if j.kind == "due:backup"]
    aborted = [j for j in leases if j.state == "aborted"]
    assert {j.holder_pid for j in aborted} <= set(production) and victim.holder_pid in {
        j.holder_pid for j in aborted
    }, aborted
    assert all(CRASH_MARK in j.error for j in aborted)
    # Every action a production node died in was run to its end by the DR node afterwards.
    dr_pid = nodes["dr-1"].pid
    for dead in aborted:
        finished = [
            j
            for j in leases
            if j.subject == dead.subject and j.state == "succeeded" and "message" in j.detail
        ]
        assert [j.holder_pid for j in finished] == [dr_pid], finished
        assert finished[0].started_at > dead.started_at
    catalog.close()
