"""Real hosts and engines: SSH with strict host keys, PostgreSQL and MariaDB, two stores.

The config is the one documented in docs/operators.md with only the test bed's addresses,
ports, paths and credentials put in (tests/fixtures/real_site.py). The "remote" hosts are sshd
instances on 127.0.0.1; the databases run on this machine too, so each host's pg_dump talks to
127.0.0.1:<port of its site's server>.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.actions.restore import run_restore
from orchestrator.cli import main
from orchestrator.integrations.ansible import run_playbook
from orchestrator.model import catalog as cat
from orchestrator.model.engines import make_playbook_item
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.fixtures.databases import MariaDbServer, PostgresServer, mariadb_sql, psql
from tests.fixtures.hosts import SshHost
from tests.fixtures.netns import NetnsHost
from tests.fixtures.real_site import (
    DB_USER,
    MARIADB_PASSWORD_ENV,
    PG_PASSWORD_ENV,
    SiteBed,
    build_config,
    ensure_mariadb_account,
    ensure_pg_account,
    new_database_name,
    pg_create_owned_database,
)
from tests.fixtures.s3 import S3Server, create_locked_bucket

LEDGER_ROWS = 400


@pytest.fixture(scope="module")
def db_password() -> str:
    return secrets.token_urlsafe(18)


@pytest.fixture(scope="module")
def pg_sites(
    postgres_server: PostgresServer, postgres_server_b: PostgresServer, db_password: str
) -> tuple[PostgresServer, PostgresServer]:
    for server in (postgres_server, postgres_server_b):
        ensure_pg_account(server, db_password)
    return postgres_server, postgres_server_b


@pytest.fixture(scope="module")
def mariadb_sites(
    mariadb_server: MariaDbServer, mariadb_server_b: MariaDbServer, db_password: str
) -> tuple[MariaDbServer, MariaDbServer]:
    for server in (mariadb_server, mariadb_server_b):
        ensure_mariadb_account(server, db_password)
    return mariadb_server, mariadb_server_b


@pytest.fixture()
def passwords(monkeypatch: pytest.MonkeyPatch, db_password: str) -> Iterator[str]:
    monkeypatch.setenv(PG_PASSWORD_ENV, db_password)
    monkeypatch.setenv(MARIADB_PASSWORD_ENV, db_password)
    yield db_password


@pytest.fixture()
def s3_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, s3_site_a: S3Server, s3_site_b: S3Server
) -> dict[str, dict[str, object]]:
    """Two locked buckets, one per S3 site, reached through AWS profiles (as documented)."""
    credentials = tmp_path / "aws-credentials"
    sites = {"primary": ("drctl-primary", s3_site_a), "offsite": ("drctl-offsite", s3_site_b)}
    credentials.write_text(
        "".join(
            f"[{profile}]\naws_access_key_id = {server.access_key}\n"
            f"aws_secret_access_key = {server.secret_key}\n\n"
            for profile, server in sites.values()
        )
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config-absent"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    stores: dict[str, dict[str, object]] = {}
    for name, (profile, server) in sites.items():
        bucket = create_locked_bucket(server, f"dr-{name}-{secrets.token_hex(4)}")
        stores[name] = {
            "url": f"s3://{bucket}/core-banking",
            "endpoint_url": server.endpoint_url,
            "region": server.region,
            "profile": profile,
        }
    return stores


def seed_pg_ledger(server: PostgresServer, database: str) -> None:
    """Create a small ledger owned by the backup account, with awkward values on purpose."""
    psql(
        server,
        f"""
SET ROLE {DB_USER};
CREATE TABLE accounts (id integer PRIMARY KEY, holder text NOT NULL, branch text NOT NULL,
                       balance_cents bigint NOT NULL DEFAULT 0);
CREATE TABLE postings (id bigserial PRIMARY KEY, account_id integer NOT NULL
                       REFERENCES accounts(id), amount_cents bigint NOT NULL, memo text,
                       posted_at timestamptz NOT NULL DEFAULT now(), raw bytea);
CREATE TABLE notes (body text, weight double precision);
INSERT INTO accounts (id, holder, branch) SELECT i, 'holder ' || i, 'branch-' || (i % 7)
  FROM generate_series(1, 40) i;
