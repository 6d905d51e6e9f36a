"""What serve nodes put on the shared task queue, and the queue's options (no database)."""

from __future__ import annotations

import argparse
from datetime import date

import pytest

from orchestrator.actions.queue_jobs import (
    Bounds,
    QueuedAction,
    recently_failed,
    slot_scopes,
    split_due,
)
from orchestrator.actions.run_due import DueJob, plan_due
from orchestrator.actions.task_queue import queue_conninfo
from orchestrator.cli.service import queue_options
from orchestrator.errors import InputError
from orchestrator.model.jobs import CRASH_MARK
from orchestrator.model.snapshot import JobRow
from tests.fixtures.catalog_rows import PACK, config_dict, local, model, snapshot

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


def test_every_action_takes_a_slot_of_each_host_and_store_it_works_on_in_sorted_order() -> None:
    config, bounds = model(), Bounds(per_host=2, per_store=5)
    stores = [("store:evidence-anchor", 5), ("store:offsite", 5), ("store:primary", 5)]

    def scopes(kind: str, system: str = "core-banking") -> list[tuple[str, int]]:
        return slot_scopes(config, QueuedAction(kind, system), bounds)

    assert scopes("backup") == [("host:prod-core-1", 2), ("store:primary", 5)]
    assert scopes("copy_offsite") == [("store:offsite", 5), ("store:primary", 5)]
    # The validity check restores on the enclave's host and may read any store.
    assert scopes("verify", "all") == [("host:verify-1", 2), *stores]
    assert scopes("retention", "all") == stores
    assert scopes("drill_reminder", "all") == []
    # A site without an enclave: the check fails on its own configuration error, not here.
    no_vault = model(sites=[s for s in config_dict()["sites"] if s["role"] != "vault"])
    assert slot_scopes(no_vault, QueuedAction("verify", "all"), bounds) == stores


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
