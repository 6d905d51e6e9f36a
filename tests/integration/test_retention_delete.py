"""Retention's order on a real sandbox (directory stores): a copy's catalog row is marked
deleted (committed) before its files are removed; a removal that fails, or a process killed
between the two steps, leaves the row deleted (the copy counts nowhere, no reader judges it)
and the next pass removes the files left (actions/retention_delete.py)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import update

from orchestrator.actions.retention_delete import (
    DELETED,
    LEFT,
    SKIPPED,
    delete_copy,
    sweep_leftovers,
)
from orchestrator.cli import main
from orchestrator.integrations.stores.file import FileStore
from orchestrator.model import catalog as cat
from orchestrator.model import schema
from orchestrator.model.integrity import mark_point_bad
from orchestrator.runtime import Runtime, open_runtime
from orchestrator.site import load_site
from tests.integration.test_retention_race import age, catalog_state, deletion
from tests.integration.test_verify_sample import SYSTEM, build_sandbox, point_dir


def copy_row(config_path: Path, point: str, store: str) -> tuple[str, float | None, str, str]:
    with open_runtime(load_site(config_path)) as runtime, runtime.catalog.begin() as connection:
        [row] = [c for c in cat.list_copies(connection, point) if c.store == store]
    return row.status, row.deleted_at, row.delete_reason, row.approver


@pytest.fixture()
def aged(tmp_path: Path) -> tuple[Path, Path]:
    """A sandbox whose primary copy of `ledger` is old enough to rotate."""
    config_path = build_sandbox(tmp_path / "sb")
    point = point_dir(config_path, "primary", "ledger")
    age(point)
    return config_path, point


def test_the_row_is_deleted_before_the_files_are_removed(
    aged: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path, point = aged
    remove = FileStore.delete_point
    seen: list[tuple[str, bool]] = []

    def look_then_remove(store: FileStore, system: str, dataset: str, point_id: str) -> None:
        # What a concurrent reader sees at this moment, in its own transaction.
        seen.append((copy_row(config_path, point_id, store.name)[0], point.is_dir()))
        remove(store, system, dataset, point_id)

    monkeypatch.setattr(FileStore, "delete_point", look_then_remove)
    with open_runtime(load_site(config_path)) as runtime:
        outcome = delete_copy(runtime, deletion(runtime, "primary", "ledger", point.name), "cfo")
    assert outcome == DELETED
    assert seen == [("deleted", True)]
    assert not point.exists()
    status, deleted_at, reason, approver = copy_row(config_path, point.name, "primary")
    assert (status, reason, approver) == ("deleted", "rotation: test", "cfo")
    assert deleted_at is not None


def test_a_failed_removal_leaves_the_row_deleted_and_the_next_pass_removes_the_files(
    aged: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path, point = aged
    remove = FileStore.delete_point

    def half_way(store: FileStore, system: str, dataset: str, point_id: str) -> None:
        (point / "manifest.json").unlink()  # removed first, as delete_point does
        raise PermissionError(13, "Permission denied", str(point / "data"))

    monkeypatch.setattr(FileStore, "delete_point", half_way)
    with open_runtime(load_site(config_path)) as runtime:
        outcome = delete_copy(runtime, deletion(runtime, "primary", "ledger", point.name), None)
    assert outcome == LEFT
    assert point.is_dir() and not (point / "manifest.json").exists()
    assert copy_row(config_path, point.name, "primary")[0] == "deleted"
    # No reader judges the files left: the copy is not counted, nor failed.
    assert main(["-c", str(config_path), "verify", "--all"]) == 0, capsys.readouterr().out
    assert catalog_state(config_path, point.name, "primary") == ("complete", "deleted", [])
    monkeypatch.setattr(FileStore, "delete_point", remove)  # the store works again
    with open_runtime(load_site(config_path)) as runtime:
        assert sweep_leftovers(runtime, dry_run=True) == [
            f"leftover of deleted copy {SYSTEM}/ledger/{point.name} in primary: would be removed"
        ]
        assert point.is_dir()
        [line] = sweep_leftovers(runtime, dry_run=False)
    assert line.endswith(": removed") and not point.exists()


def test_a_kill_after_the_commit_leaves_a_deleted_row_the_next_pass_completes(
    aged: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path, point = aged

    def killed(store: FileStore, system: str, dataset: str, point_id: str) -> None:
        raise KeyboardInterrupt  # the process goes between the commit and the removal

    monkeypatch.setattr(FileStore, "delete_point", killed)
    with (
        open_runtime(load_site(config_path)) as runtime,
        pytest.raises(KeyboardInterrupt),
    ):
        delete_copy(runtime, deletion(runtime, "primary", "ledger", point.name), None)
    assert (point / "manifest.json").is_file()
    assert copy_row(config_path, point.name, "primary")[0] == "deleted"
    monkeypatch.undo()
    with open_runtime(load_site(config_path)) as runtime:
        [line] = sweep_leftovers(runtime, dry_run=False)
    assert line.endswith(": removed") and not point.exists()


def test_a_leftover_with_a_file_newer_than_its_deletion_is_kept(
    aged: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file written after the deletion was recorded is a new copy being written (e.g. by
    copy-offsite), not a leftover: the sweep keeps it and says so."""
    config_path, point = aged

    def failed(store: FileStore, system: str, dataset: str, point_id: str) -> None:
        raise OSError("store unreachable")

    monkeypatch.setattr(FileStore, "delete_point", failed)
    with open_runtime(load_site(config_path)) as runtime:
        delete_copy(runtime, deletion(runtime, "primary", "ledger", point.name), None)
    monkeypatch.undo()
    later = cat.now() + 60
    os.utime(point / "manifest.json", (later, later))
    with open_runtime(load_site(config_path)) as runtime:
        [line] = sweep_leftovers(runtime, dry_run=False)
    assert line.endswith("a file was written after its deletion was recorded, kept")
    assert (point / "manifest.json").is_file()


def mark_bad_off_site(runtime: Runtime, point: str) -> None:
    """What a check running meanwhile does when the off-site copy is corrupt."""
    with runtime.catalog.begin() as connection:
        mark_point_bad(connection, point, "offsite", "digest mismatch (test)")


def delete_off_site_row(runtime: Runtime, point: str) -> None:
    """The off-site copy gone meanwhile (another pass of rotation, an operator)."""
    with runtime.catalog.begin() as connection:
        connection.execute(
            update(schema.copies)
            .where(schema.copies.c.recovery_point_id == point, schema.copies.c.store == "offsite")
            .values(status="deleted", deleted_at=cat.now())
        )


@pytest.mark.parametrize("meanwhile", [mark_bad_off_site, delete_off_site_row])
def test_a_copy_rotation_chose_is_kept_when_it_became_the_points_only_good_one(
    aged: tuple[Path, Path], meanwhile: Callable[[Runtime, str], None]
) -> None:
    """Rotation chose the primary copy (the point verified off-site) from an earlier read;
    before its deletion a check found the off-site copy corrupt (the point is marked bad, the
    primary copy may be its only good one), or the off-site copy went. The primary copy is
    not deleted: it is what the plan would not choose now."""
    config_path, point = aged
    with open_runtime(load_site(config_path)) as runtime:
        chosen = deletion(runtime, "primary", "ledger", point.name)
        meanwhile(runtime, point.name)
        assert delete_copy(runtime, chosen, "cfo") == SKIPPED
    assert (point / "manifest.json").is_file()
    assert copy_row(config_path, point.name, "primary")[0] == "present"
