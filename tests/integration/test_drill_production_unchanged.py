"""What a test failover claims of production, on real sites (sshd, PostgreSQL, MariaDB,
SeaweedFS S3): "unchanged" only for what it read before and after and found equal.

- production's database absent before and after was never read: not claimed unchanged, and a
  quiet-window drill (production_may_change: false) fails;
- a schema change at production (a view or function dropped, an index made, a grant) fails a
  quiet-window drill and is named by kind, though no row changed; untouched, the schema
  digests are equal and the drill passes; a live production's change is recorded only.
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
from tests.fixtures.databases import MariaDbServer, PostgresServer, mariadb_sql, psql
from tests.fixtures.real_site import DB_USER, build_config, new_database_name
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
    assert outcome.outcome == "failed" and outcome.exit_code == 1, [
        (step.name, step.status, step.message) for step in outcome.steps
    ]
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


def backed_up_both(
    tmp_path: Path,
    beds: Any,
    stores: dict[str, dict[str, object]],
    pg_prod: PostgresServer,
    mariadb_sites: tuple[MariaDbServer, MariaDbServer],  # noqa: F811
) -> tuple[Path, str, str]:
    """The operator's corebank (PostgreSQL) and cards (MariaDB) at production, backed up and
    copied off site; return the config's path and the two database names."""
    corebank = operator_corebank(pg_prod, new_database_name("corebank"))
    cards = new_database_name("cards")
    for server in mariadb_sites:
        mariadb_sql(server, f"CREATE DATABASE `{cards}` CHARACTER SET utf8mb4;")
    seed_mariadb_cards(mariadb_sites[0], cards)
    config_path = build_config(
        tmp_path, beds, stores=stores, databases={"ledger": corebank, "cards": cards}
    )
    assert main(["-c", str(config_path), "backup"]) == 0
    assert main(["-c", str(config_path), "copy-offsite"]) == 0
    return config_path, corebank, cards


def test_schema_change_in_production_fails_a_quiet_window_drill_and_is_named(
    tmp_path: Path,
    sshd_host: Any,
    sshd_host_b: Any,
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    mariadb_sites: tuple[MariaDbServer, MariaDbServer],  # noqa: F811
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
) -> None:
    """Views, functions, indexes and grants changed at production while the drill ran (no
    row changed): the rows' fingerprint alone called that "unchanged"."""
    pg_prod, maria_prod = pg_sites[0], mariadb_sites[0]
    beds = site_beds(sshd_host, sshd_host_b, pg=pg_sites, maria=mariadb_sites)
    config_path, corebank, cards = backed_up_both(tmp_path, beds, s3_stores, pg_prod, mariadb_sites)

    def schema_goes_on() -> None:
        psql(
            pg_prod,
            "DROP VIEW treasury.exposure; DROP FUNCTION treasury.limit_for(text);"
            " CREATE INDEX postings_memo ON postings (memo); GRANT ALL ON accounts TO PUBLIC;",
            corebank,
        )
        mariadb_sql(
            maria_prod,
            "CREATE INDEX cards_holder ON cards (holder);"
            " CREATE VIEW big_limits AS SELECT id FROM cards WHERE limit_cents > 100;"
            f" GRANT SELECT ON cards TO '{DB_USER}'@'127.0.0.1';",
            cards,
        )

    outcome = drill(config_path, scenario_file(tmp_path, may_change=False), schema_goes_on)
    assert outcome.outcome == "failed" and outcome.exit_code == 1
    wipe = next(step for step in outcome.steps if step.name == "wipe")
    assert wipe.status == "failed" and "production's fingerprint changed" in wipe.message
    production = outcome.measurements["production"]
    assert production["unchanged"] is False
    changed = {d.split(" changed")[0] for d in production["differences"]}
    assert changed == {
        "ledger: schema views",
        "ledger: schema relations",  # the view and the index are relations too
        "ledger: schema columns",  # the view's column
        "ledger: schema functions",
        "ledger: schema indexes",
        "ledger: schema privileges",
        "cards: schema indexes",
        "cards: schema tables",
        "cards: schema columns",
        "cards: schema views",
        "cards: schema privileges",
    }, production["differences"]
    assert "ledger: schema views changed (1 → 0 objects)" in production["differences"]
    before, after = production["before"]["datasets"], production["after"]["datasets"]
    assert before["ledger"]["objects"] == after["ledger"]["objects"]  # no row changed
    assert before["ledger"]["schema"]["digest"] != after["ledger"]["schema"]["digest"]


def test_quiet_window_drill_with_production_untouched_passes_and_states_what_it_compared(
    tmp_path: Path,
    sshd_host: Any,
    sshd_host_b: Any,
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    mariadb_sites: tuple[MariaDbServer, MariaDbServer],  # noqa: F811
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
) -> None:
    """The whole scenario (the failback restores beside production, on its server) leaves
    production's schema digests equal; a live production's grant is recorded, not failed."""
    pg_prod = pg_sites[0]
    beds = site_beds(sshd_host, sshd_host_b, pg=pg_sites, maria=mariadb_sites)
    config_path, corebank, _ = backed_up_both(tmp_path, beds, s3_stores, pg_prod, mariadb_sites)

    quiet = drill(config_path, scenario_file(tmp_path, may_change=False, failback=True))
    assert quiet.outcome == "passed", [(s.name, s.message) for s in quiet.steps]
    production = quiet.measurements["production"]
    assert production["unchanged"] is True and production["differences"] == []
    assert "schema digest of each kind of object" in production["compared"]
    for dataset in ("ledger", "cards"):
        schema = production["before"]["datasets"][dataset]["schema"]
        assert schema == production["after"]["datasets"][dataset]["schema"]
        assert schema["kinds"]["privileges"]["objects"] > 0
    wipe = next(step for step in quiet.steps if step.name == "wipe")
    assert "schema objects and privileges" in wipe.message

    def grant() -> None:
        psql(pg_prod, "GRANT SELECT ON postings TO PUBLIC;", corebank)

    live = drill(config_path, scenario_file(tmp_path, may_change=True), grant)
    assert live.outcome == "passed"
    production = live.measurements["production"]
    assert production["unchanged"] is False
    assert [d.split(" (")[0] for d in production["differences"]] == [
        "ledger: schema privileges changed"
    ]
