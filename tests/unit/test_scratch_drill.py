"""The sweep of a killed drill's targets touches drill-scoped names only, whatever its journal
row says (actions/scratch_drill.py). The real kill -9 is in
tests/integration/test_drill_killed.py."""

from __future__ import annotations

from typing import Any

from orchestrator.actions.scratch_drill import drill_scoped
from tests.unit.test_drill_scenarios import real_config

ROOT = "/var/spool/drctl/drill-20261123T020000Z-a1b2c3"


def item(database: str) -> dict[str, Any]:
    return {"name": "ledger", "engine": "postgresql", "database": database}


def test_drill_targets_and_directories_are_kept() -> None:
    detail = {
        "datasets": [item("drill_20261123t020000z_a1b2c3_fo_0_ledger")],
        "paths": [ROOT, f"{ROOT}-fo-core-banking"],
    }
    items, paths = drill_scoped(detail, real_config())
    assert [i["database"] for i in items] == ["drill_20261123t020000z_a1b2c3_fo_0_ledger"]
    assert paths == [ROOT, f"{ROOT}-fo-core-banking"]


def test_live_or_foreign_names_in_a_journal_row_are_never_wiped() -> None:
    config = real_config()
    config.systems[0].datasets[1].__dict__["path"] = "/var/spool/drctl/drill-x/cards"
    detail = {
        "datasets": [item("corebank"), item("CoreBank"), item("ledger_drill_1")],
        "paths": [
            "/srv/core-banking",
            "relative/drill-x",
            "/var/spool/drctl/drill-x",
            "/var/drill-x",
        ],
    }
    assert drill_scoped(detail, config) == ([], ["/var/drill-x"])
    # a live database that happens to look drill-scoped stays too
    config.systems[0].datasets[0].__dict__["database"] = "drill_live"
    assert drill_scoped({"datasets": [item("drill_live")]}, config) == ([], [])
