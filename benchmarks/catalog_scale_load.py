"""The catalog generator of benchmarks/catalog_scale.py: a sandbox dr.yml with N datasets over
a few systems, and a catalog bulk-loaded through the project's own tables (model/schema.py).

Shape, per dataset and for each of D business dates ending yesterday (Asia/Shanghai): one
complete full backup finished at 23:00 local; a copy in the primary store (production) kept
8 days and one in the off-site store (disaster-recovery) kept 35 days, deleted after that with
a reason (rows stay, as a real catalog keeps them); one backup job per system and day; a
counted sample check every 28 days whose items are the newest point of a tenth of the
datasets; one passed drill a day after the history began. Nothing outside `base` is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Connection, Table, insert

from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.model import schema
from orchestrator.model.catalog import Catalog
from orchestrator.model.migrate import upgrade_catalog
from orchestrator.rules.timezone import SHANGHAI
from orchestrator.site import load_site

SYSTEMS = 4
DAY = 86400.0
KEEP_DAYS = {"primary": 8, "offsite": 35}
SITES = {"primary": "production", "offsite": "disaster-recovery"}
CATEGORIES = ("customer_data", "configuration", "programs", "logs", "audit")
CHECK_EVERY_DAYS = 28
SAMPLE_SHARE = 0.1
BATCH = 20_000


def dataset_names(count: int) -> list[tuple[str, str]]:
    """Return (system, dataset) for `count` datasets spread over up to SYSTEMS systems."""
    systems = min(SYSTEMS, count)
    return [(f"sys{index % systems}", f"ds{index:05d}") for index in range(count)]


def write_config(base: Path, count: int) -> Path:
    """Return a fresh sandbox dr.yml under base whose systems hold `count` datasets."""
    config_path = prepare_sandbox(base)
    document = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    template = document["systems"][0]
    systems: dict[str, list[dict[str, Any]]] = {}
    for index, (system, name) in enumerate(dataset_names(count)):
        systems.setdefault(system, []).append(
            {
                "name": name,
                "engine": "files",
                "category": CATEGORIES[index % len(CATEGORIES)],
                "path": f"data/{name}",
            }
        )
    document["systems"] = [
        {**{k: v for k, v in template.items() if k != "datasets"}, "name": n, "datasets": d}
        for n, d in systems.items()
    ]
    config_path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return config_path


def finish_time(day: date) -> float:
    """Return when the backup of a business date finished: 23:00 that day, Asia/Shanghai."""
    return datetime.combine(day, time(23), SHANGHAI).timestamp()


def _point(system: str, dataset: str, day: date) -> dict[str, Any]:
    finished = finish_time(day)
    return {
        "id": f"{day:%Y%m%d}T150000Z-{dataset}",
        "system": system,
        "dataset": dataset,
        "engine": "files",
        "business_date": day.isoformat(),
        "started_at": finished - 300,
        "finished_at": finished,
        "source_site": "production",
        "source_host": "prod-core-1",
        "hash_algorithm": "sha256",
        "manifest_sha256": "0" * 64,
        "total_bytes": 1 << 20,
        "file_count": 3,
        "status": "complete",
    }


def _copies(point: dict[str, Any], now: float) -> Iterator[dict[str, Any]]:
    for store, keep in KEEP_DAYS.items():
        written = point["finished_at"] + (60 if store == "primary" else 600)
        expires = written + keep * DAY
        gone = expires <= now
        yield {
            "recovery_point_id": point["id"],
            "store": store,
            "site": SITES[store],
            "written_at": written,
            "verified_at": written + 30,
            "retain_until": expires,
            "status": "deleted" if gone else "present",
            "deleted_at": expires if gone else None,
            "delete_reason": "retention" if gone else None,
            "approver": None,
        }


def _job(system: str, day: date) -> dict[str, Any]:
    finished = finish_time(day)
    return {
        "kind": "backup",
        "subject": system,
        "state": "succeeded",
        "owner": "catalog_scale",
        "started_at": finished - 600,
        "finished_at": finished,
    }


def _check(day: date, index: int, population: int, items: int) -> dict[str, Any]:
    finished = finish_time(day) + 3600
    return {
        "id": f"check-{index:04d}",
        "kind": "sample",
        "started_at": finished - 1800,
        "finished_at": finished,
        "status": "passed",
        "counted": True,
        "population_points": population,
        "population_bytes": population << 20,
        "sample_points": items,
        "sample_bytes": items << 20,
    }


class _Loader:
    """Buffers rows per table and inserts them in batches (executemany)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.pending: dict[str, list[dict[str, Any]]] = {}

    def add(self, table: Table, row: dict[str, Any]) -> None:
        rows = self.pending.setdefault(table.name, [])
        rows.append(row)
        if len(rows) >= BATCH:
            self.flush(table)

    def flush(self, table: Table) -> None:
        rows = self.pending.pop(table.name, [])
        if rows:
            self.connection.execute(insert(table), rows)


