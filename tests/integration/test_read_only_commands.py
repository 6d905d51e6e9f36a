"""Commands that only read write nothing, on real sites (sshd, PostgreSQL, MariaDB,
SeaweedFS S3): after a backup and a copy off site, `status`, `check-config` (with
`--connect` and `--scenario`), `verify --plan`, `plan switchover` (not recorded), `catalog
rebuild --dry-run` and the `--dry-run` of `backup`, `copy-offsite` and
`drill run` leave every server's next transaction id (no transaction that wrote: PostgreSQL's
`pg_snapshot_xmax`, which reading does not move), every database's dump, every object in the
stores and every file of the sites, the catalog and the evidence byte for byte as they were.
`retention --dry-run` writes one row, its own job's, into drctl's catalog, and nothing else.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import boto3
import pytest

from orchestrator.cli import main
from tests.fixtures.databases import (
    MariaDbServer,
    PostgresServer,
    autovacuum_off,
    mariadb_sql,
    psql,
)
from tests.fixtures.real_site import build_config, new_database_name
from tests.integration.test_drill_real_site import (
    SITE_FAILOVER,
    SWITCHOVER,
    mariadb_dump_text,
    operator_corebank,
    pg_dump_text,
    run_cli,
    shanghai_today,
)
from tests.integration.test_real_site import (  # noqa: F401 - fixtures used by name
    db_password,
    mariadb_sites,
    passwords,
    pg_sites,
    s3_stores,
    seed_mariadb_cards,
    site_beds,
)

NEXT_XID = "SELECT pg_snapshot_xmax(pg_current_snapshot());"


def files_digest(root: Path) -> dict[str, str]:
    """Return every file under root (the sites, the state, the evidence) and its sha256."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


def store_objects(stores: dict[str, dict[str, object]]) -> dict[str, list[tuple[str, str]]]:
    """Return every object version (key, ETag) in each store's bucket."""
    session = boto3.session.Session(profile_name=None)
    found = {}
    for name, store in stores.items():
        bucket = str(store["url"]).removeprefix("s3://").split("/", 1)[0]
        profile = boto3.session.Session(profile_name=str(store["profile"]))
        client = profile.client(
            "s3", endpoint_url=str(store["endpoint_url"]), region_name=str(store["region"])
        )
        versions = client.list_object_versions(Bucket=bucket).get("Versions", [])
        found[name] = sorted((v["Key"], v["ETag"]) for v in versions)
    del session
    return found


def snapshot(
    root: Path,
    pg: tuple[PostgresServer, ...],
    maria: tuple[MariaDbServer, ...],
    databases: dict[str, str],
    stores: dict[str, dict[str, object]],
) -> dict[str, Any]:
    return {
        "xids": [psql(server, NEXT_XID) for server in pg],
        "pg": [pg_dump_text(server, databases["ledger"]) for server in pg[:1]],
        "maria": [mariadb_dump_text(server, databases["cards"]) for server in maria[:1]],
        "files": files_digest(root),
        "stores": store_objects(stores),
    }


def test_commands_that_only_read_change_nothing_anywhere(
    tmp_path: Path,
    sshd_host: Any,
    sshd_host_b: Any,
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    mariadb_sites: tuple[MariaDbServer, MariaDbServer],  # noqa: F811
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    (pg_prod, _), (maria_prod, _) = pg_sites, mariadb_sites
    databases = {
        "ledger": operator_corebank(pg_prod, new_database_name("corebank")),
        "cards": new_database_name("cards"),
    }
    mariadb_sql(maria_prod, f"CREATE DATABASE `{databases['cards']}` CHARACTER SET utf8mb4;")
    seed_mariadb_cards(maria_prod, databases["cards"])
    config = str(
        build_config(
            tmp_path,
            site_beds(sshd_host, sshd_host_b, pg=pg_sites, maria=mariadb_sites),
            stores=s3_stores,
            databases=databases,
        )
    )
    assert main(["-c", config, "backup"]) == 0
    assert main(["-c", config, "copy-offsite"]) == 0
    assert main(["-c", config, "status"]) in (0, 1)  # the catalog is opened (and upgraded) once
    today = shanghai_today()
    commands = [
        ("status",),
        ("--json", "status"),
        ("check-config",),
        ("check-config", "--connect"),
        ("check-config", "--scenario", str(SITE_FAILOVER)),
        ("verify", "--plan", "--seed", "42"),
        ("verify", "--dry-run"),
        ("plan", "switchover", "--system", "core-banking", "--start", today, "--end", today)
        + ("--notice-date", today),
        ("catalog", "rebuild", "--dry-run"),
        ("backup", "--dry-run"),
        ("copy-offsite", "--dry-run"),
        ("drill", "run", str(SITE_FAILOVER), "--dry-run"),
        ("drill", "run", str(SWITCHOVER), "--dry-run"),
    ]
    with autovacuum_off(pg_sites):
        before = snapshot(tmp_path, pg_sites, mariadb_sites, databases, s3_stores)
        codes = {}
        for command in commands:
            code, out, err = run_cli(capsys, "-c", config, *command)
            codes[" ".join(command)] = (code, err[-300:])
            after = snapshot(tmp_path, pg_sites, mariadb_sites, databases, s3_stores)
            changed = [key for key in before if after[key] != before[key]]
            if "files" in changed:
                old, new = before["files"], after["files"]
                changed += sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
            assert changed == [], (command, changed, code, err[-500:])
        # retention --dry-run records its run as a job of its own kind in drctl's catalog (so
        # that it holds the retention lock and never counts as the day's rotation): that row
        # is all.
        code, out, err = run_cli(capsys, "-c", config, "retention", "--dry-run")
        assert code == 0, err
        after = snapshot(tmp_path, pg_sites, mariadb_sites, databases, s3_stores)
    assert [key for key in before if after[key] != before[key]] == ["files"]
    old, new = before["files"], after["files"]
    assert sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k)) == [
        "state/catalog.sqlite"
    ]
    assert all(code in (0, 1) for code, _err in codes.values()), "\n".join(
        f"{command}: {code} {err}" for command, (code, err) in codes.items()
    )
