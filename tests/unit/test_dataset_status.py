"""The per-dataset aggregates (model/aggregates.py) behind the table of `drctl status`
(actions/status.py) and the exporter's backup, off-site and verification families: each
figure on a sandbox catalog holding the cases a per-row scan would have filtered — a bad
point, a point finished after the time asked for, copies deleted, unverified or in another
store, a failed item, a point of a dataset the config no longer lists, a failed drill,
failures resolved or detected later. The exporter judges as of its scrape's instant, as
status does: a row dated after it is not counted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from exporters.collector import CatalogCollector
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.actions.status import collect_dataset_status
from orchestrator.model import schema
from orchestrator.model.catalog import Catalog
from orchestrator.runtime import Runtime, open_runtime
from orchestrator.site import LoadedSite, load_site
from tests.fixtures.catalog_rows import point_row

AT = 1_790_000_000.0
SYSTEM = "core-banking"


def _point(point_id: str, dataset: str, finished: float, status: str = "complete") -> dict:
    return point_row(point_id, dataset, finished, status=status, total_bytes=int(finished) % 1000)


def _copy(point_id: str, store: str, status: str = "present", verified: bool = True) -> dict:
    return {
        "verified_at": AT - 5 if verified else None,
        "recovery_point_id": point_id,
        "store": store,
        "site": "disaster-recovery" if store == "offsite" else "production",
        "written_at": AT - 10,
        "status": status,
    }


def _fill(runtime: Runtime) -> None:
    points = [
        _point("expired", "ledger", AT - 4000),
        _point("old", "ledger", AT - 3000),
        _point("newest-good", "ledger", AT - 2000),
        _point("bad", "ledger", AT - 1000, status="bad"),
        _point("future", "ledger", AT + 1000),
        _point("gone", "retired-dataset", AT - 500),
    ]
    copies = [
        _copy("expired", "primary", status="deleted"),
        _copy("old", "offsite"),
        _copy("newest-good", "offsite", status="deleted"),
        _copy("newest-good", "primary"),
        _copy("bad", "offsite"),
        _copy("future", "offsite", verified=False),
    ]
    # "v" committed its verdict with its evidence; "k" was killed before it (items recorded
    # first, docs/crash-safety.md): its passed items are no verification yet.
    items = [
        ("v", "bad", "passed", AT - 900),
        ("v", "old", "passed", AT - 2500),
        ("v", "newest-good", "failed", AT - 100),
        ("v", "gone", "passed", AT - 50),
        ("k", "old", "passed", AT - 10),
        ("k", "future", "passed", AT - 10),
    ]
    failures = [("bad", AT - 800, None), ("old", AT - 700, AT - 600), ("newest-good", AT + 5, None)]
    with runtime.catalog.begin() as connection:
        connection.execute(insert(schema.recovery_points), points)
        connection.execute(insert(schema.copies), copies)
        connection.execute(
            insert(schema.verifications),
            [
                {"id": "v", "kind": "recheck", "started_at": AT - 3000, "finished_at": AT - 40,
                 "status": "passed", "counted": False, "evidence_path": "evidence/verify-v"},
                {"id": "k", "kind": "sample", "started_at": AT - 20, "finished_at": None,
                 "status": "running", "counted": False, "evidence_path": None},
            ],
        )  # fmt: skip
        connection.execute(
            insert(schema.verification_items),
            [
                {"verification_id": v, "recovery_point_id": p, "store": "offsite",
                 "status": s, "checked_at": t}
                for v, p, s, t in items
            ],
        )  # fmt: skip
        connection.execute(
            insert(schema.integrity_failures),
            [
                {"recovery_point_id": p, "system": SYSTEM, "dataset": "ledger", "store": "offsite",
                 "file": "f", "kind": "digest", "expected": "a", "actual": "b", "detected_at": t,
                 "detected_by": "test", "resolved_at": r}
                for p, t, r in failures
            ],
        )  # fmt: skip
        connection.execute(
            insert(schema.drills),
            [
                {"id": "d1", "scenario": "s", "started_at": AT - 9000, "finished_at": AT - 8000,
                 "status": "passed", "detail": {"system": SYSTEM}},
                {"id": "d2", "scenario": "s", "started_at": AT - 7000, "finished_at": AT - 6000,
                 "status": "failed", "detail": {"system": SYSTEM}},
                # another system's drill is no drill of this one
                {"id": "d3", "scenario": "o", "started_at": AT - 5000, "finished_at": AT - 4000,
                 "status": "passed", "detail": {"system": "other-system"}},
            ],
        )  # fmt: skip


@pytest.fixture
def site(tmp_path: Path) -> LoadedSite:
    site = load_site(prepare_sandbox(tmp_path / "sandbox"))
    with open_runtime(site) as runtime:
        _fill(runtime)
    return site


@pytest.fixture
def rows(site: LoadedSite) -> dict[str, dict[str, Any]]:
    with open_runtime(site, writes=False) as runtime:
        table = collect_dataset_status(runtime, AT)
    return {row["dataset"]: row for row in table}


@pytest.fixture
def samples(site: LoadedSite) -> dict[tuple[str, str], float]:
    """The scrape at AT: (metric, dataset) → value, for the ledger and retired datasets."""
    catalog = Catalog(site.config.catalog_url)
    try:
        collector = CatalogCollector(
            site.config.model, site.pack, site.calendar, catalog, clock=lambda: AT
        )
        return {
            (s.name, s.labels["dataset"]): s.value
            for family in collector.collect()
            for s in family.samples
            if s.labels.get("dataset") in ("ledger", "retired-dataset")
        }
    finally:
        catalog.close()


def test_last_backup_is_the_newest_complete_point_finished_by_then(rows: dict) -> None:
    ledger = rows["ledger"]
    assert ledger["recovery_points"] == 3
    assert ledger["last_backup_id"] == "newest-good"
    assert ledger["last_backup_bytes"] == int(AT - 2000) % 1000
    assert ledger["last_backup"]["age_seconds"] == 2000.0


def test_offsite_copy_counts_present_copies_of_complete_points_in_the_offsite_store(
    rows: dict,
) -> None:
    # newest-good's off-site copy is deleted (its primary one does not count), bad is bad and
    # future finished after AT: the newest off-site point is "old".
    assert rows["ledger"]["offsite_newest_copy"]["age_seconds"] == 3000.0


def test_offsite_copy_written_after_then_does_not_count(site: LoadedSite) -> None:
    # late-copied finished before AT, newer than "old", but its off-site copy was written
    # after AT: `status --at` then must not show it.
    with open_runtime(site) as runtime, runtime.catalog.begin() as connection:
        connection.execute(insert(schema.recovery_points), [_point("late", "ledger", AT - 2500)])
        copy = {**_copy("late", "offsite"), "written_at": AT + 50, "verified_at": AT + 60}
        connection.execute(insert(schema.copies), [copy])
    with open_runtime(site, writes=False) as runtime:
        ledger = {row["dataset"]: row for row in collect_dataset_status(runtime, AT)}["ledger"]
    assert ledger["offsite_newest_copy"]["age_seconds"] == 3000.0


def test_last_verification_is_the_last_passed_item_of_any_point_of_the_dataset(
    rows: dict,
) -> None:
    """Of a check whose verdict is committed with its evidence: not one killed before."""
    assert rows["ledger"]["last_verification"]["age_seconds"] == 900.0


def test_bad_points_are_the_open_failures_detected_by_then(rows: dict) -> None:
    assert rows["ledger"]["bad_recovery_points"] == ["bad"]


def test_last_drill_is_the_last_passed_one_and_datasets_are_those_configured(
    rows: dict,
) -> None:
    assert rows["ledger"]["last_drill"]["age_seconds"] == 8000.0
    assert "retired-dataset" not in rows
    audit = rows["audit"]
    assert (audit["recovery_points"], audit["last_backup"], audit["offsite_newest_copy"]) == (
        0,
        None,
        None,
    )
    assert audit["last_verification"] is None


def test_exported_last_backup_is_the_newest_complete_point_finished_by_the_scrape(
    samples: dict,
) -> None:
    # "future" finished after the scrape's instant (a clock ahead, a forged row): not counted,
    # as status counts it not; "bad" is bad: "newest-good" is the last success.
    assert samples[("dr_backup_last_success_timestamp_seconds", "ledger")] == AT - 2000
    assert samples[("dr_backup_last_size_bytes", "ledger")] == int(AT - 2000) % 1000
    assert not any(dataset == "retired-dataset" for _, dataset in samples)


def test_the_exporter_judges_each_scrape_at_the_clock_of_that_scrape(site: LoadedSite) -> None:
    """The instant is read at every scrape: a later scrape of the same collector counts the
    point that had not finished at the first one (a time fixed at start-up would not)."""
    instants = iter([AT, AT + 2000])
    catalog = Catalog(site.config.catalog_url)
    try:
        collector = CatalogCollector(
            site.config.model, site.pack, site.calendar, catalog, clock=lambda: next(instants)
        )
        last = [
            next(
                s.value
                for family in collector.collect()
                for s in family.samples
                if s.name == "dr_backup_last_success_timestamp_seconds"
                and s.labels["dataset"] == "ledger"
            )
            for _ in range(2)
        ]
    finally:
        catalog.close()
    assert last == [AT - 2000, AT + 1000]


def test_exported_offsite_copy_is_the_newest_complete_point_verified_and_present_there(
    samples: dict,
) -> None:
    # future's copy is not verified, newest-good's is deleted, bad is bad: "old" remains.
    assert samples[("dr_offsite_newest_copy_timestamp_seconds", "ledger")] == AT - 3000


def test_exported_verification_figures_count_items_and_rotation_coverage(
    samples: dict,
) -> None:
    assert samples[("dr_restore_verification_last_success_timestamp_seconds", "ledger")] == (
        AT - 900
    )
    assert samples[("dr_restore_verification_failures_total", "ledger")] == 1
    # In rotation at the scrape: old and newest-good (complete, a copy present; expired's is
    # deleted; future finished after the scrape); passed in a committed check: old.
    assert samples[("dr_restore_sample_coverage_ratio", "ledger")] == pytest.approx(1 / 2)
