"""Check mode tells the truth: each module that changes something, run with --check against
real files and real PostgreSQL and MariaDB servers, touches nothing and predicts the `changed`
that a real run then reports."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.ansible_cli import run_module
from tests.fixtures.databases import (
    MariaDbServer,
    PostgresServer,
    mariadb_create_database,
    mariadb_sql,
    pg_create_database,
    psql,
)


def tree_state(root: Path) -> dict[str, str]:
    """Return {relative path: sha256} of every file under root ({} when root is missing)."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def check_then_run(module: str, args: dict[str, Any], state: Callable[[], Any]) -> dict[str, Any]:
    """Run module in check mode (state must not move), then for real (changed must be what
    check mode said); return the real result."""
    before = state()
    preview = run_module(module, args, check=True)
    assert not preview.get("failed"), preview
    assert state() == before, f"check mode of {module} {args} changed something"
    assert "dr_result" not in preview or module == "dr_artifacts", preview
    done = run_module(module, args, check=False)
    assert not done.get("failed"), done
    assert done["changed"] == preview["changed"], (preview, done)
    return done


def make_tree(root: Path, marker: str) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "a.conf").write_text(f"a {marker}\n")
    (root / "sub" / "b.conf").write_text(f"b {marker}\n")
    return root


def test_dr_wipe_check_mode_predicts_removal_and_removes_nothing(tmp_path: Path) -> None:
    target = make_tree(tmp_path / "spool", "x")
    args = {"paths": [str(target), str(tmp_path / "absent")], "purpose": "spool"}
    preview = run_module("dr_wipe", args, check=True)
    assert preview["changed"] is True and preview["would_remove"] == [str(target)]
    done = check_then_run("dr_wipe", args, lambda: tree_state(target))
    assert done["dr_result"]["removed"] == [str(target)] and not target.exists()
    again = run_module("dr_wipe", args, check=True)
    assert again["changed"] is False and again["would_remove"] == []


def test_dr_files_check_mode_copies_and_replaces_nothing(tmp_path: Path) -> None:
    live = make_tree(tmp_path / "live", "old")
    spool = make_tree(tmp_path / "spool", "new")
    dump_args = {
        "action": "dump",
        "dataset": "config",
        "src": str(live),
        "dest": str(tmp_path / "d"),
    }
    check_then_run("dr_files", dump_args, lambda: tree_state(tmp_path))
    assert tree_state(tmp_path / "d") == tree_state(live)

    restore_args = {"action": "restore", "dataset": "config", "src": str(spool), "dest": str(live)}
    preview = run_module("dr_files", restore_args, check=True)
    assert f"would replace {live}" in preview["msg"]
    check_then_run("dr_files", restore_args, lambda: tree_state(tmp_path))
    assert tree_state(live) == tree_state(spool)

    # A restore from a missing source fails, in check mode and for real, and keeps the tree.
    missing = dict(restore_args, src=str(tmp_path / "no-such-spool"))
    for check in (True, False):
        refused = run_module("dr_files", missing, check=check)
        assert refused.get("failed") and "does not exist" in refused["msg"]
    assert tree_state(live) == tree_state(spool)


def make_ledger(path: Path, balance: int) -> Path:
    connection = sqlite3.connect(path)
    connection.executescript(
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance_cents INTEGER NOT NULL);"
        f"INSERT INTO accounts VALUES (1, {balance}), (2, 5);"
    )
    connection.commit()
    connection.close()
    return path


def test_dr_sqlite_check_mode_copies_and_replaces_nothing(tmp_path: Path) -> None:
    live = make_ledger(tmp_path / "live.db", 100)
    spooled = make_ledger(tmp_path / "spooled.db", 999)
    dest = tmp_path / "spool" / "copy.db"
    dump_args = {"action": "dump", "dataset": "ledger", "src": str(live), "dest": str(dest)}
    check_then_run("dr_sqlite", dump_args, lambda: tree_state(tmp_path))
    assert dest.is_file()
    restore_args = {
        "action": "restore",
        "dataset": "ledger",
        "src": str(spooled),
        "dest": str(live),
    }
    done = check_then_run("dr_sqlite", restore_args, lambda: tree_state(tmp_path))
    assert live.read_bytes() == spooled.read_bytes() and done["dr_result"]["exists"] is True


