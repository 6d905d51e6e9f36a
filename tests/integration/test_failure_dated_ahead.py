"""A bad mark written by a node whose clock runs ahead is believed at once.

Seen: `verify --all` run with the clock 600 s ahead recorded its mismatch dated 600 s in the
future; on a node with the right clock `status` listed no bad point, `backup.rotation` counted
none open and `dr_recovery_points_bad` was 0 — only the `dated_after_now` warning showed, and a
scan with the right clock found the mismatch again without recording it twice. Rows dated ahead
are not believed when they claim something good (a newer backup, a passed check); a bad mark
claims the opposite, so it is taken as detected now.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.actions.backup import run_backup
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.actions.workload import run_workload
from orchestrator.cli import main
from orchestrator.model import catalog as cat
from orchestrator.model import integrity
from orchestrator.model.integrity import Failure
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site

SYSTEM = "core-banking"


def test_a_bad_mark_dated_ahead_of_the_clock_is_counted_now(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = prepare_sandbox(tmp_path / "sb")
    with open_runtime(load_site(config)) as runtime:
        run_workload(runtime, SYSTEM, "production", "ledger", postings=20, seed=3)
        point = run_backup(runtime, SYSTEM, datasets=["ledger"])[0]
        failure = Failure(
            point.recovery_point_id,
            SYSTEM,
            "ledger",
            point.store,
            "ledger.db",
            "mismatch",
            "a",
            "b",
        )
        with runtime.catalog.begin() as connection:  # as the node 600 s ahead wrote it
            integrity.record_failures(
                connection, [failure], detected_by="verify --all ahead", at=cat.now() + 600
            )
    main(["-c", str(config), "--json", "status"])
    status = json.loads(capsys.readouterr().out)
    [row] = [r for r in status["datasets"] if (r["system"], r["dataset"]) == (SYSTEM, "ledger")]
    assert row["bad_recovery_points"] == [point.recovery_point_id], row
    [rotation] = [
        f
        for f in status["findings"]
        if (f["rule"], f["subject"]) == ("backup.rotation", f"{SYSTEM}/ledger")
    ]
    assert "1 bad recovery point(s) open" in rotation["measured"], rotation
    assert any("dated" in warning for warning in status.get("warnings", [])), status["warnings"]
