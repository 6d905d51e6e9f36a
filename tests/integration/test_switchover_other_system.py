"""A switchover replaces only its own system's live data, on real sites (sshd, PostgreSQL,
SeaweedFS S3).

Sites are shared by systems: the disaster-recovery centre of one system can be where another
system runs in production (each centre the other's standby). A dataset has one database name
at every site, so a switchover of `core-banking` into its disaster-recovery site would put its
recovery point over any other system's live database of the same name, engine and port there
— the other system's production — though `--confirm` named `core-banking` only. Refused with
exit 2 by `check-config --scenario` and `drill run`, before anything is touched — also when
one system gives the port in its dataset and the other leaves it to the host (the engine roles
connect to the host's `dr_postgresql_port` either way: one database).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.cli import main
from tests.fixtures.databases import PostgresServer
from tests.fixtures.real_site import build_config, new_database_name
from tests.integration.test_drill_real_site import (
    SWITCHOVER,
    operator_corebank,
    pg_dump_text,
    run_cli,
    shanghai_today,
    standby,
)
from tests.integration.test_real_site import (  # noqa: F401 - fixtures used by name
    db_password,
    passwords,
    pg_sites,
    s3_stores,
    site_beds,
)


def add_treasury(config_path: Path, port: int | None = None) -> None:
    """Add a system whose production runs at core-banking's disaster-recovery site, with a
    ledger database of the same name there (its port given in the dataset, if any)."""
    config = yaml.safe_load(config_path.read_text())
    treasury = copy.deepcopy(config["systems"][0])
    treasury.update(
        name="treasury",
        production_site="disaster-recovery",
        disaster_recovery_site="verification",
        primary_store="offsite",
        offsite_store="primary",
    )
    if port is not None:
        treasury["datasets"][0]["port"] = port
    config["systems"].append(treasury)
    config["evidence"]["anchor_store"] = "offsite"  # two off-site stores: the chain's anchor
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))


@pytest.mark.parametrize("port_in_dataset", [False, True])
def test_switchover_over_another_systems_production_database_is_refused(
    tmp_path: Path,
    sshd_host: Any,
    sshd_host_b: Any,
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    port_in_dataset: bool,
) -> None:
    pg_prod, pg_dr = pg_sites
    corebank = operator_corebank(pg_prod, new_database_name("corebank"))
    standby(pg_dr, corebank)  # at the DR site: treasury's production ledger, the same name
    config_path = build_config(
        tmp_path,
        site_beds(sshd_host, sshd_host_b, pg=pg_sites),
        stores=s3_stores,
        databases={"ledger": corebank},
        datasets=("ledger",),
    )
    add_treasury(config_path, pg_dr.port if port_in_dataset else None)
    config = str(config_path)
    system = ("--system", "core-banking")
    assert main(["-c", config, "backup", *system]) == 0
    assert main(["-c", config, "copy-offsite", *system]) == 0
    today = shanghai_today()
    code, out, err = run_cli(
        capsys,
        *("-c", config, "plan", "switchover", *system, "--record"),
        *("--start", today, "--end", today, "--notice-date", today),
    )
    assert code == 0, out + err
    treasury_before = pg_dump_text(pg_dr, corebank)
    assert "standby_marker" in treasury_before

    code, _, err = run_cli(capsys, "-c", config, "check-config", "--scenario", str(SWITCHOVER))
    assert code == 2, err
    assert "system 'treasury''s live production dataset 'ledger'" in err, err
    code, out, err = run_cli(
        capsys, "-c", config, "drill", "run", str(SWITCHOVER), "--confirm", "core-banking"
    )
    assert code == 2, out + err
    assert "steps[0].to_site" in err and "nothing was touched" in err, err
    assert pg_dump_text(pg_dr, corebank) == treasury_before
