"""A sandbox drill and any other command that writes to that sandbox never run at once.

Seen (real processes, one sandbox): two `drill run --sandbox` 0.1 s apart — one aborted with
`disk I/O error`, the other PASSED on measurements of the first one's data; a `verify --all`
0.1 s after a drill marked intact points bad for good ("manifest.json: missing"); a backup
recorded a half-seeded ledger. The drill's reset removed the sandbox's sites, stores and catalog
before any lock was taken. Now the sandbox's `.sandbox.lock` is held exclusively by the drill
from before the reset and shared by every writing command (orchestrator/sandbox_lock.py):
whichever comes second exits 3 and touches nothing.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator.actions.sandbox import SANDBOX_DIR, prepare_sandbox
from orchestrator.cli import main
from orchestrator.sandbox_lock import LOCK_FILE

READY_SECONDS = 120


def held_exclusively(lock: Path) -> bool:
    """Return whether another process holds the lock file exclusively."""
    try:
        descriptor = os.open(lock, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)
    return False


def wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_while_a_sandbox_drill_runs_every_other_writer_and_drill_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    root = (tmp_path / SANDBOX_DIR).resolve()
    config = str(root / "dr.yml")
    drill = subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "drill", "run", "--sandbox"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(lambda: held_exclusively(root / LOCK_FILE), "the drill to hold the sandbox")
        wait_for(lambda: (root / "state" / "catalog.sqlite").exists(), "the drill's catalog")
        code, out = run(capsys, "drill", "run", "--sandbox")
        assert code == 3 and "another drctl command is using this sandbox" in out, out
        for argv in (["backup"], ["verify", "--all"], ["copy-offsite"], ["run-due"]):
            code, out = run(capsys, "-c", config, *argv)
            assert code == 3 and "a sandbox drill is running there" in out, (argv, out)
            assert "Traceback" not in out
        output, _ = drill.communicate(timeout=600)
    finally:
        if drill.poll() is None:
            drill.kill()
            drill.wait()
    assert drill.returncode == 0 and "result: PASSED" in output, output
    assert "30750 postings in total" in output  # its own data only, no other drill's
    code, out = run(capsys, "-c", config, "backup")  # the drill over, the sandbox is free
    assert code == 0, out


def test_a_sandbox_drill_is_refused_while_another_command_writes_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    root = prepare_sandbox(tmp_path / SANDBOX_DIR).parent
    marker = root / "stores" / "primary" / "kept"
    marker.write_text("a backup is writing here")
    descriptor = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH)  # what a running backup holds
        code, out = run(capsys, "drill", "run", "--sandbox")
    finally:
        os.close(descriptor)
    assert code == 3 and "another drctl command is using this sandbox" in out, out
    assert marker.read_text() == "a backup is writing here"  # nothing reset
    assert not (root / "state").exists()  # no catalog made
