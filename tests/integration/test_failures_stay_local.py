"""One dataset's failure stays with that dataset, on the real test bed (sshd, PostgreSQL,
MariaDB, SeaweedFS): the others are backed up, the summary and the exit code name exactly which
failed, and nothing of the failed run is left in the host's spool."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.site import load_site
from tests.fixtures.databases import MariaDbServer, PostgresServer, mariadb_sql
from tests.fixtures.hosts import SshHost
from tests.fixtures.real_site import (
    MARIADB_PASSWORD_ENV,
    build_config,
    new_database_name,
    pg_create_owned_database,
)
from tests.integration.test_real_site import (  # noqa: F401 - fixtures used by name
    db_password,
    grep_secret,
    mariadb_sites,
    passwords,
    pg_sites,
    recorded_points,
    s3_stores,
    seed_mariadb_cards,
    seed_pg_ledger,
    site_beds,
)


def spool_files(config_path: Path) -> list[Path]:
    """Every file left under the sites' spools of a test config."""
    config = load_site(config_path).config
    return [
        path
        for site in config.model.sites
        for path in Path(site.spool).rglob("*")
        if path.is_file()
    ]


def backup_json(config_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict, str]:
    capsys.readouterr()
    code = main(["-c", str(config_path), "--json", "backup"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def test_one_dataset_failing_does_not_stop_the_others(
    tmp_path: Path,
    sshd_host: SshHost,
    sshd_host_b: SshHost,
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    mariadb_sites: tuple[MariaDbServer, MariaDbServer],  # noqa: F811
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ledger = pg_create_owned_database(pg_sites[0], new_database_name("corebank"))
    seed_pg_ledger(pg_sites[0], ledger)
    cards = new_database_name("cards")
    mariadb_sql(mariadb_sites[0], f"CREATE DATABASE `{cards}` CHARACTER SET utf8mb4;")
    seed_mariadb_cards(mariadb_sites[0], cards)
    config_path = build_config(
        tmp_path,
        site_beds(sshd_host, sshd_host_b, pg=pg_sites, maria=mariadb_sites),
        stores=s3_stores,
        databases={"ledger": ledger, "cards": cards},
    )

    # 1. The cards dataset's password variable is unset: ledger is still backed up.
    monkeypatch.delenv(MARIADB_PASSWORD_ENV)
    code, result, error = backup_json(config_path, capsys)
    assert code == 3
    outcomes = {d["dataset"]: d for d in result["datasets"]}
    assert outcomes["ledger"]["outcome"] == "ok"
    assert outcomes["cards"]["outcome"] == "failed" and outcomes["cards"]["exit_code"] == 3
    assert MARIADB_PASSWORD_ENV in outcomes["cards"]["error"]
    assert MARIADB_PASSWORD_ENV in error and "core-banking/cards" in error
    points = recorded_points(config_path)
    assert [(p.dataset, p.status) for p in points] == [("ledger", "complete")]
    assert spool_files(config_path) == []

    # 2. The password is back but the cards database is gone: the dump fails on the host, in
    # the middle of the playbook; ledger is backed up again, nothing stays in the spool.
    monkeypatch.setenv(MARIADB_PASSWORD_ENV, passwords)
    mariadb_sql(mariadb_sites[0], f"DROP DATABASE `{cards}`;")
    capsys.readouterr()
    code = main(["-c", str(config_path), "backup"])
    captured = capsys.readouterr()
    assert code == 3
    assert "core-banking/ledger: " in captured.out and "in primary" in captured.out
    assert "1 dataset(s) FAILED: core-banking/cards; exit 3" in captured.out
    assert "core-banking/cards" in captured.err and cards in captured.err
    assert [p.dataset for p in recorded_points(config_path)] == ["ledger", "ledger"]
    assert spool_files(config_path) == []
    assert grep_secret([tmp_path], passwords) == []