INSERT INTO postings (account_id, amount_cents, memo, raw)
  SELECT 1 + i % 40, (i * 7919) % 100000 - 30000,
         CASE WHEN i % 50 = 0 THEN NULL ELSE E'line\\nwith\\ttab \\\\ ' || i END,
         decode(md5(i::text), 'hex')
  FROM generate_series(1, {LEDGER_ROWS}) i;
UPDATE accounts a SET balance_cents = s.total FROM
  (SELECT account_id, sum(amount_cents) AS total FROM postings GROUP BY account_id) s
  WHERE a.id = s.account_id;
INSERT INTO notes VALUES ('Zürich 账务', 0.1), ('\\N', NULL), (NULL, 1e300);
""",
        database,
    )


def site_beds(
    prod: SshHost,
    dr: SshHost,
    pg: tuple[PostgresServer, PostgresServer] | None = None,
    maria: tuple[MariaDbServer, MariaDbServer] | None = None,
    prod_known_hosts: Path | None = None,
) -> dict[str, SiteBed]:
    return {
        "production": SiteBed(
            prod, pg[0] if pg else None, maria[0] if maria else None, prod_known_hosts
        ),
        "disaster-recovery": SiteBed(dr, pg[1] if pg else None, maria[1] if maria else None),
        "verification": SiteBed(dr, pg[1] if pg else None, maria[1] if maria else None),
    }


def grep_secret(paths: list[Path], secret: str) -> list[str]:
    """Return the files under paths whose bytes contain secret."""
    found = []
    for root in paths:
        for path in [root] if root.is_file() else root.rglob("*"):
            if path.is_file() and secret.encode() in path.read_bytes():
                found.append(str(path))
    return found


def back_up_copy_and_restore_at_dr(config_path: Path) -> Any:
    """Back up through the CLI, copy off-site, and restore the off-site copy at the DR site;
    return the restored dataset (one dataset per test config)."""
    assert main(["-c", str(config_path), "backup"]) == 0
    assert main(["-c", str(config_path), "copy-offsite"]) == 0
    with open_runtime(load_site(config_path)) as runtime:
        outcome = run_restore(
            runtime, "core-banking", store_name="offsite", site_name="disaster-recovery"
        )
    return outcome.datasets[0]


def test_postgresql_backup_offsite_restore_over_ssh(
    tmp_path: Path,
    sshd_host: SshHost,
    sshd_host_b: SshHost,
    pg_sites: tuple[PostgresServer, PostgresServer],
    passwords: str,
    s3_stores: dict[str, dict[str, object]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    source, target = pg_sites
    database = pg_create_owned_database(source, new_database_name("corebank"))
    seed_pg_ledger(source, database)
    config_path = build_config(
        tmp_path,
        site_beds(sshd_host, sshd_host_b, pg=pg_sites),
        stores=s3_stores,
        databases={"ledger": database},
        datasets=("ledger",),
    )

    restored = back_up_copy_and_restore_at_dr(config_path)
    assert restored.differences == ()
    assert restored.invariant_violations == {"balance_equals_sum_of_postings": 0}
    objects = restored.manifest.fingerprint["objects"]
    assert objects["postings"]["rows"] == LEDGER_ROWS
    assert set(objects) == {"accounts", "postings", "notes"}
    # The restored database at the DR site really holds the same rows.
    assert psql(target, "SELECT count(*) FROM postings;", database).strip() == str(LEDGER_ROWS)
    left = psql(
        source, "SELECT md5(string_agg(p::text, ',' ORDER BY id)) FROM postings p;", database
    )
    right = psql(
        target, "SELECT md5(string_agg(p::text, ',' ORDER BY id)) FROM postings p;", database
    )
    assert left == right
    # The password never reached events, the catalog, the stores or the work directory.
    assert grep_secret([tmp_path], passwords) == []
    capsys.readouterr()


def seed_mariadb_cards(server: MariaDbServer, database: str) -> None:
    mariadb_sql(
        server,
        f"""
