"""A drill's restore never flows through replication into production, on real servers
(sshd, a PostgreSQL primary with a real streaming standby, SeaweedFS S3).

The disaster-recovery centre mirrors production and recovers in both directions: its
database server can itself be a replication source (a standby or a logical subscriber reads
it: reverse or bidirectional mirroring). A test failover's restore into that server would be
streamed on to every replica. drctl refuses it before anything is written there, naming the
server and what it feeds, unless the operator asks for it (`--allow-replica-writes`); the
production site's own standby (the documented mirroring, production → disaster recovery)
does not stop the failback proof, whose drill-scoped target lives on production's server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.actions.drill import DrillOutcome, run_drill
from orchestrator.cli import main
from orchestrator.model.scenario import load_scenario
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.fixtures.databases import (
    MariaDbServer,
    PostgresServer,
    autovacuum_off,
    mariadb_sql,
    psql,
)
from tests.fixtures.real_site import (
    SiteBed,
    build_config,
    ensure_mariadb_account,
    ensure_pg_account,
    new_database_name,
)
from tests.fixtures.replication import (
    MariaPair,
    PgPair,
    mariadb_with_replica,
    postgres_with_standby,
)
from tests.integration.test_drill_real_site import (
    SITE_FAILOVER,
    mariadb_names_like,
    operator_corebank,
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

NEXT_XID = "SELECT pg_snapshot_xmax(pg_current_snapshot());"  # reads; assigns no xid


@pytest.fixture()
def pg_pair(db_password: str) -> Iterator[PgPair]:  # noqa: F811
    with postgres_with_standby() as pair:
        ensure_pg_account(pair.primary, db_password)
        yield pair


@pytest.fixture()
def maria_pair(tmp_path: Path, db_password: str) -> Iterator[MariaPair]:  # noqa: F811
    with mariadb_with_replica(tmp_path / "mariadb") as pair:
        ensure_mariadb_account(pair.primary, db_password)
        yield pair


def drill(
    config_path: Path, *, allow: bool = False, scenario_path: Path = SITE_FAILOVER
) -> DrillOutcome:
    config = load_site(config_path)
    scenario = load_scenario(scenario_path, config.config.model)
    with open_runtime(config) as runtime:
        if not allow:  # the call as it was before the option existed
            return run_drill(runtime, scenario, scenario_path)
        return run_drill(runtime, scenario, scenario_path, allow_replica_writes=True)


def cards_failover(tmp_path: Path) -> Path:
    """site-failover.yml for a system of the cards dataset alone (its ledger is `cards`)."""
    data = yaml.safe_load(SITE_FAILOVER.read_text())
    data["steps"][0].update(dataset="cards", table="cards")
    path = tmp_path / "cards-failover.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def drill_databases(server: PostgresServer) -> list[str]:
    return psql(server, "SELECT datname FROM pg_database WHERE datname LIKE 'drill\\_%';").split()


def backed_up(
    tmp_path: Path, beds: Any, stores: dict[str, dict[str, object]], production: PostgresServer
) -> Path:
    """The operator's ledger at production, backed up and copied off site; return dr.yml."""
    corebank = operator_corebank(production, new_database_name("corebank"))
    config_path = build_config(
        tmp_path, beds, stores=stores, databases={"ledger": corebank}, datasets=("ledger",)
    )
    assert main(["-c", str(config_path), "backup"]) == 0
    assert main(["-c", str(config_path), "copy-offsite"]) == 0
    return config_path


