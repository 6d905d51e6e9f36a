"""A backup whose process died counts as a failed run on /metrics, also once a later backup
succeeded: a real sandbox (real ansible-runner, SQLite catalog), a real process holding the
backup's lease killed with SIGKILL, the next backup taking the lease over."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from orchestrator.actions.backup import run_backup
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.actions.workload import run_workload
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.fixtures.catalog_scrape import scrape

SYSTEM = "core-banking"
LEDGER = (("dataset", "ledger"), ("system", SYSTEM))
HOLD = """
import sys, time
from pathlib import Path
from orchestrator.model.jobs import catalog_job
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
with open_runtime(load_site(Path(sys.argv[1]))) as runtime:
    with catalog_job(runtime.catalog, "backup", "core-banking@production"):
        print("held", flush=True)
        time.sleep(600)
"""


def test_a_killed_backup_stays_a_failed_run_after_the_retry_succeeds(tmp_path: Path) -> None:
    config_path = prepare_sandbox(tmp_path / "sb")
    with open_runtime(load_site(config_path)) as runtime:
        run_workload(runtime, SYSTEM, "production", "ledger", postings=10, seed=1)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(config_path)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    holder.send_signal(signal.SIGKILL)  # the backup's process dies, as under the OOM killer
    holder.wait(timeout=30)
    with open_runtime(load_site(config_path)) as runtime:
        assert run_backup(runtime, SYSTEM, datasets=["ledger"])  # takes the lease over
    metrics = scrape(config_path)
    assert metrics[("dr_backup_runs_total", LEDGER)] == 2.0
    assert metrics[("dr_backup_failures_total", LEDGER)] == 1.0
