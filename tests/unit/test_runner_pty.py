"""ansible-runner's pty child is closed without ptyprocess' 0.1 s wait once it has been
reaped, and as before when it has not (integrations/runner_pty.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pexpect
import ptyprocess
import pytest

from orchestrator.integrations import ansible, runner_pty


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """Every time.sleep ptyprocess makes, in seconds (it still sleeps)."""
    recorded: list[float] = []
    real_sleep = time.sleep

    def recording_sleep(seconds: float) -> None:
        recorded.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(ptyprocess.ptyprocess.time, "sleep", recording_sleep)
    yield recorded


def test_a_reaped_child_is_closed_without_the_wait(sleeps: list[float]) -> None:
    """ansible-runner's order: isalive() until the child has ended, the last output, close()."""
    child = runner_pty.ReapedChildSpawn("sh", ["-c", "echo done; exit 3"], encoding="utf-8")
    while child.isalive():
        child.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=5)
    child.expect(pexpect.EOF, timeout=5)
    sleeps.clear()
    child.close()
    assert not any(sleeps), sleeps  # sleep(0) at most
    assert (child.closed, child.exitstatus) == (True, 3)


def test_a_live_child_is_closed_as_pexpect_closes_it(sleeps: list[float]) -> None:
    """Not reaped: the wait, then the terminate (a drctl stop or timeout path)."""
    child = runner_pty.ReapedChildSpawn("sleep", ["30"], encoding="utf-8")
    assert child.isalive()
    child.close()
    assert 0.1 in sleeps
    assert not child.isalive() and child.closed
    assert child.signalstatus is not None


def test_only_ansible_runner_spawns_the_subclass() -> None:
    ansible._init_runner()
    import ansible_runner.runner

    runner_pexpect = ansible_runner.runner.pexpect
    assert runner_pexpect.spawn is runner_pty.ReapedChildSpawn
    assert pexpect.spawn is not runner_pty.ReapedChildSpawn  # pexpect itself untouched
    for name in ("EOF", "TIMEOUT", "exceptions"):  # what the runner uses besides spawn
        assert getattr(runner_pexpect, name) is getattr(pexpect, name)
    runner_pty.install(ansible_runner.runner)
    assert ansible_runner.runner.pexpect is runner_pexpect  # installed once
