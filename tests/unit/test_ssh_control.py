"""The run's own SSH control directory (orchestrator/integrations/ssh_control.py): private,
short enough for socket paths, and gone when the run ends. The masters themselves are tested
against a real sshd in tests/integration/test_runner_call.py."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.actions.scratch import _sweep_control_directories
from orchestrator.integrations.ssh_control import (
    CONTROL_DIR_MAX_PARENT,
    control_directory,
    left_directories,
    site_tag,
)


def test_the_directory_is_private_and_removed_when_the_run_ends(tmp_path: Path) -> None:
    with control_directory(tmp_path) as directory:
        assert directory.name.startswith("drctl-ssh-")
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
        (directory / "not-a-socket").write_text("left by nobody")
    assert not directory.exists()


def test_a_long_temp_dir_is_not_used_for_sockets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_parent = tmp_path / ("x" * CONTROL_DIR_MAX_PARENT)
    long_parent.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(long_parent))
    with control_directory(tmp_path) as directory:
        assert directory.parent == Path("/tmp")  # noqa: S108 - the short fallback
        # Ansible's socket name is 10 hex digits, and ssh first binds it with a 17-character
        # temporary suffix: even under the longest parent kept and a 7-digit pid, the whole
        # path fits a Unix socket's 107 characters.
        name = len(directory.name) - len(str(os.getpid())) + 7
        assert CONTROL_DIR_MAX_PARENT + 1 + name + 1 + 10 + 17 <= 107
    assert not directory.exists()


def test_a_directory_removed_during_the_run_ends_the_run_quietly(tmp_path: Path) -> None:
    """A temp dir cleaner (systemd-tmpfiles, an operator) may remove it meanwhile."""
    with control_directory(tmp_path) as directory:
        directory.rmdir()
    assert not directory.exists()


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


@pytest.fixture
def short_temp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temp dir short enough to hold control directories (pytest's own is not)."""
    short = Path(tempfile.mkdtemp(prefix="ssh-", dir="/tmp"))  # noqa: S108
    monkeypatch.setattr(tempfile, "tempdir", str(short))
    yield short
    shutil.rmtree(short)


def test_the_sweep_removes_only_the_directories_of_dead_drctl_processes(
    short_temp: Path, tmp_path: Path
) -> None:
    """A drctl killed mid-run leaves its control directory (named by its pid and site); the
    next command's sweep on that site removes it and says so, and leaves a live run's,
    another site's and anything else."""
    site, other_site = tmp_path / "site" / "work", tmp_path / "other" / "work"
    dead = short_temp / f"drctl-ssh-{dead_pid()}-{site_tag(site)}-abcdefgh"
    dead.mkdir(mode=0o700)
    elsewhere = short_temp / f"drctl-ssh-{dead_pid()}-{site_tag(other_site)}-abcdefgh"
    elsewhere.mkdir(mode=0o700)
    with control_directory(site) as live:
        assert live.name.startswith(f"drctl-ssh-{os.getpid()}-{site_tag(site)}-")
        unnamed = short_temp / f"drctl-ssh-x-{site_tag(site)}-abcdefgh"  # no pid: not ours
        unnamed.mkdir()
        linked = short_temp / f"drctl-ssh-{dead_pid()}-{site_tag(site)}-link"
        linked.symlink_to(unnamed)
        assert sorted(path for path, _pid in left_directories(site)) == sorted([dead, live])
        [cleaned] = _sweep_control_directories(site)
        assert (cleaned.location, cleaned.holder) == (str(dead), f"pid {dead.name.split('-')[2]}")
        assert not dead.exists() and live.is_dir() and unnamed.is_dir() and linked.is_symlink()
        assert elsewhere.is_dir(), "another site's sweep judges and records it"
        assert _sweep_control_directories(site) == []
    assert not live.exists()
