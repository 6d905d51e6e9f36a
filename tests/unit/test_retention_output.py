"""What `drctl retention` says and exits with when a copy's files could not be removed after
its row was marked deleted, and for the leftovers an earlier pass left."""

from __future__ import annotations

from datetime import date

from orchestrator.actions.retention import RetentionPlan, RetentionResult
from orchestrator.actions.retention_delete import Deletion
from orchestrator.cli.retention import describe_retention, retention_dict, retention_exit
from orchestrator.errors import ExitCode

DELETION = Deletion("p1", "core", "ledger", "primary", date(2024, 3, 1), 0.0, 0.0, "rotation")
LEFTOVER = "leftover of deleted copy core/ledger/p0 in primary: removed"


def test_files_left_by_a_store_fault_are_named_and_exit_3() -> None:
    plan = RetentionPlan(0.0, (DELETION,))
    result = RetentionResult(plan, False, (DELETION,), "cfo", (DELETION,), (LEFTOVER,))
    text = describe_retention(result)
    assert "FILES LEFT: core/ledger p1 in primary" in text
    assert f"note: {LEFTOVER}" in text
    assert retention_dict(result)["files_left"] == ["core/ledger/p1@primary"]
    assert retention_exit(result) == ExitCode.INFRASTRUCTURE


def test_a_clean_pass_exits_0() -> None:
    plan = RetentionPlan(0.0, (DELETION,))
    result = RetentionResult(plan, False, (DELETION,), "cfo")
    assert "FILES LEFT" not in describe_retention(result)
    assert retention_exit(result) == ExitCode.OK
