"""Checks cut short, on a real sandbox: what `verify --recheck` restores into the enclave is
journalled before the first restore and wiped on every way out, as a validity check's is; a
validity check killed mid-run is recorded aborted by the next one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from orchestrator.actions import verify_recheck
from orchestrator.actions.backup import run_backup
from orchestrator.actions.copy_offsite import run_copy_offsite
from orchestrator.actions.verify_record import KILLED
from orchestrator.cli import main
from orchestrator.model import schema
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.integration.test_crash_safety import drctl, kill_hard, wait_for
from tests.integration.test_verify_sample import (
    SYSTEM,
    a_data_file,
    build_sandbox,
    flip_byte,
    point_dir,
)


def journalled(config_path: Path) -> list[str]:
    with open_runtime(load_site(config_path)) as runtime, runtime.catalog.begin() as connection:
        rows = connection.execute(select(schema.scratch_areas.c.location)).all()
    return sorted(location for (location,) in rows)


def test_an_interrupted_recheck_was_journalled_and_wipes_the_enclave(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Interrupted after its first restore (as by Ctrl-C, or a kill before the wipe): the
    system's enclave directory was journalled while data was there, the enclave is wiped on
    the way out, and the journal is empty once the wipe is done."""
    config_path = build_sandbox(tmp_path / "sb")
    flip_byte(a_data_file(point_dir(config_path, "primary", "config"))[0])
    assert main(["-c", str(config_path), "verify", "--all"]) == 1  # an open incident
    # The summary does not read as "nothing open": the earlier failures are named as such.
    assert "1 problem(s), 0 earlier failure(s) still open" in capsys.readouterr().out
    with open_runtime(load_site(config_path)) as runtime:
        run_backup(runtime, SYSTEM)
        run_copy_offsite(runtime, systems=[SYSTEM])
    enclave = Path(load_site(config_path).config.model.site("verification").data_root)
    seen: dict[str, Any] = {}
    check = verify_recheck.check_item

    def check_then_interrupt(*args: Any) -> None:
        check(*args)  # restored into the enclave, then the interrupt
        seen["restored"] = sorted(p.name for p in (enclave / SYSTEM).rglob("*") if p.is_file())
        seen["journalled"] = journalled(config_path)
        raise KeyboardInterrupt

    monkeypatch.setattr(verify_recheck, "check_item", check_then_interrupt)
    assert main(["-c", str(config_path), "verify", "--recheck"]) == 130  # interrupted
    assert seen["restored"], "the re-check restored nothing into the enclave"
    assert str(enclave / SYSTEM) in seen["journalled"]
    assert not [p for p in (enclave / SYSTEM).rglob("*") if p.is_file()]
    assert journalled(config_path) == []


def sample_rows(config_path: Path) -> list[Any]:
    with open_runtime(load_site(config_path)) as runtime, runtime.catalog.begin() as connection:
        query = select(schema.verifications).where(schema.verifications.c.kind == "sample")
        return list(connection.execute(query.order_by(schema.verifications.c.started_at)))


def test_a_check_killed_mid_run_is_recorded_aborted_by_the_next_one(tmp_path: Path) -> None:
    """SIGKILL while a check runs leaves its row `running`: the next check, holding the same
    lease, records it aborted with the reason, so no row claims to run for ever."""
    config_path = build_sandbox(tmp_path / "sb")
    verify = drctl(config_path, "verify")
    wait_for("the check's row", lambda: bool(sample_rows(config_path)), verify)
    kill_hard(verify)
    [killed] = sample_rows(config_path)
    assert killed.status == "running"
    assert main(["-c", str(config_path), "verify"]) == 0
    first, second = sample_rows(config_path)
    assert (first.id, first.status, first.counted) == (killed.id, "aborted", False)
    assert first.detail["error"] == KILLED and first.finished_at is not None
    assert second.status == "passed"
