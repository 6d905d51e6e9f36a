"""A lost catalog comes back from the stores and the signed evidence: after a real sandbox
drill and a sampled check, the catalog is deleted; `status` warns that it is empty; `catalog
rebuild` puts it back and `status` says exactly what it said before; a second rebuild adds
nothing; an unsigned point planted in a store is listed as not recovered (exit 1)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from orchestrator.actions.sandbox import prepare_sandbox


def drctl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=900,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
    )


def findings(config: Path, cwd: Path) -> list[tuple[str, str, str, str]]:
    result = drctl("-c", str(config), "--json", "status", "--at", date.today().isoformat(), cwd=cwd)
    assert result.returncode in (0, 1), result.stderr
    return sorted(
        (f["rule"], f["subject"], f["status"], f["measured"])
        for f in json.loads(result.stdout)["findings"]
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A sandbox after a full drill and a sampled check: (config, working directory)."""
    base = tmp_path_factory.mktemp("rebuild")
    config = prepare_sandbox(base / "sandbox")
    assert drctl("-c", str(config), "drill", "run", cwd=base).returncode == 0
    check = drctl("-c", str(config), "verify", "--seed", "7", cwd=base)
    assert check.returncode == 0, check.stdout + check.stderr
    return config, base


def test_a_deleted_catalog_is_rebuilt_to_the_same_status(site: tuple[Path, Path]) -> None:
    config, cwd = site
    before = findings(config, cwd)
    catalog = config.parent / "state" / "catalog.sqlite"
    assert catalog.is_file()
    catalog.unlink()

    lost = drctl("-c", str(config), "status", cwd=cwd)
    assert lost.returncode == 2 and "drctl catalog rebuild" in lost.stderr, lost.stderr
    # A catalog created afresh (schema, no rows) is never judged silently either.
    assert drctl("-c", str(config), "catalog", "upgrade", cwd=cwd).returncode == 0
    empty = drctl("-c", str(config), "status", cwd=cwd)
    assert "holds no recovery point" in empty.stderr and "catalog rebuild" in empty.stderr
    # The drill's and the check's packages are older than anything the new catalog holds.
    assert "younger than its evidence" in empty.stderr, empty.stderr
    assert findings(config, cwd) != before  # what an empty catalog looks like: 无法判定 …

    rebuilt = drctl("-c", str(config), "--json", "catalog", "rebuild", cwd=cwd)
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    outcome = json.loads(rebuilt.stdout)
    assert outcome["points"] >= 10 and outcome["copies"] > outcome["points"]
    assert outcome["drills"] == 1 and outcome["verifications"] == 1
    assert outcome["not_recovered"] == [] and outcome["unreachable"] == []
    assert findings(config, cwd) == before
    assert "WARNING" not in drctl("-c", str(config), "status", cwd=cwd).stderr

    again = json.loads(drctl("-c", str(config), "--json", "catalog", "rebuild", cwd=cwd).stdout)
    assert (again["points"], again["copies"], again["drills"], again["verifications"]) == (
        0,
        0,
        0,
        0,
    )


def test_an_unsigned_point_is_not_recovered_and_the_dry_run_changes_nothing(
    site: tuple[Path, Path],
) -> None:
    config, cwd = site
    primary = config.parent / "stores" / "primary"
    genuine = next(primary.glob("core-banking/ledger/*/manifest.json")).parent
    planted = genuine.with_name("29991231T235959Z-planted")
    shutil.copytree(genuine, planted)
    (planted / "manifest.json.sig").unlink(missing_ok=True)
    catalog = config.parent / "state" / "catalog.sqlite"
    before = catalog.read_bytes()

    dry = drctl("-c", str(config), "--json", "catalog", "rebuild", "--dry-run", cwd=cwd)
    assert dry.returncode == 1, dry.stdout + dry.stderr
    refused = json.loads(dry.stdout)["not_recovered"]
    assert any("29991231T235959Z-planted" in line for line in refused), refused
    assert catalog.read_bytes() == before
