"""A scan killed just after it wrote the evidence of a mismatch keeps the point bad.

Seen (a real SIGKILL the moment the failure package appeared): `verify --all` wrote the package
of the mismatch it had found, then recorded the bad mark; killed in between, the catalog held no
failure, `status` and the metrics showed no bad point, and the next writer chained the orphaned
package without reading its mark back: once twenty newer packages hid it from `status`'s look
back, the report judged the dataset compliant. Now the mark is committed before the package is
written. The kill here is deterministic: drctl runs with the failure package's writer replaced by
the real one followed by a SIGKILL of its own process.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from orchestrator.actions.backup import run_backup
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.actions.workload import run_workload
from orchestrator.integrations.stores.file import FileStore
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site

SYSTEM = "core-banking"
KILLED_AFTER_FAILURE_PACKAGE = """
import os, signal, sys
from orchestrator.actions import bad_points
from orchestrator.cli import main

written = bad_points.write_site_package

def write_then_die(*args, **kwargs):
    written(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)

bad_points.write_site_package = write_then_die
sys.exit(main(sys.argv[1:]))
"""


def drctl(*args: str, hook: str | None = None) -> subprocess.CompletedProcess[str]:
    start = ["-c", hook] if hook else ["-m", "orchestrator"]
    return subprocess.run(  # noqa: S603 - argv list
        [sys.executable, *start, *args],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
    )


def test_a_scan_killed_after_its_failure_package_leaves_the_point_marked_bad(
    tmp_path: Path,
) -> None:
    config = prepare_sandbox(tmp_path / "sb")
    with open_runtime(load_site(config)) as runtime:
        run_workload(runtime, SYSTEM, "production", "ledger", postings=20, seed=3)
        point = run_backup(runtime, SYSTEM)[0]
        store = runtime.store(point.store)
    assert isinstance(store, FileStore)
    entry = point.manifest.files[0]
    stored = next(
        path
        for path in store.root.rglob("*")
        if point.recovery_point_id in path.parts and path.as_posix().endswith(entry.path)
    )
    body = bytearray(stored.read_bytes())
    body[0] ^= 0xFF
    stored.write_bytes(bytes(body))

    killed = drctl("-c", str(config), "verify", "--all", hook=KILLED_AFTER_FAILURE_PACKAGE)
    assert killed.returncode == -9, killed.stdout + killed.stderr
    evidence = load_site(config).config.evidence_dir
    assert [p for p in evidence.glob("verify-*") if p.is_dir()]  # the failure package is there
    with sqlite3.connect(config.parent / "state" / "catalog.sqlite") as connection:
        marked = connection.execute(
            "SELECT recovery_point_id FROM integrity_failures WHERE resolved_at IS NULL"
        ).fetchall()
    connection.close()
    assert (point.recovery_point_id,) in marked
    status = drctl("-c", str(config), "--json", "status")
    bad = json.dumps(json.loads(status.stdout))
    assert point.recovery_point_id in bad, status.stdout[:2000]