def test_fingerprint_and_artifacts_read_the_same_in_check_mode(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree", "x")
    ledger = make_ledger(tmp_path / "ledger.db", 7)
    for module, args in (
        ("dr_files", {"action": "fingerprint", "dataset": "t", "path": str(tree)}),
        ("dr_sqlite", {"action": "fingerprint", "dataset": "l", "path": str(ledger)}),
        ("dr_artifacts", {"dataset": "t", "path": str(tree)}),
    ):
        checked = run_module(module, args, check=True)
        real = run_module(module, args, check=False)
        assert checked["changed"] is False and real["changed"] is False
        assert checked["dr_result"] == real["dr_result"] and real["dr_result"]


def test_dr_ledger_check_mode_writes_no_postings(tmp_path: Path) -> None:
    path = tmp_path / "ledger" / "ledger.db"
    seed = {"action": "seed", "path": str(path), "accounts": 10, "postings": 50, "seed": 3}
    check_then_run("dr_ledger", seed, lambda: tree_state(tmp_path))
    post = {"action": "post", "path": str(path), "postings": 20}
    done = check_then_run("dr_ledger", post, lambda: tree_state(tmp_path))
    assert done["dr_result"]["postings"] == 70
    missing = run_module("dr_ledger", dict(post, path=str(tmp_path / "none.db")), check=True)
    assert missing.get("failed") and "does not exist" in missing["msg"]


class Database:
    """One real server for the database modules: how to reach it, seed it and look at it."""

    def __init__(self, engine: str, server: PostgresServer | MariaDbServer) -> None:
        self.engine, self.server = engine, server

    @property
    def module(self) -> str:
        return f"dr_{self.engine}"

    def args(self, action: str, database: str, **extra: Any) -> dict[str, Any]:
        server = self.server
        user = server.superuser if isinstance(server, PostgresServer) else server.user
        base = {"action": action, "dataset": "ledger", "database": database}
        base.update(host=server.host, port=server.port, user=user, password_env="DR_TEST_PW")
        if isinstance(server, PostgresServer):
            base["bin_dir"] = str(server.bin_dir)
        return {**base, **extra}

    def sql(self, statement: str, database: str | None = None) -> str:
        if isinstance(self.server, PostgresServer):
            return psql(self.server, statement, database or "postgres")
        return mariadb_sql(self.server, statement, database)

    def create(self, name: str) -> str:
        if isinstance(self.server, PostgresServer):
            pg_create_database(self.server, name)
        else:
            mariadb_create_database(self.server, name)
        self.sql(
            "CREATE TABLE accounts (id integer PRIMARY KEY, balance_cents bigint NOT NULL);"
            "INSERT INTO accounts VALUES (1, 100), (2, 250);",
            name,
        )
        return name

    def databases(self) -> list[str]:
        if isinstance(self.server, PostgresServer):
            listed = self.sql("SELECT datname FROM pg_database ORDER BY datname;")
        else:
            listed = self.sql("SHOW DATABASES;")
        return sorted(listed.split())

    def state(self, name: str) -> tuple[list[str], str]:
        """Every database's name, and name's rows (empty when it does not exist)."""
        names = self.databases()
        if name not in names:
            return names, ""
        rows = self.sql("SELECT id, balance_cents FROM accounts ORDER BY id;", name)
        return names, rows.replace("\t", "|")

    @property
    def env(self) -> dict[str, str]:
        variable = "PGPASSWORD" if isinstance(self.server, PostgresServer) else "MYSQL_PWD"
        return {variable: self.server.password}


@pytest.fixture(params=["postgresql", "mariadb"])
def database(request: pytest.FixtureRequest) -> Database:
    fixture = "postgres_server" if request.param == "postgresql" else "mariadb_server"
    return Database(request.param, request.getfixturevalue(fixture))


def test_database_modules_check_mode_dumps_restores_and_drops_nothing(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in database.env.items():
        monkeypatch.setenv(key, value)  # the task environment of a role, as ansible gives it
    name = database.create(f"chk_{database.engine}_{os.getpid()}")
    dump = tmp_path / "spool" / f"{name}.dump"
    fingerprint = tmp_path / "spool" / f"{name}.fingerprint.json"
    files = (dump, fingerprint)
    dump_args = database.args("dump", name, dest=str(dump), fingerprint_file=str(fingerprint))
    check_then_run(database.module, dump_args, lambda: [p.exists() for p in files])
    assert dump.is_file() and fingerprint.is_file()

    database.sql("UPDATE accounts SET balance_cents = 1 WHERE id = 2;", name)
    changed_rows = database.state(name)
    restore_args = database.args("restore", name, src=str(dump), fingerprint_file=str(fingerprint))
    preview = run_module(database.module, restore_args, check=True)
    assert (
        preview["changed"] is True
        and "put it in place of the existing database" in (preview["msg"])
    )
    assert database.state(name) == changed_rows  # no scratch database left, no row restored
    check_then_run(database.module, restore_args, lambda: database.state(name))
    assert database.state(name)[1] == "1|100\n2|250\n"

    destroy_args = database.args("destroy", name)
    check_then_run(database.module, destroy_args, lambda: database.state(name))
    assert name not in database.databases()
    gone = run_module(database.module, destroy_args, check=True)
    assert gone["changed"] is False and "nothing to drop" in gone["msg"]

    missing = run_module(database.module, database.args("dump", name, dest=str(dump)), check=True)
    assert missing.get("failed") and f"database {name} does not exist" in missing["msg"]


def test_dr_pg_ledger_check_mode_writes_nothing(
    postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGPASSWORD", postgres_server.password)
    database = Database("postgresql", postgres_server)
    name = f"chk_ledger_{os.getpid()}"
    pg_create_database(postgres_server, name)
    args = database.args("seed", name, accounts=20, postings=100, seed=5)
    del args["dataset"]
    tables = "SELECT count(*) FROM pg_tables WHERE tablename IN ('accounts', 'postings');"
    check_then_run("dr_pg_ledger", args, lambda: psql(postgres_server, tables, name))
    count = "SELECT count(*) FROM postings;"
    post = dict(args, action="post", postings=30)
    done = check_then_run("dr_pg_ledger", post, lambda: psql(postgres_server, count, name))
    assert done["dr_result"]["postings"] == 130
    preview = run_module("dr_pg_ledger", post, check=True)
    assert "would write 30 postings to the 20 accounts" in preview["msg"]
