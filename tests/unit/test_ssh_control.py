"""The run's own SSH control directory (orchestrator/integrations/ssh_control.py): private,
short enough for socket paths, and gone when the run ends. The masters themselves are tested
against a real sshd in tests/integration/test_runner_call.py."""

from __future__ import annotations

import stat
import tempfile
from pathlib import Path

import pytest

from orchestrator.integrations.ssh_control import CONTROL_DIR_MAX_PARENT, control_directory


def test_the_directory_is_private_and_removed_when_the_run_ends(tmp_path: Path) -> None:
    with control_directory() as directory:
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
    with control_directory() as directory:
        assert directory.parent == Path("/tmp")  # noqa: S108 - the short fallback
        # Ansible's socket name is 10 hex digits: the whole path fits a Unix socket (108).
        assert len(str(directory / ("0" * 10))) < 108
    assert not directory.exists()


def test_a_directory_removed_during_the_run_ends_the_run_quietly() -> None:
    """A temp dir cleaner (systemd-tmpfiles, an operator) may remove it meanwhile."""
    with control_directory() as directory:
        directory.rmdir()
    assert not directory.exists()
