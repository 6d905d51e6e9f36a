"""One drill or switchover of a system at a time. Two `drctl drill run` of one sandbox, started
8 s apart, both ran: the second one reseeded production and backed it up while the first one's
disaster step had removed its files (the second ABORTED), and the first one PASSED with an RPO
of "0 postings lost" where its own writes after the backup (750 postings) should have been lost:
its measurement was the other drill's doing. A switchover, restoring into the disaster-recovery
site, would do the same harm under a drill and a drill under it. A drill and a switchover of a
system now hold one catalog lock, `sites:<system>`, for their run, so a second one of either
kind is refused (exit 3) before it touches anything."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from orchestrator.actions.drill import run_drill
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.actions.switchover import Clearance
from orchestrator.cli.main import main
from orchestrator.errors import JobBusy
from orchestrator.model.catalog import Catalog
from orchestrator.model.jobs import catalog_job
from orchestrator.model.migrate import upgrade_catalog
from orchestrator.model.scenario import load_scenario
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.integration.test_switchover_mismatch import SWITCHOVER
from tests.unit.test_cli_exit_contract import tree

HOLDER = "sites:core-banking"  # the one lock a drill and a switchover of the system hold


def _rows(catalog: Catalog) -> tuple[int, list[str]]:
    with sqlite3.connect(catalog.url.removeprefix("sqlite:///")) as connection:
        drills = connection.execute("SELECT count(*) FROM drills").fetchone()[0]
        kinds = [row[0] for row in connection.execute("SELECT kind FROM jobs ORDER BY id")]
    return drills, kinds


@pytest.mark.parametrize(
    ("holder", "said"),
    [
        ("drill", "drill core-banking is already running"),
        ("switchover", "drill core-banking refused: switchover core-banking is already running"),
    ],
)
def test_a_drill_is_refused_while_the_system_drills_or_switches_over(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], holder: str, said: str
) -> None:
    config = prepare_sandbox(tmp_path / "sandbox")
    catalog = Catalog(load_site(config).config.catalog_url)
    upgrade_catalog(catalog)
    sites = tmp_path / "sandbox" / "sites"
    before = tree(sites)
    with catalog_job(catalog, holder, "core-banking", lock=HOLDER):  # one is running
        code = main(["-c", str(config), "drill", "run"])
    err = capsys.readouterr().err
    assert code == 3, err
    assert said in err, err
    assert "Traceback" not in err
    assert tree(sites) == before  # nothing seeded, backed up or destroyed
    drills, kinds = _rows(catalog)
    catalog.close()
    assert drills == 0  # no drill row left `running` by the refused one
    assert kinds == [holder]  # only the holder's job: the refused drill recorded nothing


def test_a_switchover_is_refused_while_the_system_drills(tmp_path: Path) -> None:
    config = prepare_sandbox(tmp_path / "sandbox")
    scenario_path = tmp_path / "switchover.yml"
    scenario_path.write_text(SWITCHOVER, encoding="utf-8")
    sites = tmp_path / "sandbox" / "sites"
    cleared = Clearance(plan={"id": "plan-1"}, confirmed="core-banking", points={})
    with open_runtime(load_site(config)) as runtime:
        scenario = load_scenario(scenario_path, runtime.config.model)
        before = tree(sites)
        with catalog_job(runtime.catalog, "drill", "core-banking", lock=HOLDER):
            with pytest.raises(JobBusy, match="switchover core-banking refused: drill core"):
                run_drill(runtime, scenario, scenario_path, clearance=cleared)
        drills, kinds = _rows(runtime.catalog)
    assert tree(sites) == before  # nothing restored into the disaster-recovery site
    assert drills == 0
    assert kinds == ["drill"]
