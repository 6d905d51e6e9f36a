"""A signed point the catalog does not hold is not carried off-site.

Seen: a backup killed between writing a point's signed manifest and recording the point left a
point in the primary store that counts for nothing (docs/crash-safety.md); `copy-offsite` then
copied it, said so ("copied … verified there"), counted it in its summary and recorded an
off-site copy row for a recovery point the catalog does not have — on every run again, since a
copy of an unrecorded point is never "done". Now it is left where it is, named in a warning, and
`catalog rebuild` adopts it; the recorded points are copied as before.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from orchestrator.actions.backup import run_backup
from orchestrator.actions.copy_offsite import run_copy_offsite
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.actions.workload import run_workload
from orchestrator.integrations.stores.file import FileStore
from orchestrator.model import schema
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site

SYSTEM = "core-banking"


def test_an_unrecorded_point_is_not_copied_off_site_nor_recorded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    site = load_site(prepare_sandbox(tmp_path / "sb"))
    with open_runtime(site) as runtime:
        run_workload(runtime, SYSTEM, "production", "ledger", postings=50, seed=5)
        backed_up = run_backup(runtime, SYSTEM)
        orphan = backed_up[0].recovery_point_id
        with runtime.catalog.begin() as connection:  # as if its backup died before recording
            connection.execute(
                delete(schema.copies).where(schema.copies.c.recovery_point_id == orphan)
            )
            connection.execute(
                delete(schema.recovery_points).where(schema.recovery_points.c.id == orphan)
            )
        with caplog.at_level(logging.WARNING, logger="orchestrator.actions.copy_offsite"):
            copied = run_copy_offsite(runtime, systems=[SYSTEM])
        with runtime.catalog.begin() as connection:
            rows = connection.execute(select(schema.copies.c.recovery_point_id)).scalars().all()
        offsite = runtime.store("offsite")
    assert {outcome.recovery_point_id for outcome in copied} == {
        point.recovery_point_id for point in backed_up[1:]
    }
    assert orphan not in rows
    assert isinstance(offsite, FileStore)
    assert not list(offsite.root.glob(f"*/*/{orphan}"))  # nothing of it off-site
    assert any(
        orphan in r.getMessage() and "not in the catalog" in r.getMessage() for r in caplog.records
    )
