"""What serve nodes put on the shared task queue, and the queue's options (no database)."""

from __future__ import annotations

import argparse
from datetime import date

import pytest

from orchestrator.actions.queue_jobs import QueuedAction, recently_failed, split_due
from orchestrator.actions.run_due import DueJob, plan_due
from orchestrator.actions.task_queue import queue_conninfo
from orchestrator.cli.service import queue_options
from orchestrator.errors import InputError
from orchestrator.model.jobs import CRASH_MARK
from orchestrator.model.snapshot import JobRow
from tests.fixtures.catalog_rows import PACK, local, model, snapshot

TODAY = date(2024, 3, 10)


def test_a_fresh_catalog_queues_the_backups_first_then_copies_then_site_wide_jobs() -> None:
    due = plan_due(model(), snapshot(), local(TODAY, 21), PACK)
    assert [a.key for a in split_due(due)] == ["backup:core-banking"]
    copies = [DueJob("copy_offsite", "core-banking", "x"), DueJob("retention", "all", "daily")]
    assert [a.key for a in split_due(copies)] == ["copy_offsite:core-banking"]
    assert [a.key for a in split_due(copies[1:])] == ["retention:all"]
    # A backup still running on the queue holds its system's copy and the site-wide jobs.
    assert split_due(copies, running={"backup:core-banking"}) == []
    assert split_due(copies[1:], running={"copy_offsite:cards"}) == []


def test_a_system_backup_and_copy_share_one_lock_site_wide_jobs_one_per_kind() -> None:
    assert QueuedAction("backup", "core").lock == QueuedAction("copy_offsite", "core").lock
    assert QueuedAction("backup", "core").lock != QueuedAction("backup", "cards").lock
    assert QueuedAction("verify", "all").lock == "all:verify"


def test_a_failed_action_waits_an_hour_a_crashed_one_not() -> None:
    at = local(TODAY, 21).timestamp()
    action = QueuedAction("backup", "core-banking")
    failed = JobRow(1, "due:backup", "core-banking", "failed", at - 1800, at - 1700, "host down")
    assert recently_failed(snapshot(jobs=[failed]), action, at)
    assert not recently_failed(snapshot(jobs=[failed]), action, at + 3600)
    crashed = JobRow(2, "due:backup", "core-banking", "aborted", at - 60, at - 50, CRASH_MARK)
    assert not recently_failed(snapshot(jobs=[failed, crashed]), action, at)


def test_only_a_postgresql_catalog_has_a_queue() -> None:
    assert queue_conninfo("sqlite:///state/catalog.sqlite") is None
    url = "postgresql+psycopg://drctl:s3cret@catalog.example:5433/drctl"
    assert queue_conninfo(url) == "postgresql://drctl:s3cret@catalog.example:5433/drctl"


class _Call:
    def __init__(self, **values: float) -> None:
        defaults = {"workers": 1, "per_host": 2, "per_store": 4}
        self.args = argparse.Namespace(**{**defaults, "heartbeat": 10.0, **values})
        self.args.stalled_after = values.get("stalled_after", 60.0)


def test_queue_options_refuse_a_heartbeat_that_would_call_live_nodes_dead() -> None:
    options = queue_options(_Call(workers=3, per_host=1))  # type: ignore[arg-type]
    assert options.concurrency == 3 and options.bounds.per_host == 1
    with pytest.raises(InputError, match="expected 0 < heartbeat < stalled-after"):
        queue_options(_Call(heartbeat=60.0, stalled_after=30.0))  # type: ignore[arg-type]
    with pytest.raises(InputError, match="--per-store 0: expected an integer >= 1"):
        queue_options(_Call(per_store=0))  # type: ignore[arg-type]
