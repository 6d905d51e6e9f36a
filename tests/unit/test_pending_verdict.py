"""A package's findings are judged with its verdict written in a transaction that is rolled
back (actions/rule_status.rule_findings with `pending`): the rules see the verdict, the catalog
does not keep it. The verdict is committed only together with its evidence, so a process
killed in between leaves nothing counted (docs/crash-safety.md)."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import Connection, select

from orchestrator.actions.rule_status import collect_status, rule_findings
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.model import schema
from orchestrator.rules.status import Status
from orchestrator.runtime import Runtime, open_runtime
from orchestrator.site import load_site

DRILL = "20261130T000000Z-drill"


def start_drill(runtime: Runtime) -> None:
    with runtime.catalog.begin() as connection:
        connection.execute(
            schema.drills.insert().values(
                id=DRILL, scenario="sandbox", started_at=time.time() - 60, status="running"
            )
        )


def passed_both_ways(connection: Connection) -> None:
    connection.execute(
        schema.drills.update()
        .where(schema.drills.c.id == DRILL)
        .values(status="passed", finished_at=time.time(), failover_ok=True, failback_ok=True)
    )


def drill_status(runtime: Runtime) -> str:
    with runtime.catalog.begin() as connection:
        row = connection.execute(select(schema.drills.c.status)).one()
    return str(row.status)


def test_the_rules_judge_the_pending_verdict_and_the_catalog_does_not_keep_it(
    tmp_path: Path,
) -> None:
    with open_runtime(load_site(prepare_sandbox(tmp_path / "sb"))) as runtime:
        start_drill(runtime)
        [before] = rule_findings(runtime, ("dr.bidirectional",))
        [judged] = rule_findings(runtime, ("dr.bidirectional",), passed_both_ways)
        [after] = [f for f in collect_status(runtime).findings if f.rule == "dr.bidirectional"]
        assert before.status is Status.UNKNOWN
        assert judged.status is Status.COMPLIANT
        assert judged.measured == f"drill {DRILL}: failover ok, failback ok"
        # Rolled back: the drill is still running and status counts nothing.
        assert drill_status(runtime) == "running"
        assert after.status is Status.UNKNOWN
        assert after.measured == "no passed drill"
