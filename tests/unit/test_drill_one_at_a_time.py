"""One drill of a system at a time. Two `drctl drill run` of one sandbox, started 8 s apart,
both ran: the second one reseeded production and backed it up while the first one's disaster
step had removed its files (the second ABORTED), and the first one PASSED with an RPO of
"0 postings lost" where its own writes after the backup (750 postings) should have been lost:
its measurement was the other drill's doing. A drill now holds the catalog lock
`drill:<system>` for its run, so a second one is refused (exit 3) before it touches anything."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.cli.main import main
from orchestrator.model.catalog import Catalog
from orchestrator.model.jobs import catalog_job
from orchestrator.model.migrate import upgrade_catalog
from orchestrator.site import load_site
from tests.unit.test_cli_exit_contract import tree


def test_a_second_drill_of_a_system_is_refused_before_it_touches_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = prepare_sandbox(tmp_path / "sandbox")
    catalog = Catalog(load_site(config).config.catalog_url)
    upgrade_catalog(catalog)
    sites = tmp_path / "sandbox" / "sites"
    before = tree(sites)
    with catalog_job(catalog, "drill", "core-banking"):  # a drill of the system is running
        code = main(["-c", str(config), "drill", "run"])
    err = capsys.readouterr().err
    assert code == 3, err
    assert "drill core-banking is already running" in err, err
    assert "Traceback" not in err
    assert tree(sites) == before  # nothing seeded, backed up or destroyed
    with sqlite3.connect(catalog.url.removeprefix("sqlite:///")) as connection:
        drills = connection.execute("SELECT count(*) FROM drills").fetchone()[0]
        kinds = [row[0] for row in connection.execute("SELECT kind FROM jobs ORDER BY id")]
    catalog.close()
    assert drills == 0  # no drill row left `running` by the refused one
    assert kinds == ["drill"]  # only the holder's job: the refused drill recorded nothing
