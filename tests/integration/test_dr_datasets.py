"""dr_datasets runs one action over datasets of every engine in one module execution, against
real files and real PostgreSQL and MariaDB servers: a backup keeps each dataset's failure its
own (spool removed, `failed:<name>` with the reason, the others backed up and hashed), a
restore stops at the dataset that fails, each client gets only its own dataset's password,
the argument spec refuses bad items before anything runs, and check mode touches nothing."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path
from typing import Any

from tests.fixtures.ansible_cli import run_module
from tests.fixtures.databases import (
    MariaDbServer,
    PostgresServer,
    mariadb_create_database,
    mariadb_sql,
    pg_create_database,
    psql,
)

PG_SECRET, MARIA_SECRET = "DR_TEST_PG_PW", "DR_TEST_MARIA_PW"


def secrets_env(postgres: PostgresServer, mariadb: MariaDbServer) -> dict[str, str]:
    """The task environment the datasets role gives the module (one entry per password_env)."""
    return {
        f"DR_DATASETS_PASSWORD_{PG_SECRET}": postgres.password,
        f"DR_DATASETS_PASSWORD_{MARIA_SECRET}": mariadb.password,
    }


def tree_state(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def make_sources(root: Path) -> tuple[Path, Path]:
    tree = root / "config"
    (tree / "sub").mkdir(parents=True)
    (tree / "app.conf").write_text("listen = 8443\n")
    (tree / "sub" / "limits.conf").write_text("max = 5\n")
    ledger = root / "ledger.db"
    connection = sqlite3.connect(ledger)
    connection.executescript(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a');"
    )
    connection.commit()
    connection.close()
    return tree, ledger


def path_items(tree: Path, ledger: Path, spool: Path) -> list[dict[str, Any]]:
    """The files and SQLite items of the sources make_sources wrote, spooled under spool."""
    return [
        {"name": "config", "engine": "files", "live_path": str(tree), "spool": f"{spool}/config"},
        {
            "name": "ledger",
            "engine": "sqlite",
            "live_path": str(ledger),
            "spool": f"{spool}/ledger",
        },
    ]


def datasets(
    root: Path, postgres: PostgresServer, mariadb: MariaDbServer, pg_db: str, maria_db: str
) -> list[dict[str, Any]]:
    tree, ledger = make_sources(root / "live")
    spool = root / "spool"
    return [
        *path_items(tree, ledger, spool),
        {
            "name": "core",
            "engine": "postgresql",
            "database": pg_db,
            "user": postgres.superuser,
            "password_env": PG_SECRET,
            "spool": f"{spool}/core",
        },
        {
            "name": "cards",
            "engine": "mariadb",
            "database": maria_db,
            "user": mariadb.user,
            "password_env": MARIA_SECRET,
            "spool": f"{spool}/cards",
        },
    ]


def servers(postgres: PostgresServer, mariadb: MariaDbServer) -> dict[str, Any]:
    return {
        "postgresql": {
            "host": postgres.host,
            "port": postgres.port,
            "bin_dir": str(postgres.bin_dir),
        },
        "mariadb": {"host": mariadb.host, "port": mariadb.port},
    }


def by_name(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        item["dr_result"]["name"]: item["dr_result"]
        for item in result["results"]
        if "dr_result" in item
    }


def new_databases(postgres: PostgresServer, mariadb: MariaDbServer, tag: str) -> tuple[str, str]:
    pg_db, maria_db = f"ds_{tag}_{os.getpid()}", f"ds_{tag}_{os.getpid()}"
    pg_create_database(postgres, pg_db)
    psql(
        postgres,
        "CREATE TABLE accounts (id integer PRIMARY KEY, c bigint);"
        " INSERT INTO accounts VALUES (1, 5);",
        pg_db,
    )
    mariadb_create_database(mariadb, maria_db)
    mariadb_sql(
        mariadb,
        "CREATE TABLE accounts (id int PRIMARY KEY, c bigint); INSERT INTO accounts VALUES (1, 7);",
        maria_db,
    )
    return pg_db, maria_db


def test_one_run_backs_up_every_engine_and_keeps_each_failure_its_own(
    tmp_path: Path, postgres_server: PostgresServer, mariadb_server: MariaDbServer
) -> None:
    pg_db, maria_db = new_databases(postgres_server, mariadb_server, "bk")
    items = datasets(tmp_path, postgres_server, mariadb_server, pg_db, maria_db)
    broken = [
        {
            "name": "gone",
            "engine": "files",
            "live_path": str(tmp_path / "no-such-tree"),
            "spool": str(tmp_path / "elsewhere" / "gone"),
        },
        {
            "name": "nodb",
            "engine": "mariadb",
            "database": "no_such_db",
            "user": mariadb_server.user,
            "password_env": MARIA_SECRET,
            "spool": str(tmp_path / "elsewhere" / "nodb"),
        },
    ]
    # Leftovers of an earlier run: in the spool root (removed first), and in the spools of
    # the failing datasets, kept elsewhere so that only their failure removes them.
    (tmp_path / "spool").mkdir()
    (tmp_path / "spool" / "interrupted").write_text("old")
    for item in broken:
        Path(item["spool"], "data").mkdir(parents=True)
        Path(item["spool"], "data", "stale").write_text("old")
    args = {
        "action": "backup",
        "spool_root": str(tmp_path / "spool"),
        "datasets": [broken[0], *items, broken[1]],
        **servers(postgres_server, mariadb_server),
    }
    result = run_module(
        "dr_datasets", args, check=False, env=secrets_env(postgres_server, mariadb_server)
    )
    assert not result["failed"], result
    assert result["failed_datasets"] == ["gone", "nodb"]
    results = by_name(result)
    assert result["results"][0]["dr_result"]["name"] == "wipe:spool"
    assert results["wipe:spool"]["removed"] == [str(tmp_path / "spool")]
    assert not (tmp_path / "spool" / "interrupted").exists()
    for item in broken:
        failed = results[f"failed:{item['name']}"]
        assert failed["task"].startswith(f"dump of {item['name']}") and failed["error"], failed
        assert failed["removed"] == [item["spool"]] and not Path(item["spool"]).exists()
    assert "does not exist" in results["failed:gone"]["error"]
    assert "no_such_db" in results["failed:nodb"]["error"]
    for item in items:
        name, data = item["name"], Path(item["spool"], "data")
        assert results[f"dump:{name}"]["exists"] is True
        artifacts = results[f"artifacts:{name}"]["files"]
        assert {entry["path"]: entry["digest"] for entry in artifacts} == tree_state(data)
    assert results["dump:config"]["fingerprint"]["objects"]["tree"]["files"] == 2
    assert results["dump:core"]["fingerprint"]["objects"]["accounts"]["rows"] == 1
    assert results["dump:cards"]["fingerprint"]["objects"]["accounts"]["rows"] == 1
    assert sorted(tree_state(Path(items[2]["spool"], "data"))) == [
        f"{pg_db}.fingerprint.json",
        f"{pg_db}.pgdump",
    ]


def test_each_database_client_gets_only_its_own_password(
    tmp_path: Path, postgres_server: PostgresServer, mariadb_server: MariaDbServer
) -> None:
    pg_db, maria_db = new_databases(postgres_server, mariadb_server, "pw")
    items = datasets(tmp_path, postgres_server, mariadb_server, pg_db, maria_db)[2:]
    args = {"action": "fingerprint", "datasets": items, **servers(postgres_server, mariadb_server)}
    env = secrets_env(postgres_server, mariadb_server)
    done = run_module("dr_datasets", args, check=False, env=env)
    assert not done["failed"], done
    assert set(by_name(done)) == {"fingerprint:core", "fingerprint:cards"}
    # PostgreSQL's password under MariaDB's name: MariaDB refuses it, PostgreSQL never sees it.
    swapped = {f"DR_DATASETS_PASSWORD_{MARIA_SECRET}": postgres_server.password}
    refused = run_module("dr_datasets", dict(args, datasets=items[::-1]), check=False, env=swapped)
    assert refused["failed"] and "fingerprint of cards" in refused["msg"]
    # Not given at all: the step says so before connecting, and names the variable.
    missing = run_module("dr_datasets", args, check=False, env={})
    assert (
        missing["failed"]
        and f"{PG_SECRET} (the dataset's password_env) is not set" in missing["msg"]
    )


def test_a_restore_stops_at_the_dataset_that_fails_and_touches_none_after_it(
    tmp_path: Path,
) -> None:
    tree, ledger = make_sources(tmp_path / "live")
    spooled_tree, spooled_ledger = make_sources(tmp_path / "spooled")
    (spooled_tree / "app.conf").write_text("listen = 9000\n")
    spool = tmp_path / "spool"
    (spool / "config").mkdir(parents=True)
    os.rename(spooled_tree, spool / "config" / "data")
    (spool / "ledger" / "data").mkdir(parents=True)
    os.rename(spooled_ledger, spool / "ledger" / "data" / "ledger.db")
    config, ledger_item = path_items(tree, ledger, spool)
    lost = {"name": "lost", "engine": "files", "live_path": str(tmp_path / "x")}
    items = [config, {**lost, "spool": str(spool / "lost")}, ledger_item]
    before = ledger.read_bytes()
    args = {"action": "restore", "datasets": items, "spool_root": str(spool)}
    result = run_module("dr_datasets", args, check=False)
    assert (
        result["failed"] and f"directory {spool / 'lost' / 'data'} does not exist" in result["msg"]
    )
    assert (tree / "app.conf").read_text() == "listen = 9000\n"  # the one before it: restored
    assert ledger.read_bytes() == before  # the one after it: untouched
    assert (spool / "ledger" / "data" / "ledger.db").is_file()  # the spool kept for a retry
    # Without the lost one every dataset is restored, and only then is the spool removed.
    done = run_module("dr_datasets", dict(args, datasets=items[::2]), check=False)
    assert [item["dr_result"]["name"] for item in done["results"]] == [
        "restore:config",
        "restore:ledger",
        "wipe:spool",
    ]
    assert not spool.exists() and done["results"][2]["dr_result"]["removed"] == [str(spool)]


def test_the_argument_spec_refuses_bad_items_before_anything_runs(tmp_path: Path) -> None:
    tree, _ledger = make_sources(tmp_path / "live")
    ok = {"name": "config", "engine": "files", "live_path": str(tree)}
    cases = {
        "unknown engine": ({"name": "o", "engine": "oracle"}, "value of engine must be one of"),
        "no live path": (
            {"name": "f", "engine": "files"},
            "engine is files but all of the following are missing: live_path",
        ),
        "no database": (
            {"name": "p", "engine": "postgresql"},
            "engine is postgresql but all of the following are missing: database",
        ),
        "unknown key": ({**ok, "name": "u", "passwd": "x"}, "Unsupported parameters"),
    }
    for case, (item, message) in cases.items():
        refused = run_module(
            "dr_datasets", {"action": "destroy", "datasets": [ok, item]}, check=False
        )
        assert refused["failed"] and message in refused["msg"], (case, refused)
        assert tree_state(tree), case  # the valid item before it was not destroyed
    no_spool = run_module("dr_datasets", {"action": "backup", "datasets": [ok]}, check=False)
    assert no_spool["failed"] and "none for: config" in no_spool["msg"]


def test_check_mode_backs_up_restores_and_destroys_nothing(tmp_path: Path) -> None:
    tree, ledger = make_sources(tmp_path / "live")
    spool = tmp_path / "spool"
    items = path_items(tree, ledger, spool)
    before = tree_state(tmp_path)
    for action in ("backup", "destroy"):
        preview = run_module("dr_datasets", {"action": action, "datasets": items}, check=True)
        assert not preview["failed"] and preview["changed"] is True, preview
        assert all("dr_result" not in item for item in preview["results"]), preview
        assert tree_state(tmp_path) == before and not spool.exists(), action
    [files_preview, sqlite_preview] = run_module(
        "dr_datasets", {"action": "backup", "datasets": items}, check=True
    )["results"]
    assert files_preview["msg"] == f"would copy the 2 files of {tree} into {spool}/config/data"
    assert sqlite_preview["msg"] == f"would copy {ledger} into {spool}/ledger/data/ledger.db"
    fingerprint = {"action": "fingerprint", "datasets": items}
    checked = run_module("dr_datasets", fingerprint, check=True)
    real = run_module("dr_datasets", fingerprint, check=False)
    assert checked["changed"] is False and checked["results"] == real["results"]
    destroyed = run_module("dr_datasets", {"action": "destroy", "datasets": items}, check=False)
    assert set(by_name(destroyed)) == {"destroy:config", "destroy:ledger"}
    assert not tree.exists() and not ledger.exists()