CREATE TABLE cards (id INT PRIMARY KEY, holder VARCHAR(80) NOT NULL, pan_hash BINARY(16),
                    limit_cents BIGINT, note TEXT, issued DATETIME(3)) CHARACTER SET utf8mb4;
CREATE TABLE events (at TIMESTAMP(3) NULL, body TEXT) CHARACTER SET utf8mb4;
INSERT INTO cards
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {LEDGER_ROWS})
  SELECT i, CONCAT('持卡人 ', i), UNHEX(MD5(i)), i * 1000,
         IF(i % 40 = 0, NULL, IF(i % 41 = 0, 'NULL', CONCAT('line\\nwith\\ttab ', i))),
         TIMESTAMP('2026-01-01') + INTERVAL i MINUTE FROM n;
INSERT INTO events VALUES ('2026-11-23 02:00:00.125', 'opened'), (NULL, NULL), (NULL, 'NULL');
""",
        database,
    )


def test_mariadb_backup_offsite_restore_over_ssh(
    tmp_path: Path,
    sshd_host: SshHost,
    sshd_host_b: SshHost,
    mariadb_sites: tuple[MariaDbServer, MariaDbServer],
    passwords: str,
    s3_stores: dict[str, dict[str, object]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    source, target = mariadb_sites
    database = new_database_name("cards")
    mariadb_sql(source, f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4;")
    seed_mariadb_cards(source, database)
    config_path = build_config(
        tmp_path,
        site_beds(sshd_host, sshd_host_b, maria=mariadb_sites),
        stores=s3_stores,
        databases={"cards": database},
        datasets=("cards",),
    )

    restored = back_up_copy_and_restore_at_dr(config_path)
    assert restored.differences == ()
    objects = restored.manifest.fingerprint["objects"]
    assert objects["cards"]["rows"] == LEDGER_ROWS and objects["events"]["rows"] == 3
    query = (
        "SELECT MD5(GROUP_CONCAT(CONCAT_WS('|', id, holder, HEX(pan_hash), note) "
        "ORDER BY id)) FROM cards;"
    )
    assert mariadb_sql(source, query, database) == mariadb_sql(target, query, database)
    assert grep_secret([tmp_path], passwords) == []
    capsys.readouterr()


def test_destroy_playbook_drops_mariadb_database(
    tmp_path: Path,
    sshd_host: SshHost,
    sshd_host_b: SshHost,
    mariadb_sites: tuple[MariaDbServer, MariaDbServer],
    passwords: str,
    s3_stores: dict[str, dict[str, object]],
) -> None:
    source, target = mariadb_sites
    database = new_database_name("cards")
    for server in mariadb_sites:
        mariadb_sql(server, f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4;")
    seed_mariadb_cards(source, database)
    config_path = build_config(
        tmp_path,
        site_beds(sshd_host, sshd_host_b, maria=mariadb_sites),
        stores=s3_stores,
        databases={"cards": database},
        datasets=("cards",),
    )
    exists = f"SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{database}';"
    with open_runtime(load_site(config_path)) as runtime:
        site = runtime.config.model.site("production")
        dataset = runtime.config.model.system("core-banking").datasets[0]
        reports = []
        for attempt in ("first", "again"):
            run = run_playbook(
                "destroy.yml",
                inventory=runtime.config.inventory,
                extravars={
                    "dr_host": site.host,
                    "dr_datasets": [make_playbook_item(site, dataset, site.spool)],
                },
                ident=f"destroy-{attempt}",
                work_dir=runtime.work_dir,
                limit=site.host,
            )
            assert run.ok, run.failures
            reports.append(run.result(site.host, "destroy:cards"))
    assert reports[0]["target"] == database and reports[0]["engine"] == "mariadb"
    assert reports[0]["destroyed"] is True and reports[0]["exists"] is False
    assert reports[1]["destroyed"] is False  # already gone: nothing to drop, still proven absent
    assert mariadb_sql(source, exists).strip() == "0"
    assert mariadb_sql(target, exists).strip() == "1"  # only the production site's host


def recorded_points(config_path: Path) -> list[Any]:
    with (
        open_runtime(load_site(config_path)) as runtime,
        runtime.catalog.begin() as connection,
    ):
        return list(cat.list_recovery_points(connection))


def test_host_with_wrong_key_is_refused(
    tmp_path: Path,
    sshd_host: SshHost,
    sshd_host_b: SshHost,
    pg_sites: tuple[PostgresServer, PostgresServer],
    passwords: str,
    s3_stores: dict[str, dict[str, object]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert sshd_host.wrong_known_hosts is not None
    beds = site_beds(
        sshd_host, sshd_host_b, pg=pg_sites, prod_known_hosts=sshd_host.wrong_known_hosts
    )
    config_path = build_config(
        tmp_path,
        beds,
        stores=s3_stores,
        databases={"ledger": "corebank_absent"},
        datasets=("ledger",),
    )
    capsys.readouterr()
    assert main(["-c", str(config_path), "backup"]) == 3
    error = capsys.readouterr().err
    assert "prod-db-1" in error
    assert "host key" in error.lower() or "REMOTE HOST IDENTIFICATION" in error
    assert recorded_points(config_path) == []


def test_unreachable_host_ends_in_exit_3_with_nothing_recorded(
    tmp_path: Path,
    netns_hosts: dict[str, NetnsHost],
    sshd_host_b: SshHost,
    pg_sites: tuple[PostgresServer, PostgresServer],
    passwords: str,
    s3_stores: dict[str, dict[str, object]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    production = netns_hosts["production"]
    config_path = build_config(
        tmp_path,
        site_beds(production.host, sshd_host_b, pg=pg_sites),
        stores=s3_stores,
        databases={"ledger": "corebank_absent"},
        datasets=("ledger",),
    )
    production.partition("drop")
    try:
        capsys.readouterr()
        assert main(["-c", str(config_path), "backup"]) == 3
    finally:
        production.heal()
    error = capsys.readouterr().err
    assert "prod-db-1" in error and "unreachable" in error.lower()
    assert recorded_points(config_path) == []


def test_transfer_cut_midway_counts_nothing_and_next_run_succeeds(
    tmp_path: Path,
    sshd_host: SshHost,
    sshd_host_b: SshHost,
    pg_sites: tuple[PostgresServer, PostgresServer],
    passwords: str,
    s3_stores: dict[str, dict[str, object]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source, _ = pg_sites
    database = pg_create_owned_database(source, new_database_name("corebank"))
    seed_pg_ledger(source, database)
    # Incompressible bytes, so the dump spans many transfer blocks.
    psql(
        source,
        f"SET ROLE {DB_USER}; CREATE TABLE blobs (id int PRIMARY KEY, body bytea);"
        "INSERT INTO blobs SELECT i, decode(string_agg(md5(i::text || j::text), ''), 'hex') "
        "FROM generate_series(1, 64) i, generate_series(1, 256) j GROUP BY i;",
        database,
    )
    config_path = build_config(
        tmp_path,
        site_beds(sshd_host, sshd_host_b, pg=pg_sites),
        stores=s3_stores,
        databases={"ledger": database},
        datasets=("ledger",),
    )
    from orchestrator.actions import backup_stream
    from orchestrator.integrations.transfer import read_blocks

    def cut_after_first_block(handle: Any, block_bytes: int = 0) -> Iterator[bytes]:
        blocks = read_blocks(handle, 16 << 10)
        yield next(blocks)
        handle.sftp.sock.get_transport().close()  # the SSH connection drops mid-transfer
        yield from blocks

    monkeypatch.setattr(backup_stream, "read_blocks", cut_after_first_block)
    capsys.readouterr()
    assert main(["-c", str(config_path), "backup"]) == 3
    assert "prod-db-1" in capsys.readouterr().err
    assert recorded_points(config_path) == []
    monkeypatch.undo()
    monkeypatch.setenv(PG_PASSWORD_ENV, passwords)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config-absent"))
    assert main(["-c", str(config_path), "backup"]) == 0
    points = recorded_points(config_path)
    assert len(points) == 1
    with open_runtime(load_site(config_path)) as runtime:
        outcome = run_restore(
            runtime, "core-banking", store_name="primary", site_name="disaster-recovery"
        )
    assert outcome.datasets[0].differences == ()
    assert outcome.datasets[0].recovery_point_id == points[0].id
