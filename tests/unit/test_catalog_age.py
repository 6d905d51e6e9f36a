"""`drctl status` says when the catalog is an incomplete account of the site's history
(actions/catalog_age.py): empty, or younger than a check or drill package of its evidence chain.
A real sandbox catalog (SQLite, migrated) and a real chain.jsonl written by the chain module."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from orchestrator.actions.catalog_age import catalog_warnings
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.evidence.chain import ChainEntry, append_chain_entry
from orchestrator.model import catalog as cat
from orchestrator.model import schema
from orchestrator.runtime import Runtime, open_runtime
from orchestrator.site import load_site
from orchestrator.timefmt import iso_utc
from tests.fixtures.catalog_rows import point_row

# An hour ago: the rows these tests write (a drill finishing NOW + 70 s) must lie in the past,
# or the catalog's dated-after-now sign joins the warnings when a test runs within a minute
# of this module's import (a unit run on its own; the whole suite ran it later and passed).
NOW = time.time() - 3600
DAY = 86400.0


def record_point(runtime: Runtime, started: float) -> None:
    row = point_row(
        "20261130T000000Z-ledger",
        "ledger",
        started + 60,
        engine="sqlite",
        business_date="2026-11-29",
    )
    with runtime.catalog.begin() as connection:
        cat.record_recovery_point(connection, row)


def chain(runtime: Runtime, *packages: tuple[str, float]) -> None:
    for kind, created in packages:
        name = f"{kind}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(created))}-abc123"
        entry = ChainEntry(name, kind, iso_utc(created), "1" * 64, "0" * 64)
        append_chain_entry(runtime.config.evidence_dir / "chain.jsonl", entry)


def warnings_of(tmp_path: Path, point_at: float | None, *packages: tuple[str, float]) -> list[str]:
    with open_runtime(load_site(prepare_sandbox(tmp_path / "sb"))) as runtime:
        runtime.config.evidence_dir.mkdir(parents=True, exist_ok=True)
        if point_at is not None:
            record_point(runtime, point_at)
        chain(runtime, *packages)
        return catalog_warnings(runtime)


def test_an_empty_catalog_is_named_with_the_rebuild_command(tmp_path: Path) -> None:
    [warning] = warnings_of(tmp_path, None)
    assert "holds no recovery point" in warning
    assert "drctl catalog rebuild" in warning


def test_a_check_older_than_the_catalog_shows_it_lost_its_history(tmp_path: Path) -> None:
    older = NOW - 30 * DAY
    [warning] = warnings_of(tmp_path, NOW, ("report", older - DAY), ("verify", older))
    assert "younger than its evidence" in warning
    assert f"begins {iso_utc(NOW)}" in warning
    assert f"was written {iso_utc(older)}" in warning
    assert "verify-" in warning and "drctl catalog rebuild" in warning


def test_an_empty_catalog_with_a_drill_in_its_chain_says_both(tmp_path: Path) -> None:
    empty, younger = warnings_of(tmp_path, None, ("drill", NOW - DAY))
    assert "holds no recovery point" in empty
    assert "holds no record, but evidence package drill-" in younger


def test_packages_after_the_first_record_or_of_reports_only_say_nothing(tmp_path: Path) -> None:
    # A report package is not a run the catalog records; a check after the first point is
    # the normal history (also that of a check killed before its verdict was committed).
    assert warnings_of(tmp_path, NOW, ("report", NOW - DAY), ("verify", NOW + 1)) == []


DRILL = {
    "table": "drills",
    "id": "20261130T010000Z-d1",
    "kind": "drill",
    "scenario": "sandbox-failover",
    "started_at": NOW + 10,
    "finished_at": NOW + 70.25,
    "status": "failed",
    "rto_seconds": 3600.5,
    "rpo_seconds": 12.75,
    "failover_ok": False,
    "failback_ok": True,
    "objectives": {"rto_seconds": 7200},
}


@pytest.mark.parametrize(
    ("column", "edited"),
    [(None, None), ("status", "passed"), ("rto_seconds", 360.5), ("failover_ok", True)],
)
def test_a_drill_row_edited_after_its_package_differs_from_the_signed_record(
    tmp_path: Path, column: str | None, edited: Any
) -> None:
    """The drill's package carries its row as recorded; a row whose verdict, RTO or step
    outcome was changed afterwards (sqlite3 on the catalog) is what the catalog lacks."""
    with open_runtime(load_site(prepare_sandbox(tmp_path / "sb"))) as runtime:
        record_point(runtime, NOW)
        name = f"drill-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(NOW + 70))}-abc123"
        package = runtime.config.evidence_dir / name
        package.mkdir(parents=True)
        (package / "report.json").write_text(json.dumps({"record": DRILL}), encoding="utf-8")
        append_chain_entry(
            runtime.config.evidence_dir / "chain.jsonl",
            ChainEntry(name, "drill", iso_utc(NOW + 70), "1" * 64, "0" * 64),
        )
        columns = set(schema.drills.c.keys())
        row = {key: value for key, value in DRILL.items() if key in columns}
        if column is not None:
            row[column] = edited
        with runtime.catalog.begin() as connection:
            connection.execute(schema.drills.insert().values(**row))
        warnings = catalog_warnings(runtime)
    if column is None:
        assert warnings == []
    else:
        [warning] = warnings
        assert name in warning and "drctl catalog rebuild" in warning
