"""`drctl catalog upgrade` also makes and checks the task queue's schema (procrastinate's) in
a PostgreSQL catalog's database (docs/deploy.md, "The queue's schema"); on SQLite there is
no queue and nothing to do. A queue schema from an older procrastinate is refused, by
`catalog upgrade` and by `serve`, with exit 2 naming procrastinate's migrations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import yaml

from orchestrator.actions.sandbox import prepare_sandbox
from tests.fixtures.databases import PostgresServer, pg_create_database

ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}


def drctl(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "orchestrator", "-c", str(config), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=ENV)


def upgrade_json(config: Path, *args: str) -> dict[str, object]:
    result = drctl(config, "--json", "catalog", "upgrade", *args)
    assert result.returncode == 0, result.stderr
    document: dict[str, object] = json.loads(result.stdout)
    return document


def queue_table(url: str) -> object:
    with psycopg.connect(url) as connection:
        row = connection.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
    return None if row is None else row[0]


def test_catalog_upgrade_makes_and_checks_the_queue_schema(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    config = prepare_sandbox(tmp_path / "sb")
    assert upgrade_json(config)["queue"] is None  # SQLite: no queue
    url = postgres_server.url(pg_create_database(postgres_server, f"qs_{uuid.uuid4().hex[:8]}"))
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    document["catalog_url"] = url
    config.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")

    assert upgrade_json(config, "--dry-run")["queue"] == "absent"
    assert queue_table(url) is None  # the dry run made nothing
    assert upgrade_json(config)["queue"] == "applied"
    assert queue_table(url) == "procrastinate_jobs"
    again = upgrade_json(config)
    assert again["queue"] == "current" and again["from"] == again["to"]
    assert upgrade_json(config, "--dry-run")["queue"] == "current"

    # A queue schema from before procrastinate 3.4 (which added this function).
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("DROP FUNCTION procrastinate_retry_job_v2")
    for command in (("catalog", "upgrade"), ("catalog", "upgrade", "--dry-run")):
        refused = drctl(config, *command)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "procrastinate_retry_job_v2" in refused.stderr, refused.stderr
        assert "procrastinate schema --migrations-path" in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
        assert postgres_server.password not in refused.stderr
    served = drctl(config, "serve", "--listen", "")
    assert served.returncode == 2 and "migrations-path" in served.stderr, served.stderr
    assert "Traceback" not in served.stderr
