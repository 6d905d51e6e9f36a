"""A scan whose evidence is written but whose catalog row cannot be: the operator is told.

Seen: `verify --all` writes its evidence package, then records the scan in the catalog. With
the catalog locked at that moment (another writer past SQLite's busy timeout), it exited 3 with
the driver's "database is locked" and nothing else: a "passed" package stood in the evidence
chain that the operator was never told of, and that the catalog does not know. Now the message
names the package and what it says, and that the catalog does not hold the scan. The lock is a
real one, taken by another SQLite connection just after the package is written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.actions import verify_all
from orchestrator.actions.backup import run_backup
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.actions.workload import run_workload
from orchestrator.cli import main
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site

SYSTEM = "core-banking"


@pytest.fixture()
def locked_after_evidence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    config = prepare_sandbox(tmp_path / "sb")
    with open_runtime(load_site(config)) as runtime:
        run_workload(runtime, SYSTEM, "production", "ledger", postings=20, seed=3)
        run_backup(runtime, SYSTEM)
    holder = sqlite3.connect(tmp_path / "sb" / "state" / "catalog.sqlite", isolation_level=None)
    written = verify_all.write_scan_evidence

    def write_then_lock(*args: Any, **kwargs: Any) -> Any:
        package = written(*args, **kwargs)
        holder.execute("BEGIN EXCLUSIVE")  # another writer, past the busy timeout
        return package

    monkeypatch.setattr(verify_all, "write_scan_evidence", write_then_lock)
    yield config
    holder.close()


def test_a_written_scan_the_catalog_could_not_record_is_named(
    locked_after_evidence: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["-c", str(locked_after_evidence), "verify", "--all"])
    err = capsys.readouterr().err
    evidence = locked_after_evidence.parent.parent / "evidence"
    [package] = [p for p in evidence.iterdir() if p.is_dir() and p.name.startswith("verify-")]
    assert code == 3, err
    assert "Traceback" not in err
    assert package.name in err and "passed" in err and "not recorded" in err, err
