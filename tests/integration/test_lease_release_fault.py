"""A job whose end could not be recorded (the catalog failed for an instant as the job ended)
must not stay `running` for good in a process that lives on (`drctl serve`). A real sandbox
catalog (SQLite); the only seam is the one failed write of the job's end.

The row keeps naming this live process as its holder. Before model/lease.py kept the ids of
the leases this process renews, `release_stale_jobs` never freed it, and every later run of the
job in this process was refused (JobBusy) or not even planned (run-due's `_blocked`) until the
process restarted. Now an expired lease of this very process that it no longer renews counts
as gone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.model import lease, schema
from orchestrator.model.jobs import catalog_job, release_stale_jobs
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site


def test_a_job_whose_end_was_not_recorded_does_not_block_its_process_for_good(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path = prepare_sandbox(tmp_path / "sb")
    release = lease.release

    def catalog_down(held: lease.Lease, **_values: Any) -> None:
        held.stop()
        raise OperationalError("UPDATE jobs", {}, Exception("catalog failover in progress"))

    with open_runtime(load_site(config_path)) as runtime:
        monkeypatch.setattr(lease, "release", catalog_down)
        with pytest.raises(OperationalError), catalog_job(runtime.catalog, "due:retention", "all"):
            pass
        monkeypatch.setattr(lease, "release", release)
        with runtime.catalog.begin() as connection:  # hours later: the lease long expired
            connection.execute(update(schema.jobs).values(lease_expires_at=0.0))
        assert release_stale_jobs(runtime.catalog) == 1
        with catalog_job(runtime.catalog, "due:retention", "all"):
            pass
        with runtime.catalog.begin() as connection:
            states = [row.state for row in connection.execute(select(schema.jobs))]
        assert states == ["aborted", "succeeded"]
