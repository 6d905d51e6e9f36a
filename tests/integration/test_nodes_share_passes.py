"""Several drctl nodes share one PostgreSQL catalog and run `run-due` at the same time
(docs/deploy.md, "Two sites"): the catalog's job leases let one node run each job, the others
skip it, and when the node running the backup is killed with SIGKILL the next pass of a
surviving node records that job aborted and runs it again (or a survivor's pass that had
not reached the backup yet takes the dead holder's lease over and runs it). Every dataset
ends with exactly one complete recovery point for the day.

Real services: a PostgreSQL server (the catalog) and a sandbox site (ansible-runner, SQLite
and directory datasets, directory stores). The three nodes are three processes on this
machine, so a dead holder is recognised by its process at once; nodes on other hosts wait for
the lease to expire (120 s), which model/lease.py's tests cover.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.actions.workload import run_workload
from orchestrator.model import schema
from orchestrator.model.catalog import Catalog
from orchestrator.model.jobs import CRASH_MARK
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.fixtures.databases import PostgresServer, pg_create_database
from tests.fixtures.serve_nodes import resume, stopped_in_backup
from tests.integration.test_crash_safety import (
    MARKER_TIMEOUT_SECONDS,
    POLL_SECONDS,
    drctl,
    finish,
    kill_hard,
)

SYSTEM = "core-banking"


def site_on_postgresql(base: Path, server: PostgresServer) -> tuple[Path, str]:
    """A sandbox whose catalog is a fresh PostgreSQL database, with data to back up."""
    config_path = prepare_sandbox(base)
    document = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    url = server.url(pg_create_database(server, f"nodes_{uuid.uuid4().hex[:8]}"))
    document["catalog_url"] = url
    config_path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with open_runtime(load_site(config_path)) as runtime:
        run_workload(runtime, SYSTEM, "production", "ledger", postings=40, seed=1)
    return config_path, url


def rows(catalog: Catalog, table: Any) -> list[Any]:
    with catalog.begin() as connection:
        return list(connection.execute(select(table)))


def test_nodes_share_the_passes_and_a_killed_nodes_backup_is_run_once_by_another(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    config_path, url = site_on_postgresql(tmp_path / "sb", postgres_server)
    catalog = Catalog(url)
    nodes = {node.pid: node for node in (drctl(config_path, "run-due") for _ in range(3))}

    deadline = time.monotonic() + MARKER_TIMEOUT_SECONDS

    def wait(condition: Callable[[], Any]) -> None:
        while not condition():
            assert time.monotonic() < deadline, "no node took the backup"
            assert all(node.poll() is None for node in nodes.values()), "a node ended first"
            time.sleep(POLL_SECONDS)

    try:
        holder = int(stopped_in_backup(catalog, nodes, wait).holder_pid)
        kill_hard(nodes.pop(holder))
    finally:
        resume(nodes.values())
    printed = ""
    for node in nodes.values():
        code, out, err = finish(node)
        assert code == 0, out + err
        printed += out
    # The next pass of a surviving node. Whichever node came to the backup after the kill (a
    # survivor's pass that had not reached it yet takes the dead holder's lease over; else
    # this pass, which first releases the dead holder's jobs) ran it, once.
    code, out, err = finish(drctl(config_path, "run-due"))
    assert code == 0, out + err
    assert (printed + out).count("succeeded   backup core-banking") == 1, printed + out

    backups = [job for job in rows(catalog, schema.jobs) if job.kind == "backup"]
    assert Counter(job.state for job in backups) == {"aborted": 1, "succeeded": 1}
    [aborted] = [job for job in backups if job.state == "aborted"]
    assert aborted.holder_pid == holder and CRASH_MARK in aborted.error
    complete = [p for p in rows(catalog, schema.recovery_points) if p.status == "complete"]
    per_dataset = Counter((p.system, p.dataset) for p in complete)
    assert len(per_dataset) == 5 and set(per_dataset.values()) == {1}, per_dataset
    code, plan, err = finish(drctl(config_path, "run-due", "--plan"))
    assert code == 0 and "due: backup" not in plan, plan + err
    catalog.close()