def load_catalog(config_path: Path, days: int, now: float) -> dict[str, int]:
    """Fill the catalog of the config with `days` business dates ending yesterday; return
    the row counts per table."""
    site = load_site(config_path)
    datasets = [(s.name, d.name) for s in site.config.model.systems for d in s.datasets]
    catalog = Catalog(site.config.catalog_url)
    counts = {"points": 0, "copies": 0, "items": 0, "checks": 0}
    try:
        upgrade_catalog(catalog)
        today = datetime.fromtimestamp(now, SHANGHAI).date()
        first = today - timedelta(days=days)
        with catalog.begin() as connection:
            loader = _Loader(connection)
            for offset in range(days):
                day = first + timedelta(days=offset)
                _load_day(loader, datasets, day, offset, now, counts)
            for table in (schema.recovery_points, schema.copies, schema.jobs):
                loader.flush(table)
            loader.flush(schema.verification_items)
            connection.execute(insert(schema.drills), [_drill(first)])
    finally:
        catalog.close()
    return counts


def _load_day(
    loader: _Loader,
    datasets: list[tuple[str, str]],
    day: date,
    offset: int,
    now: float,
    counts: dict[str, int],
) -> None:
    for system, dataset in datasets:
        point = _point(system, dataset, day)
        loader.add(schema.recovery_points, point)
        for copy in _copies(point, now):
            loader.add(schema.copies, copy)
            counts["copies"] += 1
        counts["points"] += 1
    for system in sorted({s for s, _ in datasets}):
        loader.add(schema.jobs, _job(system, day))
    if offset % CHECK_EVERY_DAYS == CHECK_EVERY_DAYS - 1:
        sample = datasets[:: max(1, round(1 / SAMPLE_SHARE))]
        index = counts["checks"]
        population = len(datasets) * min(offset + 1, max(KEEP_DAYS.values()))
        loader.connection.execute(
            insert(schema.verifications), [_check(day, index, population, len(sample))]
        )
        for _system, dataset in sample:
            loader.add(schema.verification_items, _item(index, dataset, day))
            counts["items"] += 1
        counts["checks"] += 1


def _item(index: int, dataset: str, day: date) -> dict[str, Any]:
    return {
        "verification_id": f"check-{index:04d}",
        "recovery_point_id": f"{day:%Y%m%d}T150000Z-{dataset}",
        "store": "offsite",
        "status": "passed",
        "checked_at": finish_time(day) + 3000,
    }


def _drill(first: date) -> dict[str, Any]:
    finished = finish_time(first + timedelta(days=1))
    return {
        "id": "drill-0001",
        "scenario": "sandbox-failover",
        "started_at": finished - 3600,
        "finished_at": finished,
        "status": "passed",
        "rto_seconds": 900.0,
        "rpo_seconds": 60.0,
        "failover_ok": True,
        "failback_ok": True,
    }
