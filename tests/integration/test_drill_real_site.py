"""Drills on real sites never touch production (issue 9), against real sshd, PostgreSQL,
MariaDB and SeaweedFS S3 with Object Lock.

- the test failover (drills/site-failover.yml) restores into drill-scoped targets only: the
  operator's own databases at production *and* at disaster recovery are byte-for-byte the same
  afterwards, no drill-scoped database or directory remains, and the evidence shows
  production's fingerprint before and after, the wipe, RTO and RPO;
- a real-site scenario that seeds, writes or destroys is refused with exit 2, nothing touched;
- a switchover runs only with a recorded plan, --confirm and a recent verified point;
- a drill whose first step cannot reach its host is aborted (exit 3) and not counted.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from orchestrator.actions.drill import StepRecord, run_drill
from orchestrator.cli import main
from orchestrator.integrations.ansible import run_playbook
from orchestrator.model import catalog as cat
from orchestrator.model import schema
from orchestrator.model.drill_targets import make_target
from orchestrator.model.engines import make_playbook_item
from orchestrator.model.scenario import load_scenario
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.fixtures.databases import PG_BIN, MariaDbServer, PostgresServer, mariadb_sql, psql
from tests.fixtures.netns import NetnsHost
from tests.fixtures.process import require_binary
from tests.fixtures.real_site import (
    DB_USER,
    REPO,
    build_config,
    idle_pg_session,
    new_database_name,
    pg_create_owned_database,
    pg_database_exists,
)
from tests.integration.test_real_site import (  # noqa: F401 - fixtures used by name
    db_password,
    grep_secret,
    mariadb_sites,
    passwords,
    pg_sites,
    s3_stores,
    seed_mariadb_cards,
    seed_pg_ledger,
    site_beds,
)

SITE_FAILOVER = REPO / "drills" / "site-failover.yml"
SWITCHOVER = REPO / "drills" / "planned-switchover.yml"
LATER_POSTINGS = 25
# Manifest and measured times are kept to the millisecond: the slack of a bound on them.
CLOCK_SLACK = 0.01


def epoch(text: str) -> float:
    """Given RFC 3339 UTC text of a report ("…Z"), return epoch seconds."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def pg_dump_text(server: PostgresServer, database: str) -> str:
    """Return the whole database as pg_dump's plain SQL: schema, owners, every row (without
    the random `\\restrict` key recent pg_dump releases put in every dump)."""
    result = subprocess.run(
        [str(PG_BIN / "pg_dump"), "-h", server.host, "-p", str(server.port)]
        + ["-U", server.superuser, "-d", database, "--no-password"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PGPASSWORD": server.password},
    )
    assert result.returncode == 0, result.stderr
    return "".join(
        line
        for line in result.stdout.splitlines(keepends=True)
        if not line.startswith(("\\restrict ", "\\unrestrict "))
    )


def mariadb_dump_text(server: MariaDbServer, database: str) -> bytes:
    """Return the whole database as mariadb-dump's SQL bytes (no dump date: stable when
    unchanged)."""
    argv = [require_binary("mariadb-dump"), "--no-defaults", f"--socket={server.socket}"]
    argv += ["--user=root", "--skip-dump-date", "--single-transaction", "--routines", database]
    result = subprocess.run(argv, capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def pg_names_like(server: PostgresServer, pattern: str) -> list[str]:
    rows = psql(server, f"SELECT datname FROM pg_database WHERE datname LIKE '{pattern}';")
    return rows.split()


def mariadb_names_like(server: MariaDbServer, pattern: str) -> list[str]:
    query = "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE"
    return mariadb_sql(server, f"{query} '{pattern}';").split()


def operator_corebank(server: PostgresServer, name: str) -> str:
    """The operator's own `corebank`: the ledger tables the config's invariant names, plus a
    schema of its own with a table, a view and a function drctl knows nothing about."""
    pg_create_owned_database(server, name)
    seed_pg_ledger(server, name)
    psql(
        server,
        f"""
SET ROLE {DB_USER};
CREATE SCHEMA treasury;
CREATE TABLE treasury.positions (desk text PRIMARY KEY, amount numeric(20, 4) NOT NULL);
INSERT INTO treasury.positions VALUES ('fx', 1234567.8901), ('rates', -42.5);
CREATE VIEW treasury.exposure AS SELECT sum(amount) AS total FROM treasury.positions;
CREATE FUNCTION treasury.limit_for(d text) RETURNS numeric LANGUAGE sql
  AS $$ SELECT amount * 2 FROM treasury.positions WHERE desk = d $$;
COMMENT ON SCHEMA treasury IS 'owned by the bank, not by drctl';
""",
        name,
    )
    return name


def standby(server: PostgresServer, name: str) -> str:
    """The disaster-recovery site's own live database of the same name (a standby, say)."""
    pg_create_owned_database(server, name)
    psql(server, f"SET ROLE {DB_USER}; CREATE TABLE standby_marker (note text);", name)
    psql(server, "INSERT INTO standby_marker VALUES ('the DR site''s own data');", name)
    return name


def add_postings(server: PostgresServer, database: str, count: int) -> None:
    """Write postings the way the bank's application does, keeping balances equal."""
    psql(
        server,
        f"""
INSERT INTO postings (account_id, amount_cents, memo)
  SELECT 1 + i % 40, 100 + i, 'after the backup ' || i FROM generate_series(1, {count}) i;
UPDATE accounts a SET balance_cents = s.total FROM
  (SELECT account_id, sum(amount_cents) AS total FROM postings GROUP BY account_id) s
  WHERE a.id = s.account_id;
""",
        database,
    )


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_test_failover_restores_into_drill_targets_and_leaves_production_untouched(
    tmp_path: Path,
    sshd_host: Any,
    sshd_host_b: Any,
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    mariadb_sites: tuple[MariaDbServer, MariaDbServer],  # noqa: F811
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    (pg_prod, pg_dr), (maria_prod, maria_dr) = pg_sites, mariadb_sites
    corebank = operator_corebank(pg_prod, new_database_name("corebank"))
    standby(pg_dr, corebank)
    cards = new_database_name("cards")
    for server in mariadb_sites:
        mariadb_sql(server, f"CREATE DATABASE `{cards}` CHARACTER SET utf8mb4;")
    seed_mariadb_cards(maria_prod, cards)
    mariadb_sql(maria_dr, "CREATE TABLE standby_marker (note TEXT);", cards)
    config = str(
        build_config(
            tmp_path,
            site_beds(sshd_host, sshd_host_b, pg=pg_sites, maria=mariadb_sites),
            stores=s3_stores,
            databases={"ledger": corebank, "cards": cards},
        )
    )
    backup_began = time.time()
    assert main(["-c", config, "backup"]) == 0
    backup_ended = time.time()
    assert main(["-c", config, "copy-offsite"]) == 0
    add_postings(pg_prod, corebank, LATER_POSTINGS)  # production moves on after the backup
    before: dict[str, str | bytes] = {
        "prod-pg": pg_dump_text(pg_prod, corebank),
        "dr-pg": pg_dump_text(pg_dr, corebank),
        "prod-maria": mariadb_dump_text(maria_prod, cards),
        "dr-maria": mariadb_dump_text(maria_dr, cards),
    }
    assert "treasury.positions" in before["prod-pg"] and "standby_marker" in before["dr-pg"]
    assert b"standby_marker" in before["dr-maria"]

    code, out, err = run_cli(capsys, "-c", config, "--json", "drill", "run", str(SITE_FAILOVER))
    result = json.loads(out)
    assert code == 0, (result["steps"], err)
    assert result["outcome"] == "passed"
    assert [s["status"] for s in result["steps"]] == ["passed", "passed", "passed"]

    # Production and the DR site's own databases: byte for byte what they were.
    after = {
        "prod-pg": pg_dump_text(pg_prod, corebank),
        "dr-pg": pg_dump_text(pg_dr, corebank),
        "prod-maria": mariadb_dump_text(maria_prod, cards),
        "dr-maria": mariadb_dump_text(maria_dr, cards),
    }
    for name in before:
        assert after[name] == before[name], f"{name} changed during the drill"
    # Nothing drill-scoped remains at either site: databases, scratch copies, directories.
    token = result["drill"].lower().replace("-", "_")
    for pg in pg_sites:
        assert pg_names_like(pg, f"drill\\_{token}%") == []
    for maria in mariadb_sites:
        assert mariadb_names_like(maria, f"drill\\_{token}%") == []
    for spool in (tmp_path / "sites").glob("*/spool"):
        assert not [p for p in spool.iterdir() if p.name.startswith("drill-")], spool

    evidence = Path(result["evidence"])
    assert main(["-c", str(config), "evidence", "verify", str(evidence)]) == 0
    report = json.loads((evidence / "report.json").read_text())
    # Each leg's restore is timed per dataset beside the documented objective (R140).
    for step in report["steps"]:
        if step["action"] in ("test_failover", "test_failback"):
            timed = step["detail"]["restore_times"]
            assert {t["dataset"] for t in timed} == {"ledger", "cards"}, step["name"]
            assert {(t["objective_seconds"], t["within_objective"]) for t in timed} == {
                (3600.0, True)
            }
            assert "(objective ≤ 3600 s: within)" in step["message"]
    production = report["production"]
    assert production["unchanged"] is True and production["differences"] == []
    assert production["before"]["datasets"] == production["after"]["datasets"]
    ledger_before = production["before"]["datasets"]["ledger"]["objects"]
    assert ledger_before["postings"]["rows"] == 400 + LATER_POSTINGS
    assert "treasury.positions" in ledger_before
    # The wipe names every target it dropped, at both sites, and that nothing remains.
    wipe = report["wipe"]
    assert wipe["complete"] is True and wipe["remains"] == []
    dropped = {(r["site"], r["engine"], r["target"]) for r in wipe["removed"] if r.get("engine")}
    targets = {(t["site"], t["engine"], t["target"]) for t in report["drill_targets"]}
    assert dropped == targets and len(targets) == 4
    assert {t["leg"] for t in report["drill_targets"]} == {"fo", "fb"}
    assert all(t["target"].startswith(f"drill_{token}_") for t in report["drill_targets"])
    assert all(r["existed"] for r in wipe["removed"] if r.get("engine"))
    # RTO and RPO measured against production's live state: the disaster is declared and the
    # failover verified within the test-failover step, so the RTO lies within the step and the
    # RPO (restored backup's start → disaster) between the backup and the step. Bracketed by
    # clock readings, not compared with each other: which is longer depends on the load.
    rto, rpo = result["rto_seconds"], result["rpo_seconds"]
    failover = next(s for s in report["steps"] if s["name"] == "test-failover")
    began, ended = (epoch(failover[key]) for key in ("started_at", "finished_at"))
    assert 0 < rto <= ended - began + CLOCK_SLACK, (rto, failover)
    assert began - backup_ended - CLOCK_SLACK <= rpo, (rpo, backup_ended, failover)
    assert rpo <= ended - backup_began + CLOCK_SLACK, (rpo, backup_began, failover)
    assert result["postings_lost"] == LATER_POSTINGS
    assert result["rows_behind"]["ledger"]["postings"] == LATER_POSTINGS
    assert result["rows_behind"]["cards"]["cards"] == 0
    # The rules' own findings: both directions, the year's drill, and this system's RTO/RPO
    # against the scenario's objectives and restore times against the system's target.
    assert {f["rule"]: f["status"] for f in report["findings"]} == {
        "dr.bidirectional": "compliant",
        "drill.yearly": "compliant",
        "drill.objectives": "compliant",
        "restore.duration": "compliant",
    }
    objectives = next(f for f in report["findings"] if f["rule"] == "drill.objectives")
    assert "(objective 1800 s)" in objectives["measured"]
    assert grep_secret([tmp_path, evidence], passwords) == []


@pytest.mark.parametrize(
    "scenario",
    ["sandbox-failover.yml", "workload-step", "disaster-step", "failover-step"],
)
def test_real_site_scenario_that_writes_or_destroys_is_refused(
    tmp_path: Path,
    sshd_host: Any,
    sshd_host_b: Any,
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    scenario: str,
) -> None:
    pg_prod, pg_dr = pg_sites
    corebank = operator_corebank(pg_prod, new_database_name("corebank"))
    standby(pg_dr, corebank)
    config_path = build_config(
        tmp_path,
        site_beds(sshd_host, sshd_host_b, pg=pg_sites),
        stores=s3_stores,
        databases={"ledger": corebank},
        datasets=("ledger",),
    )
    path = REPO / "drills" / scenario
    if not scenario.endswith(".yml"):
        path = tmp_path / f"{scenario}.yml"
        steps = {
            "workload-step": {"action": "workload", "site": "production", "dataset": "ledger"},
            "disaster-step": {"action": "disaster", "site": "production"},
            "failover-step": {
                "action": "failover",
                "from_store": "offsite",
                "to_site": "disaster-recovery",
            },
        }
        data = yaml.safe_load(SITE_FAILOVER.read_text())
        data["steps"] = [{"name": "harm", **steps[scenario]}, *data["steps"]]
        path.write_text(yaml.safe_dump(data, allow_unicode=True))
    before = (pg_dump_text(pg_prod, corebank), pg_dump_text(pg_dr, corebank))
    config = str(config_path)

    code, _, err = run_cli(capsys, "-c", config, "check-config", "--scenario", str(path))
    assert code == 2, err
    assert str(path) in err and "steps[0].action" in err and "not a sandbox site" in err
    code, out, err = run_cli(capsys, "-c", config, "drill", "run", str(path))
    assert code == 2, out + err
    assert "steps[0].action" in err and "refused, nothing was touched" in err
    assert "Traceback" not in err
    # Nothing touched: both sites' databases as they were, no catalog, no playbook run.
    assert (pg_dump_text(pg_prod, corebank), pg_dump_text(pg_dr, corebank)) == before
    assert not (tmp_path / "state").exists()
    # The shipped test failover passes the same check.
    code, out, err = run_cli(capsys, "-c", config, "check-config", "--scenario", str(SITE_FAILOVER))
    assert code == 0, err
    assert f"{SITE_FAILOVER}: ok (drill)" in out


def shanghai_today() -> str:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


def test_switchover_runs_only_with_plan_confirmation_and_recent_verified_point(
    tmp_path: Path,
    sshd_host: Any,
    sshd_host_b: Any,
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    pg_prod, pg_dr = pg_sites
    corebank = operator_corebank(pg_prod, new_database_name("corebank"))
    standby(pg_dr, corebank)
    config_path = build_config(
        tmp_path,
        site_beds(sshd_host, sshd_host_b, pg=pg_sites),
        stores=s3_stores,
        databases={"ledger": corebank},
        datasets=("ledger",),
    )
    config = str(config_path)
    assert main(["-c", config, "backup"]) == 0
    assert main(["-c", config, "copy-offsite"]) == 0
    production = pg_dump_text(pg_prod, corebank)
    standby_dump = pg_dump_text(pg_dr, corebank)
    run = ("-c", config, "drill", "run", str(SWITCHOVER))

    def refused(*extra: str) -> str:
        code, out, err = run_cli(capsys, *run, *extra)
        assert code == 2, out + err
        assert pg_dump_text(pg_dr, corebank) == standby_dump  # nothing touched
        assert "nothing was touched" in err
        return err

    err = refused()
    assert "--confirm" in err and "no switchover plan is recorded" in err
    err = refused("--confirm", "core-banking")
    assert "no switchover plan is recorded" in err and "--confirm:" not in err
    today = shanghai_today()
    code, out, err = run_cli(
        capsys,
        *("-c", config, "plan", "switchover", "--system", "core-banking", "--record"),
        *("--start", today, "--end", today, "--notice-date", today),
    )
    assert code == 0, out + err
    assert "recorded_plan: plan-" in out
    err = refused()
    assert "--confirm" in err and "plan:" not in err
    err = refused("--confirm", "cards-system")
    assert "got 'cards-system'" in err
    # The only off-site point is made 25 h old: not recent enough.
    with open_runtime(load_site(config_path)) as runtime:
        with runtime.catalog.begin() as connection:
            (point,) = cat.list_recovery_points(connection)
            cat.mark_recovery_point(connection, point.id, finished_at=time.time() - 25 * 3600)
    err = refused("--confirm", "core-banking")
    assert "no verified recovery point from the last 24 h in store 'offsite'" in err
    assert f"the newest is {point.id}" in err
    with open_runtime(load_site(config_path)) as runtime:
        with runtime.catalog.begin() as connection:
            cat.mark_recovery_point(connection, point.id, finished_at=point.finished_at)

    code, out, err = run_cli(capsys, "--json", *run, "--confirm", "core-banking")
    result = json.loads(out)
    assert code == 0, (result["steps"], err)
    # The DR site's live database is now the restored ledger; production is as it was.
    assert "standby_marker" not in pg_dump_text(pg_dr, corebank)
    assert psql(pg_dr, "SELECT count(*) FROM postings;", corebank).strip() == "400"
    assert pg_dump_text(pg_prod, corebank) == production
    report = json.loads((Path(result["evidence"]) / "report.json").read_text())
    assert report["switchover"]["points"] == {"ledger": point.id}
    assert report["switchover"]["confirmed"] == "core-banking"
    assert report["findings"] == []  # a switchover is not a drill
    with open_runtime(load_site(config_path)) as runtime:
        with runtime.catalog.begin() as connection:
            assert list(connection.execute(schema.drills.select())) == []
            jobs = [j for j in connection.execute(schema.jobs.select()) if j.kind == "switchover"]
    assert [(j.subject, j.state) for j in jobs] == [("core-banking", "succeeded")]
    # status judges switchover.notice from the recorded plan (a one-day window: the notice
    # rule does not apply; without calendar data for the year it cannot be judged).
    code, out, err = run_cli(capsys, "-c", config, "--json", "status")
    notice = [f for f in json.loads(out)["findings"] if f["rule"] == "switchover.notice"]
    assert [f["subject"] for f in notice] == ["core-banking"], notice
    assert notice[0]["status"] in ("not_applicable", "unknown")
    assert notice[0]["evidence"].startswith("catalog switchover_plans plan-")


def drill_rules(config: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, out, err = run_cli(capsys, "-c", config, "--json", "status")
    assert code in (0, 1), err
    findings = json.loads(out)["findings"]
    return {
        f["rule"]: (f["status"], f["measured"], f["reason"])
        for f in findings
        if f["rule"] in ("drill.yearly", "dr.bidirectional")
    }


def test_drill_whose_first_step_cannot_reach_its_host_is_aborted_and_not_counted(
    tmp_path: Path,
    sshd_host: Any,
    netns_hosts: dict[str, NetnsHost],
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    disaster_recovery = netns_hosts["disaster_recovery"]
    corebank = operator_corebank(pg_sites[0], new_database_name("corebank"))
    config_path = build_config(
        tmp_path,
        site_beds(sshd_host, disaster_recovery.host, pg=pg_sites),
        stores=s3_stores,
        databases={"ledger": corebank},
        datasets=("ledger",),
    )
    config = str(config_path)
    assert main(["-c", config, "backup"]) == 0
    assert main(["-c", config, "copy-offsite"]) == 0
    judged_before = drill_rules(config, capsys)
    assert judged_before["dr.bidirectional"][0] == "unknown"
    disaster_recovery.partition("drop")
    try:
        code, out, err = run_cli(capsys, "-c", config, "--json", "drill", "run", str(SITE_FAILOVER))
    finally:
        disaster_recovery.heal()
    result = json.loads(out)
    assert code == 3, (result, err)
    assert result["outcome"] == "aborted" and result["passed"] is False
    first = result["steps"][0]
    assert first["status"] == "aborted" and "unreachable" in first["message"].lower()
    assert "dr-db-1" in first["message"]
    report = json.loads((Path(result["evidence"]) / "report.json").read_text())
    assert report["outcome"] == "aborted" and report["findings"] == []
    assert report["verdict_note"]["en"].startswith("The drill was aborted")
    with open_runtime(load_site(config_path)) as runtime:
        with runtime.catalog.begin() as connection:
            (row,) = list(connection.execute(schema.drills.select()))
    assert row.status == "aborted" and row.failover_ok is None and row.failback_ok is None
    # status judges drill.yearly and dr.bidirectional exactly as before the drill.
    assert drill_rules(config, capsys) == judged_before


def test_wipe_ends_sessions_on_a_drill_database_and_proves_it_gone(
    tmp_path: Path,
    sshd_host: Any,
    sshd_host_b: Any,
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
) -> None:
    _, pg_dr = pg_sites
    live = standby(pg_dr, new_database_name("corebank"))
    config_path = build_config(
        tmp_path,
        site_beds(sshd_host, sshd_host_b, pg=pg_sites),
        stores=s3_stores,
        databases={"ledger": live},
        datasets=("ledger",),
    )
    with open_runtime(load_site(config_path)) as runtime:
        model = runtime.config.model
        site = model.site("disaster-recovery")
        target = make_target(site, model.systems[0].datasets[0], 0, "20261123T020000Z-feed01", "fo")
        pg_create_owned_database(pg_dr, target.target)
        item = make_playbook_item(site, model.systems[0].datasets[0], site.spool)
        item["database"] = target.target
        directory = f"{site.spool}/drill-{target.drill_id}"
        Path(directory, "fo").mkdir(parents=True)
        with idle_pg_session(pg_dr, target.target, passwords) as session:
            run = run_playbook(
                "drill_wipe.yml",
                inventory=runtime.config.inventory,
                extravars={"dr_host": site.host, "dr_datasets": [item], "dr_paths": [directory]},
                ident="drill-wipe-test",
                work_dir=runtime.work_dir,
                limit=site.host,
            )
            output, _ = session.communicate("SELECT 'still here';\n", timeout=60)
    assert run.ok, run.failures
    dropped = run.result(site.host, "destroy:ledger")
    assert dropped["target"] == target.target and dropped["destroyed"] is True
    assert dropped["exists"] is False and dropped["sessions_ended"] >= 1
    assert "still here" not in output
    assert run.result(site.host, "wipe:drill")["removed"] == [directory]
    assert not pg_database_exists(pg_dr, target.target) and not Path(directory).exists()
    assert pg_database_exists(pg_dr, live)  # the live database of that site stays


def test_production_changing_during_a_quiet_window_drill_fails_it_and_is_recorded(
    tmp_path: Path,
    sshd_host: Any,
    sshd_host_b: Any,
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
) -> None:
    """production_may_change: false — a change between the before and after fingerprints is
    never reported as "unchanged": the drill fails and names it (the wipe still ran)."""
    pg_prod, _ = pg_sites
    corebank = operator_corebank(pg_prod, new_database_name("corebank"))
    config_path = build_config(
        tmp_path,
        site_beds(sshd_host, sshd_host_b, pg=pg_sites),
        stores=s3_stores,
        databases={"ledger": corebank},
        datasets=("ledger",),
    )
    assert main(["-c", str(config_path), "backup"]) == 0
    assert main(["-c", str(config_path), "copy-offsite"]) == 0
    data = yaml.safe_load(SITE_FAILOVER.read_text())
    data["production_may_change"] = False
    data["steps"] = [s for s in data["steps"] if s["action"] != "test_failback"]
    path = tmp_path / "quiet-window.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    config = load_site(config_path)
    scenario = load_scenario(path, config.config.model)

    def business_goes_on(record: StepRecord) -> None:
        if record.name == "test-failover":  # the bank's application posts meanwhile
            add_postings(pg_prod, corebank, 3)

    with open_runtime(config) as runtime:
        outcome = run_drill(runtime, scenario, path, on_step=business_goes_on)
    assert outcome.outcome == "failed" and outcome.exit_code == 1
    wipe = next(step for step in outcome.steps if step.name == "wipe")
    assert wipe.status == "failed" and "production's fingerprint changed" in wipe.message
    production = outcome.measurements["production"]
    assert production["unchanged"] is False
    assert any(
        d.startswith("ledger: postings:") and "rows expected 400, got 403" in d
        for d in production["differences"]
    )
    assert production["after"]["datasets"]["ledger"]["objects"]["postings"]["rows"] == 403
    assert outcome.measurements["wipe"]["complete"] is True
    assert outcome.measurements["wipe"]["remains"] == []
    assert pg_names_like(pg_prod, f"drill\\_{outcome.drill_id.lower().replace('-', '_')}%") == []


def alias_production_host(config_path: Path, production: dict[str, Any]) -> str:
    """Add an inventory host that is production's under another name (same address, port and
    database servers); return its name."""
    data = yaml.safe_load(config_path.read_text())
    inventory = Path(data["inventory"])
    line = next(
        row for row in inventory.read_text().splitlines() if row.startswith(production["host"])
    )
    alias = "sandbox-db-1"
    with inventory.open("a", encoding="utf-8") as handle:
        handle.write(f"\n[sandbox_aliases]\n{alias}{line[len(production['host']) :]}\n")
    return alias


@pytest.mark.parametrize("where", ["same host", "another name for it"])
def test_sandbox_site_reaching_a_real_sites_data_may_not_seed_or_destroy(
    tmp_path: Path,
    sshd_host: Any,
    sshd_host_b: Any,
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    where: str,
) -> None:
    """A site marked sandbox whose host is a real site's host — by its name, or by another
    inventory name for the same address and database servers — reaches that real site's
    database server: its databases have the live names. Seeding or destroying there is
    refused (exit 2), nothing touched, as on the real site itself."""
    pg_prod, _ = pg_sites
    corebank = operator_corebank(pg_prod, new_database_name("corebank"))
    config_path = build_config(
        tmp_path,
        site_beds(sshd_host, sshd_host_b, pg=pg_sites),
        stores=s3_stores,
        databases={"ledger": corebank},
        datasets=("ledger",),
    )
    data = yaml.safe_load(config_path.read_text())
    production = next(s for s in data["sites"] if s["name"] == "production")
    host = production["host"]
    if where != "same host":
        host = alias_production_host(config_path, production)
    for site in data["sites"]:
        if site["name"] == "disaster-recovery":
            site.update(sandbox=True, host=host)
    config_path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    path = tmp_path / "test-site.yml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "test-site",
                "title": {"zh": "测试", "en": "test"},
                "system": "core-banking",
                "steps": [
                    {"name": "seed", "action": "workload", "site": "disaster-recovery"}
                    | {"dataset": "ledger"},
                    {"name": "disaster", "action": "disaster", "site": "disaster-recovery"},
                    {"name": "failover", "action": "failover", "from_store": "offsite"}
                    | {"to_site": "disaster-recovery"},
                ],
            }
        )
    )
    before = pg_dump_text(pg_prod, corebank)
    config = str(config_path)
    code, _, err = run_cli(capsys, "-c", config, "check-config", "--scenario", str(path))
    assert code == 2, err
    assert "steps[0].action" in err and "steps[1].action" in err, err
    assert "prod-db-1" in err and "site 'production'" in err, err
    if where != "same host":
        assert "reach the same database server (postgresql " in err, err
    code, out, err = run_cli(capsys, "-c", config, "drill", "run", str(path))
    assert code == 2, out + err
    assert "refused, nothing was touched" in err
    assert pg_dump_text(pg_prod, corebank) == before


def test_switchover_into_the_production_site_is_refused_even_when_cleared(
    tmp_path: Path,
    sshd_host: Any,
    sshd_host_b: Any,
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A switchover makes the disaster-recovery site take over: it replaces that site's live
    data. One whose failover restores into the system's production site would replace the
    serving database with a point up to 24 h old (every posting since lost): exit 2 from
    check-config and drill run, with a plan, --confirm and a fresh point all present."""
    pg_prod, _ = pg_sites
    corebank = operator_corebank(pg_prod, new_database_name("corebank"))
    config_path = build_config(
        tmp_path,
        site_beds(sshd_host, sshd_host_b, pg=pg_sites),
        stores=s3_stores,
        databases={"ledger": corebank},
        datasets=("ledger",),
    )
    config = str(config_path)
    assert main(["-c", config, "backup"]) == 0
    assert main(["-c", config, "copy-offsite"]) == 0
    add_postings(pg_prod, corebank, LATER_POSTINGS)  # the bank goes on after the backup
    today = shanghai_today()
    code, out, err = run_cli(
        capsys,
        *("-c", config, "plan", "switchover", "--system", "core-banking", "--record"),
        *("--start", today, "--end", today, "--notice-date", today),
    )
    assert code == 0, out + err
    data = yaml.safe_load(SWITCHOVER.read_text())
    data["steps"][0]["to_site"] = "production"
    path = tmp_path / "switch-into-production.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    before = pg_dump_text(pg_prod, corebank)

    code, _, err = run_cli(capsys, "-c", config, "check-config", "--scenario", str(path))
    assert code == 2, err
    assert "steps[0].to_site" in err and "production site" in err, err
    code, out, err = run_cli(
        capsys, "-c", config, "drill", "run", str(path), "--confirm", "core-banking"
    )
    assert code == 2, out + err
    assert "steps[0].to_site" in err and "nothing was touched" in err, err
    assert pg_dump_text(pg_prod, corebank) == before
