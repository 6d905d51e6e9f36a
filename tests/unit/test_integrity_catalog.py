"""Bad points in the catalog: marked for good, recorded once, resolved per dataset."""

from __future__ import annotations

from pathlib import Path

from orchestrator.model import catalog as cat
from orchestrator.model import integrity
from orchestrator.model.integrity import Failure
from orchestrator.model.migrate import upgrade_catalog


def catalog_with_point(tmp_path: Path, point: str = "20260101T000000Z-aaaaaa") -> cat.Catalog:
    catalog = cat.Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    upgrade_catalog(catalog)
    with catalog.begin() as connection:
        cat.record_recovery_point(
            connection,
            {
                "id": point,
                "system": "core",
                "dataset": "ledger",
                "engine": "sqlite",
                "business_date": "2026-01-01",
                "started_at": 1.0,
                "finished_at": 2.0,
                "source_site": "production",
                "source_host": "h",
                "hash_algorithm": "sha256",
                "manifest_sha256": "0" * 64,
                "total_bytes": 10,
                "file_count": 1,
                "status": "complete",
            },
        )
        for store, site in (("primary", "production"), ("offsite", "dr")):
            cat.record_copy(connection, point, store, site, written_at=2.0, verified_at=2.0)
    return catalog


FAILURE = Failure(
    "20260101T000000Z-aaaaaa",
    "core",
    "ledger",
    "offsite",
    "ledger.db",
    "mismatch",
    "a" * 64,
    "b" * 64,
)


def test_a_failure_marks_the_point_and_that_copy_bad_and_is_recorded_once(tmp_path: Path) -> None:
    catalog = catalog_with_point(tmp_path)
    with catalog.begin() as connection:
        first = integrity.record_failures(connection, [FAILURE], detected_by="t", at=10.0)
        again = integrity.record_failures(connection, [FAILURE], detected_by="t", at=20.0)
        point = cat.get_recovery_point(connection, FAILURE.recovery_point_id)
        copies = {c.store: c.status for c in cat.list_copies(connection)}
        rows = integrity.list_failures(connection, open_only=True)
    assert (first, again) == ([FAILURE], [])
    assert point.status == "bad"
    assert copies == {"primary": "present", "offsite": "bad"}
    assert [(r.file, r.expected, r.actual, r.detected_at) for r in rows] == [
        ("ledger.db", "a" * 64, "b" * 64, 10.0)
    ]


def test_resolving_closes_the_incident_but_the_point_stays_bad(tmp_path: Path) -> None:
    catalog = catalog_with_point(tmp_path)
    with catalog.begin() as connection:
        integrity.record_failures(connection, [FAILURE], detected_by="t", at=10.0)
        assert integrity.resolve_failures(connection, "core", "ledger", by="r", at=30.0) == 1
        assert integrity.resolve_failures(connection, "core", "ledger", by="r", at=40.0) == 0
        assert integrity.list_failures(connection, open_only=True) == []
        (row,) = integrity.list_failures(connection)
        # The same mismatch found again later neither re-opens nor duplicates it.
        assert integrity.record_failures(connection, [FAILURE], detected_by="t", at=50.0) == []
        assert integrity.bad_point_ids(connection) == {FAILURE.recovery_point_id}
    assert (row.resolved_at, row.resolved_by) == (30.0, "r")


def test_versions_are_recorded_per_store_and_key(tmp_path: Path) -> None:
    catalog = catalog_with_point(tmp_path)
    point = FAILURE.recovery_point_id
    with catalog.begin() as connection:
        integrity.record_versions(connection, point, "primary", {"k/a": "v1", "k/b": "v2"}, at=1.0)
        integrity.record_versions(connection, point, "offsite", {"k/a": "w1"}, at=1.0)
        assert integrity.get_versions(connection, point, "primary") == {"k/a": "v1", "k/b": "v2"}
        assert integrity.get_versions(connection, point, "offsite") == {"k/a": "w1"}
        assert integrity.get_versions(connection, "other", "primary") == {}