def test_restore_into_a_dr_server_feeding_a_standby_is_refused_unless_asked(
    tmp_path: Path,
    sshd_host: Any,
    sshd_host_b: Any,
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    pg_pair: PgPair,
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
) -> None:
    production = pg_sites[0]
    dr = pg_pair.primary  # the DR centre's server: its standby streams everything written
    beds = site_beds(sshd_host, sshd_host_b, pg=(production, dr))
    config_path = backed_up(tmp_path, beds, s3_stores, production)
    with autovacuum_off((dr,)):  # its ANALYZE would take an xid of its own
        xid_before = psql(dr, NEXT_XID)
        outcome = drill(config_path)
        xid_after = psql(dr, NEXT_XID)

    failover = next(step for step in outcome.steps if step.name == "test-failover")
    assert outcome.outcome == "aborted", [(s.name, s.status, s.message) for s in outcome.steps]
    assert failover.status == "aborted"
    assert "refused (replication downstream)" in failover.message
    assert f"postgresql server 127.0.0.1:{dr.port}" in failover.message
    assert "standby or subscriber" in failover.message, failover.message
    assert "walreceiver" in failover.message, failover.message  # the standby's name
    assert "--allow-replica-writes" in failover.message
    assert xid_after == xid_before  # no transaction at all on the DR server
    assert drill_databases(dr) == [] and drill_databases(pg_pair.standby) == []

    allowed = drill(config_path, allow=True)  # the operator asked for exactly that
    assert allowed.outcome == "passed", "\n".join(s.message for s in allowed.steps)
    assert psql(dr, NEXT_XID) != xid_before
    assert drill_databases(dr) == [] and drill_databases(pg_pair.standby) == []


def test_production_streaming_to_its_standby_does_not_stop_the_failback_proof(
    tmp_path: Path,
    sshd_host: Any,
    sshd_host_b: Any,
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    pg_pair: PgPair,
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
) -> None:
    production = pg_pair.primary  # the documented mirroring: production streams to a standby
    beds = site_beds(sshd_host, sshd_host_b, pg=(production, pg_sites[1]))
    config_path = backed_up(tmp_path, beds, s3_stores, production)

    outcome = drill(config_path)

    assert outcome.outcome == "passed", [(s.name, s.status, s.message) for s in outcome.steps]
    assert drill_databases(production) == [] and drill_databases(pg_pair.standby) == []


def test_restore_into_a_dr_mariadb_feeding_a_replica_is_refused(
    tmp_path: Path,
    sshd_host: Any,
    sshd_host_b: Any,
    mariadb_sites: tuple[MariaDbServer, MariaDbServer],  # noqa: F811
    maria_pair: MariaPair,
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
) -> None:
    production, dr = mariadb_sites[0], maria_pair.primary  # dr: binary log, a replica reads it
    cards = new_database_name("cards")
    mariadb_sql(production, f"CREATE DATABASE `{cards}` CHARACTER SET utf8mb4;")
    seed_mariadb_cards(production, cards)
    beds = site_beds(sshd_host, sshd_host_b, maria=(production, dr))
    config_path = build_config(
        tmp_path, beds, stores=s3_stores, databases={"cards": cards}, datasets=("cards",)
    )
    assert main(["-c", str(config_path), "backup"]) == 0
    assert main(["-c", str(config_path), "copy-offsite"]) == 0
    binlog_before = mariadb_sql(dr, "SELECT @@GLOBAL.gtid_binlog_pos;")

    outcome = drill(config_path, scenario_path=cards_failover(tmp_path))

    failover = next(step for step in outcome.steps if step.name == "test-failover")
    assert outcome.outcome == "aborted" and failover.status == "aborted", failover.message
    assert "refused (replication downstream)" in failover.message, failover.message
    assert f"mariadb server 127.0.0.1:{dr.port}" in failover.message, failover.message
    assert "replica server_id 2" in failover.message, failover.message
    assert mariadb_sql(dr, "SELECT @@GLOBAL.gtid_binlog_pos;") == binlog_before  # nothing logged
    assert mariadb_names_like(maria_pair.replica, "drill\\_%") == []


def test_validity_check_into_an_enclave_server_feeding_a_standby_is_refused(
    tmp_path: Path,
    sshd_host: Any,
    sshd_host_b: Any,
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    pg_pair: PgPair,
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    beds = site_beds(sshd_host, sshd_host_b, pg=pg_sites)
    beds["verification"] = SiteBed(sshd_host_b, pg_pair.primary)  # the enclave's server
    config_path = backed_up(tmp_path, beds, s3_stores, pg_sites[0])
    capsys.readouterr()
    with autovacuum_off((pg_pair.primary,)):  # its ANALYZE would take an xid of its own
        xid_before = psql(pg_pair.primary, NEXT_XID)
        code = main(["-c", str(config_path), "verify"])
        xid_after = psql(pg_pair.primary, NEXT_XID)
    err = capsys.readouterr().err

    assert code == 2, err
    assert "refused (replication downstream)" in err and "walreceiver" in err, err
    assert xid_after == xid_before  # nothing written to it
