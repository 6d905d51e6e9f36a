"""A validity check or a drill killed with SIGKILL between its verdict and its evidence never
leaves a verdict without evidence: the verdict is judged in a rolled-back transaction and committed
only with its package (docs/crash-safety.md). Real sandbox: ansible-runner, the SQLite
catalog, directory stores.

The kill comes at the first sign that the check (drill) has finished its work: a package in
the evidence directory, or its row no longer `running`. Whichever is seen first, the row must be
either still running and uncounted, or finished with the evidence package that exists and
verifies.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select

from orchestrator.actions.backup import run_backup
from orchestrator.actions.copy_offsite import run_copy_offsite
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.actions.workload import run_workload
from orchestrator.model import schema
from orchestrator.model.catalog import Catalog
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.integration.test_crash_safety import drctl, kill_hard, wait_for

SYSTEM = "core-banking"


def backed_up_sandbox(base: Path) -> Path:
    config_path = prepare_sandbox(base)
    with open_runtime(load_site(config_path)) as runtime:
        run_workload(runtime, SYSTEM, "production", "ledger", postings=40, seed=1)
        run_backup(runtime, SYSTEM, datasets=["ledger"])
        run_copy_offsite(runtime, systems=[SYSTEM])
    return config_path


def sample_checks(catalog: Catalog) -> list[Any]:
    table = schema.verifications
    with catalog.begin() as connection:
        return list(connection.execute(select(table).where(table.c.kind == "sample")))


def test_a_check_killed_after_its_work_has_no_verdict_without_evidence(tmp_path: Path) -> None:
    config_path = backed_up_sandbox(tmp_path / "sb")
    config = load_site(config_path).config
    catalog = Catalog(config.catalog_url)

    def finished_its_work() -> bool:
        packaged = any(config.evidence_dir.glob("verify-*"))
        return packaged or any(row.status != "running" for row in sample_checks(catalog))

    check = drctl(config_path, "verify")
    wait_for("the check's verdict or package", finished_its_work, check)
    kill_hard(check)

    [row] = sample_checks(catalog)
    if row.status == "running":
        assert not row.counted
        assert row.evidence_path is None
    else:
        assert row.status == "passed" and row.counted
        assert row.evidence_path, "a verdict was committed without its evidence"
        package = Path(row.evidence_path)
        assert package.is_dir()
        evidence_verifies(config_path, package)
    catalog.close()


def evidence_verifies(config_path: Path, package: Path) -> None:
    verified = subprocess.run(
        [sys.executable, "-m", "orchestrator", "-c", str(config_path)]
        + ["evidence", "verify", str(package)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr


def drills(catalog: Catalog) -> list[Any]:
    with catalog.begin() as connection:
        return list(connection.execute(select(schema.drills)))


def test_a_drill_killed_after_its_steps_has_no_verdict_without_evidence(tmp_path: Path) -> None:
    config_path = prepare_sandbox(tmp_path / "sb")
    with open_runtime(load_site(config_path)) as runtime:  # the catalog's tables, to poll
        config = runtime.config
    catalog = Catalog(config.catalog_url)

    def finished_its_steps() -> bool:
        packaged = any(config.evidence_dir.glob("drill-*"))
        return packaged or any(row.status != "running" for row in drills(catalog))

    drill = drctl(config_path, "drill", "run")
    wait_for("the drill's verdict or package", finished_its_steps, drill)
    kill_hard(drill)

    [row] = drills(catalog)
    if row.status == "running":
        assert row.evidence_path is None and row.rto_seconds is None
    else:
        assert row.status == "passed" and row.rto_seconds is not None
        assert row.evidence_path, "a drill's verdict was committed without its evidence"
        evidence_verifies(config_path, Path(row.evidence_path))
    catalog.close()
