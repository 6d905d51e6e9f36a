"""copy-offsite on a real sandbox (real ansible-runner, SQLite ledger, two directory stores)
when a mismatch and an infrastructure fault meet in one run: the mismatch is never lost.

A copy that found a point not matching its manifest has failed a check; the point is bad for
good (model/integrity.py). A store fault later in the same run, or a kill, must not take that
finding with it: the next run would otherwise copy the point once the medium read right again,
and the mismatch would have disappeared.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from orchestrator.actions.backup import run_backup
from orchestrator.actions.copy_offsite import run_copy_offsite
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.actions.workload import run_workload
from orchestrator.errors import CheckFailed, InfrastructureError
from orchestrator.integrations.stores.file import FileStore
from orchestrator.model import catalog as cat
from orchestrator.model import integrity
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site

SYSTEM = "core-banking"


def backed_up(base: Path) -> tuple[Path, dict[str, str]]:
    """Build a sandbox with one full backup of every dataset, none copied; return the config
    and each dataset's point id."""
    config_path = prepare_sandbox(base)
    with open_runtime(load_site(config_path)) as runtime:
        run_workload(runtime, SYSTEM, "production", "ledger", postings=20, seed=1)
        outcomes = run_backup(runtime, SYSTEM)
    return config_path, {o.dataset: o.recovery_point_id for o in outcomes}


def flip_a_byte(config_path: Path, dataset: str, point: str) -> tuple[Path, bytes]:
    """Change one byte of a point's first data file in the primary store; return the file
    and its original bytes (to put back, as a flaky medium would read right again)."""
    data = config_path.parent / "stores" / "primary" / SYSTEM / dataset / point / "data"
    file = sorted(p for p in data.rglob("*") if p.is_file())[0]
    original = file.read_bytes()
    file.write_bytes(bytes([original[0] ^ 0xFF]) + original[1:])
    return file, original


def test_a_mismatch_stays_recorded_when_a_later_copy_meets_a_store_fault(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path, points = backed_up(tmp_path / "sb")
    file, original = flip_a_byte(config_path, "ledger", points["ledger"])
    write_stream = FileStore.write_stream

    def offsite_down_for_config(
        self: FileStore, key: str, chunks: Iterable[bytes], *, size: int, sha256: str
    ) -> None:
        # A transient fault of the off-site store, met after the ledger's mismatch.
        if self.name == "offsite" and f"/config/{points['config']}/" in key:
            raise InfrastructureError(f"{self.name}:{key}: connection reset")
        write_stream(self, key, chunks, size=size, sha256=sha256)

    monkeypatch.setattr(FileStore, "write_stream", offsite_down_for_config)
    with (
        open_runtime(load_site(config_path)) as runtime,
        pytest.raises(CheckFailed) as raised,
    ):
        run_copy_offsite(runtime, systems=[SYSTEM])
    # The mismatch wins the exit code (1) and is named, as is the store fault.
    assert points["ledger"] in str(raised.value)
    assert "connection reset" in str(raised.value)
    with open_runtime(load_site(config_path)) as runtime, runtime.catalog.begin() as connection:
        assert cat.get_recovery_point(connection, points["ledger"]).status == "bad"
        failures = integrity.list_failures(connection, system=SYSTEM, dataset="ledger")
        assert [f.recovery_point_id for f in failures] == [points["ledger"]]
        assert failures[0].evidence_path  # the package names it

    # The medium reads right again and the store is back: the bad point is still not copied.
    monkeypatch.setattr(FileStore, "write_stream", write_stream)
    file.write_bytes(original)
    with open_runtime(load_site(config_path)) as runtime:
        copied = {o.recovery_point_id for o in run_copy_offsite(runtime, systems=[SYSTEM])}
    assert points["ledger"] not in copied
    assert points["config"] in copied
