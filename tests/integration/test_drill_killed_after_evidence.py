"""A drill killed between its evidence package and its catalog row, on a real sandbox drill
(ansible-runner, SQLite catalog, signed evidence chain): the package records the drill passed,
the catalog row still says `running` (the next drill of the scenario records it `aborted`).
`status` warns, naming the package, until `drctl catalog rebuild` sets the row to the signed
record, after which it is clean (docs/operators.md, Losing the catalog; docs/crash-safety.md).

The kill is deterministic: drctl runs with the row's final write (drill._DrillRecord.end)
replaced by a SIGKILL of its own process, so it dies exactly once the package is written."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.site import load_site

KILLED_BEFORE_ITS_ROW = """
import os, signal, sys
from orchestrator.actions import drill
from orchestrator.cli import main

def killed(*_args):  # the package is written; the drill's outcome is never recorded
    os.kill(os.getpid(), signal.SIGKILL)

drill._DrillRecord.end = killed
sys.exit(main(sys.argv[1:]))
"""


def drctl(*args: str, cwd: Path, hook: str | None = None) -> subprocess.CompletedProcess[str]:
    start = ["-c", hook] if hook else ["-m", "orchestrator"]
    return subprocess.run(  # noqa: S603 - argv list
        [sys.executable, *start, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=900,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
    )


def drill_rows(config: Path) -> dict[str, tuple[str, str | None]]:
    """Return {id: (status, evidence path)} of the catalog's drill rows."""
    with sqlite3.connect(config.parent / "state" / "catalog.sqlite") as connection:
        rows = connection.execute("SELECT id, status, evidence_path FROM drills").fetchall()
    connection.close()
    return {drill_id: (status, path) for drill_id, status, path in rows}


def status_warnings(config: Path, cwd: Path) -> tuple[int, list[str]]:
    result = drctl("-c", str(config), "--json", "status", cwd=cwd)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return result.returncode, json.loads(result.stdout).get("warnings", [])


def test_a_drill_killed_before_its_row_is_warned_until_the_catalog_is_rebuilt(
    tmp_path: Path,
) -> None:
    config = prepare_sandbox(tmp_path / "sandbox")
    killed = drctl("-c", str(config), "drill", "run", cwd=tmp_path, hook=KILLED_BEFORE_ITS_ROW)
    assert killed.returncode == -9, killed.stdout + killed.stderr
    directory = load_site(config).config.evidence_dir
    [package] = [path.name for path in directory.glob("drill-*") if path.is_dir()]
    report = json.loads((directory / package / "report.json").read_text(encoding="utf-8"))
    [(drill_id, (status, _))] = drill_rows(config).items()
    assert (report["record"]["id"], report["record"]["status"]) == (drill_id, "passed")
    assert status == "running"

    code, warnings = status_warnings(config, tmp_path)
    assert code == 1 and [w for w in warnings if package in w], warnings

    # The next drill of the scenario finds the killed one's holder dead and records it
    # aborted: its package still says it passed, and status still says so.
    assert drctl("-c", str(config), "drill", "run", cwd=tmp_path).returncode == 0
    assert drill_rows(config)[drill_id] == ("aborted", None)
    code, warnings = status_warnings(config, tmp_path)
    assert code == 1 and [w for w in warnings if package in w], warnings

    rebuilt = drctl("-c", str(config), "--json", "catalog", "rebuild", cwd=tmp_path)
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert json.loads(rebuilt.stdout)["set_back"] == [
        f"drill {drill_id}: to its signed record ({package})"
    ]
    # The row is the signed record again, pointing at the package that holds it.
    assert drill_rows(config)[drill_id] == ("passed", str(directory / package))
    assert status_warnings(config, tmp_path)[1] == []
