"""A test failover killed with SIGKILL on the real sites (sshd hosts, PostgreSQL, MariaDB,
SeaweedFS S3) leaves no customer data behind once the next command ran, and never counts.

The drill restores the off-site points into drill-scoped databases and directories at the
disaster-recovery site and, for the way back, on the production site's host. A `kill -9` skips
the wipe step, so every drill target must be journalled before it is made: the next command
that writes finds the dead holder, drops the drill databases, removes the drill directories
and reports it. The killed drill stays `running`, uncounted, until the next drill of its
scenario finds its holder dead and records it `aborted`: it is never a drill that passed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from orchestrator.cli import main
from orchestrator.model import schema
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.fixtures.databases import MariaDbServer, PostgresServer, mariadb_sql, psql
from tests.fixtures.real_site import REPO, build_config, new_database_name
from tests.integration.test_crash_safety import (
    drctl,
    finish,
    hold_children,
    kill_hard,
    wait_for,
)
from tests.integration.test_drill_real_site import drill_rules, operator_corebank
from tests.integration.test_real_site import (  # noqa: F401 - fixtures used by name
    db_password,
    mariadb_sites,
    passwords,
    pg_sites,
    s3_stores,
    seed_mariadb_cards,
    site_beds,
)

SITE_FAILOVER = REPO / "drills" / "site-failover.yml"


def pg_drill_databases(server: PostgresServer) -> list[str]:
    rows = psql(server, "SELECT datname FROM pg_database WHERE datname LIKE 'drill\\_%';")
    return rows.split()


def mariadb_drill_databases(server: MariaDbServer) -> list[str]:
    query = "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE"
    return mariadb_sql(server, f"{query} 'drill\\_%';").split()


def drill_databases(
    pg: tuple[PostgresServer, ...], maria: tuple[MariaDbServer, ...]
) -> set[tuple[int, str]]:
    """Every drill-scoped database on the servers, by (server index, name)."""
    found = {
        (index, name) for index, server in enumerate(pg) for name in pg_drill_databases(server)
    }
    found |= {
        (index + len(pg), name)
        for index, server in enumerate(maria)
        for name in mariadb_drill_databases(server)
    }
    return found


@pytest.fixture()
def drop_new_drill_databases(
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    mariadb_sites: tuple[MariaDbServer, MariaDbServer],  # noqa: F811
) -> Iterator[None]:
    """Drop, after the test, what a failing run of it left on the shared servers."""
    before = drill_databases(pg_sites, mariadb_sites)
    yield
    for index, name in drill_databases(pg_sites, mariadb_sites) - before:
        if index < len(pg_sites):
            psql(pg_sites[index], f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE);')
        else:
            mariadb_sql(mariadb_sites[index - len(pg_sites)], f"DROP DATABASE IF EXISTS `{name}`;")


def drill_directories(root: Path) -> list[Path]:
    return [path for path in (root / "sites").glob("*/spool/drill-*")]


def runner_started(config_path: Path, label: str) -> bool:
    """Whether the drill has started a playbook run whose ident names label."""
    runner = config_path.parent / "state" / "work" / "runner"
    return runner.is_dir() and any(f"-{label}-" in d.name for d in runner.iterdir())


@pytest.mark.parametrize("moment", ["failover-target-made", "mid-failback", "before-wipe"])
def test_killed_test_failover_leaves_no_drill_target_once_the_next_command_ran(
    tmp_path: Path,
    sshd_host: Any,
    sshd_host_b: Any,
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    mariadb_sites: tuple[MariaDbServer, MariaDbServer],  # noqa: F811
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    drop_new_drill_databases: None,
    moment: str,
) -> None:
    (pg_prod, pg_dr), (maria_prod, _) = pg_sites, mariadb_sites
    corebank = operator_corebank(pg_prod, new_database_name("corebank"))
    cards = new_database_name("cards")
    for server in mariadb_sites:
        mariadb_sql(server, f"CREATE DATABASE `{cards}` CHARACTER SET utf8mb4;")
    seed_mariadb_cards(maria_prod, cards)
    config_path = build_config(
        tmp_path,
        site_beds(sshd_host, sshd_host_b, pg=pg_sites, maria=mariadb_sites),
        stores=s3_stores,
        databases={"ledger": corebank, "cards": cards},
    )
    config = str(config_path)
    assert main(["-c", config, "backup"]) == 0
    assert main(["-c", config, "copy-offsite"]) == 0
    judged_before = drill_rules(config, capsys)
    earlier = drill_databases(pg_sites, mariadb_sites)

    drill = drctl(config_path, "drill", "run", str(SITE_FAILOVER))
    if moment == "failover-target-made":
        # the DR site's drill database holds the restored customer data
        earlier_dr = set(pg_drill_databases(pg_dr))
        made = lambda: bool(set(pg_drill_databases(pg_dr)) - earlier_dr)  # noqa: E731
        wait_for("a failover target", made, drill)
        kill_hard(drill)
    elif moment == "mid-failback":
        # the failback restore on production's host has begun
        wait_for("the failback restore", lambda: runner_started(config_path, "fb-restore"), drill)
        kill_hard(drill, also=hold_children(drill))
    else:
        wait_for("the wipe", lambda: runner_started(config_path, "wipe"), drill)
        kill_hard(drill, also=hold_children(drill))
    left = drill_databases(pg_sites, mariadb_sites) - earlier
    assert left, "the kill came too late: nothing drill-scoped was left to clean"
    if moment != "failover-target-made":  # the failback dumps into the drill directories
        assert drill_directories(tmp_path)

    code, out, err = finish(drctl(config_path, "backup"))
    assert code == 0, out + err
    # reported: each site's drill targets, named
    cleaned = [line for line in err.splitlines() if "drill targets of a killed drill" in line]
    assert any("_fo_0_ledger" in line and "dr-db-1" in line for line in cleaned), err
    assert all(line.split("WARNING")[1].startswith(" orchestrator") for line in cleaned), err
    # Nothing drill-scoped at either site: databases, their scratch copies, directories.
    assert drill_databases(pg_sites, mariadb_sites) - earlier == set()
    assert drill_directories(tmp_path) == []
    with open_runtime(load_site(config_path)) as runtime:
        with runtime.catalog.begin() as connection:
            (row,) = list(connection.execute(select(schema.drills)))
            areas = list(connection.execute(select(schema.scratch_areas)))
    assert areas == []
    # The killed drill is not a drill that passed: the rules judge as before it.
    assert row.status == "running" and row.failover_ok is None
    assert drill_rules(config, capsys) == judged_before
    if moment != "failover-target-made":
        return
    # The next drill of the scenario finds the killed one's holder dead and closes its row.
    assert main(["-c", config, "drill", "run", str(SITE_FAILOVER)]) == 0
    with open_runtime(load_site(config_path)) as runtime:
        with runtime.catalog.begin() as connection:
            rows = {r.id: r for r in connection.execute(select(schema.drills))}
    killed, rerun = rows.pop(row.id), next(iter(rows.values()))
    assert killed.status == "aborted" and killed.finished_at is not None
    assert killed.failover_ok is None and killed.evidence_path is None
    assert "killed before it finished" in killed.detail["error"]
    assert rerun.status == "passed"
