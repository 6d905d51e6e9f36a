"""No password is ever on a command line: every process started while drctl backs up a real
PostgreSQL and MariaDB database over SSH is looked at from inside the run.

Ansible sets a task's `environment:` by prefixing the module's command
(`ssh … '/bin/sh -c "PGPASSWORD=… /usr/bin/python3"'`), where `ps` on the controller and on
the host shows it to every user. The database clients here are wrappers that, when the module
starts them, record the command line of every process of the machine (controller and host are
the same machine in the test bed) and then run the real client: the record is taken while the
module's ssh and shell are alive, so the test needs no sampling.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.fixtures.databases import MariaDbServer, PostgresServer, mariadb_sql
from tests.fixtures.hosts import SshHost
from tests.fixtures.real_site import (
    SiteBed,
    build_config,
    new_database_name,
    pg_create_owned_database,
)
from tests.integration.test_real_site import (  # noqa: F401 - fixtures
    db_password,
    mariadb_sites,
    passwords,
    pg_sites,
    s3_stores,
    seed_mariadb_cards,
    seed_pg_ledger,
)

DRCTL = str(Path(sys.executable).parent / "drctl")
CLIENTS = {
    "postgresql": ("psql", "pg_dump", "pg_restore"),
    "mariadb": ("mariadb", "mariadb-dump", "mysql", "mysqldump"),
}


def recording_clients(directory: Path, real_bin: dict[str, Path], record: Path) -> None:
    """Write a wrapper for every client of each engine into directory/<engine>: it appends
    every process's command line to record, then runs the real client with its arguments."""
    for engine, names in CLIENTS.items():
        (directory / engine).mkdir(parents=True)
        for name in names:
            real = real_bin[engine] / name
            if not real.exists():
                continue
            wrapper = directory / engine / name
            wrapper.write_text(f'#!/bin/sh\nps -eww -o args= >> "{record}"\nexec "{real}" "$@"\n')
            wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)


def real_bin_dir(name: str) -> Path:
    path = subprocess.run(["sh", "-c", f"command -v {name}"], capture_output=True, text=True)
    return Path(path.stdout.strip()).parent


def test_backup_over_ssh_puts_no_password_on_any_command_line(
    tmp_path: Path,
    sshd_host: SshHost,
    sshd_host_b: SshHost,
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    mariadb_sites: tuple[MariaDbServer, MariaDbServer],  # noqa: F811
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
) -> None:
    record = tmp_path / "command-lines.txt"
    wrappers = tmp_path / "clients"
    recording_clients(
        wrappers, {"postgresql": pg_sites[0].bin_dir, "mariadb": real_bin_dir("mariadb")}, record
    )
    database = pg_create_owned_database(pg_sites[0], new_database_name("corebank"))
    seed_pg_ledger(pg_sites[0], database)
    cards = new_database_name("cards")
    mariadb_sql(mariadb_sites[0], f"CREATE DATABASE `{cards}` CHARACTER SET utf8mb4;")
    seed_mariadb_cards(mariadb_sites[0], cards)
    host_vars = {
        "dr_postgresql_bin_dir": str(wrappers / "postgresql"),
        "dr_mariadb_bin_dir": str(wrappers / "mariadb"),
    }
    beds = {
        "production": SiteBed(sshd_host, pg_sites[0], mariadb_sites[0], host_vars=host_vars),
        "disaster-recovery": SiteBed(sshd_host_b, pg_sites[1], mariadb_sites[1]),
        "verification": SiteBed(sshd_host_b, pg_sites[1], mariadb_sites[1]),
    }
    config = build_config(
        tmp_path, beds, stores=s3_stores, databases={"ledger": database, "cards": cards}
    )

    result = subprocess.run(
        [DRCTL, "-c", str(config), "backup"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
    )

    assert result.returncode == 0, result.stderr
    seen = record.read_text()
    assert "ansible" in seen and "pg_dump" in seen and "mariadb-dump" in seen, seen[-2000:]
    leaked = [line for line in seen.splitlines() if passwords in line]
    assert leaked == [], leaked[:3]
    assert passwords not in result.stdout + result.stderr
