"""Which recovery points a store holds, per dataset (actions/point_trust.point_ids_by_dataset),
and copy-offsite's early check of its destination. A real sandbox catalog (SQLite, migrated)
and its real directory stores: one listing of a store serves every dataset of a system, so a
pass over thousands of datasets does not list the store once per dataset."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.actions.copy_offsite import run_copy_offsite
from orchestrator.actions.point_trust import point_ids_by_dataset
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.errors import InfrastructureError
from orchestrator.integrations.stores.file import FileStore
from orchestrator.model import catalog as cat
from orchestrator.runtime import Runtime, open_runtime
from orchestrator.site import load_site
from tests.fixtures.catalog_rows import point_row

NOW = time.time()


class CountingStore(FileStore):
    """A directory store that counts its listings."""

    listings = 0

    def list_points(self) -> Iterator[tuple[str, str, str]]:
        self.listings += 1
        yield from super().list_points()


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    with open_runtime(load_site(prepare_sandbox(tmp_path))) as opened:
        yield opened


def listed(store: FileStore, system: str, dataset: str, point: str) -> None:
    (store.root / system / dataset / point).mkdir(parents=True)


def recorded(runtime: Runtime, system: str, dataset: str, point: str, **copies: str) -> None:
    """Record a point of system/dataset, with a copy of the given status in each store."""
    with runtime.catalog.begin() as connection:
        cat.record_recovery_point(connection, point_row(point, dataset, NOW, system=system))
        for store, status in copies.items():
            cat.record_copy(connection, point, store, "production", written_at=NOW, verified_at=NOW)
            if status != "present":
                cat.mark_copy(connection, point, store, status)


def test_one_listing_groups_every_dataset_s_points_oldest_first(runtime: Runtime) -> None:
    primary = runtime.store("primary")
    store = CountingStore("primary", primary.site, str(primary.root))
    for dataset, point in [("ledger", "p2"), ("ledger", "p1"), ("audit", "p3")]:
        listed(store, "core-banking", dataset, point)
    listed(store, "other-system", "ledger", "p9")
    found = point_ids_by_dataset(runtime, store, "core-banking")
    assert found == {"ledger": ["p1", "p2"], "audit": ["p3"]}
    assert store.listings == 1
    assert point_ids_by_dataset(runtime, store, "core-banking", "audit") == {"audit": ["p3"]}
    assert point_ids_by_dataset(runtime, store, "core-banking", "config") == {}


def test_a_point_hidden_from_the_listing_is_found_through_its_copy_row(runtime: Runtime) -> None:
    store = runtime.store("primary")
    listed(store, "core-banking", "ledger", "p1")
    recorded(runtime, "core-banking", "ledger", "hidden", primary="present")
    recorded(runtime, "core-banking", "ledger", "bad-one", primary="bad")
    recorded(runtime, "core-banking", "ledger", "gone", primary="deleted")
    recorded(runtime, "core-banking", "ledger", "elsewhere", offsite="present")
    recorded(runtime, "core-banking", "audit", "other-dataset", primary="present")
    recorded(runtime, "other-system", "ledger", "other-system", primary="present")
    assert point_ids_by_dataset(runtime, store, "core-banking", "ledger") == {
        "ledger": ["bad-one", "hidden", "p1"]
    }
    assert point_ids_by_dataset(runtime, store, "core-banking") == {
        "ledger": ["bad-one", "hidden", "p1"],
        "audit": ["other-dataset"],
    }


def test_copy_offsite_refuses_an_unreachable_destination_before_reading_a_point(
    runtime: Runtime,
) -> None:
    listed(runtime.store("primary"), "core-banking", "ledger", "20261130T000000Z-ledger")
    shutil.rmtree(runtime.store("offsite").root)
    with pytest.raises(InfrastructureError, match=r"store offsite: root .* is not reachable"):
        run_copy_offsite(runtime, systems=["core-banking"])
    with runtime.catalog.begin() as connection:
        assert cat.list_copies(connection) == []
