"""What a test failover claims of production, on real sites (sshd, PostgreSQL, MariaDB,
SeaweedFS S3): "unchanged" only for what it read before and after and found equal.

- production's database absent before and after was never read: not claimed unchanged, and a
  quiet-window drill (production_may_change: false) fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from orchestrator.actions.drill import DrillOutcome, StepRecord, run_drill
from orchestrator.cli import main
from orchestrator.model.scenario import load_scenario
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.fixtures.databases import PostgresServer, psql
from tests.fixtures.real_site import build_config, new_database_name
from tests.integration.test_drill_real_site import SITE_FAILOVER, operator_corebank
from tests.integration.test_real_site import (  # noqa: F401 - fixtures used by name
    db_password,
    mariadb_sites,
    passwords,
    pg_sites,
    s3_stores,
    seed_mariadb_cards,
    site_beds,
)


def scenario_file(tmp_path: Path, *, may_change: bool, failback: bool = False) -> Path:
    """Write site-failover.yml with production_may_change set (and without its failback)."""
    data = yaml.safe_load(SITE_FAILOVER.read_text())
    data["production_may_change"] = may_change
    if not failback:
        data["steps"] = [s for s in data["steps"] if s["action"] != "test_failback"]
    path = tmp_path / ("live.yml" if may_change else "quiet-window.yml")
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def drill(config_path: Path, scenario_path: Path, during_failover: Any = None) -> DrillOutcome:
    """Run the scenario; once its test failover step has run, call during_failover()."""
    config = load_site(config_path)
    scenario = load_scenario(scenario_path, config.config.model)

    def on_step(record: StepRecord) -> None:
        if record.name == "test-failover" and during_failover is not None:
            during_failover()

    with open_runtime(config) as runtime:
        return run_drill(runtime, scenario, scenario_path, on_step=on_step)


def backed_up_ledger(
    tmp_path: Path, beds: Any, stores: dict[str, dict[str, object]], pg_prod: PostgresServer
) -> tuple[Path, str]:
    """The operator's corebank at production, backed up and copied off site; return the
    config's path and the database's name."""
    corebank = operator_corebank(pg_prod, new_database_name("corebank"))
    config_path = build_config(
        tmp_path, beds, stores=stores, databases={"ledger": corebank}, datasets=("ledger",)
    )
    assert main(["-c", str(config_path), "backup"]) == 0
    assert main(["-c", str(config_path), "copy-offsite"]) == 0
    return config_path, corebank


def test_production_absent_before_and_after_is_not_claimed_unchanged(
    tmp_path: Path,
    sshd_host: Any,
    sshd_host_b: Any,
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
) -> None:
    pg_prod, _ = pg_sites
    beds = site_beds(sshd_host, sshd_host_b, pg=pg_sites)
    config_path, corebank = backed_up_ledger(tmp_path, beds, s3_stores, pg_prod)
    psql(pg_prod, f'DROP DATABASE "{corebank}" WITH (FORCE);')  # nothing to read at production

    outcome = drill(config_path, scenario_file(tmp_path, may_change=False))
    assert outcome.outcome == "failed" and outcome.exit_code == 1
    wipe = next(step for step in outcome.steps if step.name == "wipe")
    assert wipe.status == "failed"
    assert "production could not be read (absent before and after: ledger)" in wipe.message
    production = outcome.measurements["production"]
    assert production["unchanged"] is None and production["unread"] == ["ledger"]
    assert production["differences"] == []

    live = drill(config_path, scenario_file(tmp_path, may_change=True))
    assert live.outcome == "passed"  # a live production's drill does not require it unchanged
    wipe = next(step for step in live.steps if step.name == "wipe")
    assert "production is not claimed unchanged" in wipe.message
    assert "unchanged (before = after)" not in wipe.message
    assert live.measurements["production"]["unchanged"] is None
