"""`verify --all` names the signed points the catalog does not hold.

Seen: a point whose catalog rows were lost (a backup killed between its signed manifest and its
row, or a catalog put back from an older copy) was authenticated and hashed by `verify --all`,
which then said nothing of it: the scan passed, while no rule counted the point and nothing told
the operator the catalog was short of what the store holds. Now the scan lists it, on the
terminal, in `--json` and in its evidence package, and names `drctl catalog rebuild`; it is not
a failed check (its bytes matched), so the exit stays 0.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import delete

from orchestrator.actions.backup import run_backup
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.actions.workload import run_workload
from orchestrator.cli import main
from orchestrator.model import schema
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site

SYSTEM = "core-banking"


def test_a_signed_point_the_catalog_lost_is_named_by_the_scan_and_its_evidence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = prepare_sandbox(tmp_path / "sb")
    with open_runtime(load_site(config)) as runtime:
        run_workload(runtime, SYSTEM, "production", "ledger", postings=50, seed=5)
        backed_up = run_backup(runtime, SYSTEM)
        orphan = backed_up[0]
        with runtime.catalog.begin() as connection:  # as if its backup died before recording
            points, copies = schema.recovery_points, schema.copies
            point = orphan.recovery_point_id
            connection.execute(delete(copies).where(copies.c.recovery_point_id == point))
            connection.execute(delete(points).where(points.c.id == point))
    code = main(["-c", str(config), "--json", "verify", "--all"])
    scan = json.loads(capsys.readouterr().out)
    assert code == 0 and scan["problems"] == [], scan
    label = f"primary: {SYSTEM}/{orphan.dataset}/{orphan.recovery_point_id}"
    assert scan["not_in_catalog"] == [label]  # only it: the recorded points are not listed
    report = json.loads((Path(scan["evidence"]) / "report.json").read_text())
    assert report["not_in_catalog"] == [label]
    counted = {m["name"]: m["value"] for m in report["measurements"]}
    assert counted["not_in_catalog"] == 1
    assert counted["recovery_points"] == len(backed_up)  # it was still checked

    code = main(["-c", str(config), "verify", "--all"])
    text = capsys.readouterr().out
    assert code == 0
    assert f"NOT IN CATALOG {label}" in text and "drctl catalog rebuild" in text
