"""A long-running exporter reads the catalog that is at its path now: one moved aside, deleted,
replaced or stamped with another schema is never published as the current one."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from exporters.collector import PARTS, CatalogCollector
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.model import catalog as cat
from orchestrator.model.catalog import Catalog, sqlite_file
from orchestrator.model.migrate import upgrade_catalog
from orchestrator.site import LoadedSite, load_site
from tests.fixtures.catalog_rows import point_row

NOW = 1_795_000_000.0
LEDGER = (("dataset", "ledger"), ("system", "core-banking"))
LAST_SUCCESS = ("dr_backup_last_success_timestamp_seconds", LEDGER)


@pytest.fixture
def site(tmp_path: Path) -> LoadedSite:
    return load_site(prepare_sandbox(tmp_path / "sandbox"))


@pytest.fixture
def catalog(site: LoadedSite) -> Iterator[Catalog]:
    catalog = Catalog(site.config.catalog_url)
    upgrade_catalog(catalog)
    record_backup(catalog)
    yield catalog
    catalog.close()


def record_backup(catalog: Catalog) -> None:
    row = point_row("20261124T000000Z-ledger", "ledger", NOW - 3500, business_date="2026-11-23")
    with catalog.begin() as connection:
        cat.record_recovery_point(connection, row)


def scraper(site: LoadedSite, catalog: Catalog) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    collector = CatalogCollector(
        site.config.model, site.pack, site.calendar, catalog, clock=lambda: NOW
    )
    registry.register(collector)
    return registry


def samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in registry.collect()
        for s in family.samples
    }


def failed_parts(scraped: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> set[str]:
    return {
        dict(labels)["collector"]
        for (name, labels), value in scraped.items()
        if name == "dr_scrape_collector_success" and value == 0
    }


def move_aside(database: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        part = Path(f"{database}{suffix}")
        if part.exists():
            os.rename(part, f"{part}.aside")


def scraped_once(site: LoadedSite, catalog: Catalog) -> tuple[CollectorRegistry, Path]:
    """Return a registry that has scraped the catalog once (its backup seen), and its file."""
    registry = scraper(site, catalog)
    assert samples(registry)[LAST_SUCCESS] == NOW - 3500
    database = sqlite_file(catalog.url)
    assert database is not None
    return registry, database


def test_a_catalog_moved_aside_fails_every_part_and_is_not_recreated(
    site: LoadedSite, catalog: Catalog
) -> None:
    registry, database = scraped_once(site, catalog)
    move_aside(database)
    scraped = samples(registry)
    assert failed_parts(scraped) == set(PARTS)
    assert LAST_SUCCESS not in scraped
    assert not database.exists()  # a scrape reads; it never creates a catalog


def test_a_catalog_put_in_place_of_another_is_the_one_read(
    site: LoadedSite, catalog: Catalog
) -> None:
    registry, database = scraped_once(site, catalog)
    move_aside(database)
    upgrade_catalog(Catalog(catalog.url))  # e.g. the new, still empty catalog of a rebuild
    scraped = samples(registry)
    assert failed_parts(scraped) == set()
    assert LAST_SUCCESS not in scraped


def test_a_catalog_stamped_with_a_newer_schema_fails_every_part(
    site: LoadedSite, catalog: Catalog
) -> None:
    registry, database = scraped_once(site, catalog)
    assert failed_parts(samples(registry)) == set()
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_from_a_newer_drctl'")
    scraped = samples(registry)
    assert failed_parts(scraped) == set(PARTS)
    assert LAST_SUCCESS not in scraped


def test_a_catalog_corrupted_in_place_fails_every_part(site: LoadedSite, catalog: Catalog) -> None:
    """Overwritten in place (same file, same inode, its header and change counter kept): a
    pooled connection would go on serving the pages it had cached as the current figures."""
    registry, database = scraped_once(site, catalog)
    size = database.stat().st_size
    with open(database, "r+b") as handle:
        handle.seek(100)  # past the header: every page's content, not the file's identity
        handle.write(b"\xa5" * (size - 100))
    scraped = samples(registry)
    assert failed_parts(scraped) == set(PARTS)
    assert LAST_SUCCESS not in scraped
