"""A reader that leaves early (`drctl … | head -1`) neither turns into a traceback nor changes
the exit code: a failed check stays 1, a usage error 2 (the exit-code contract, docs/cli.md)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def run_into_closed_pipe(
    arguments: list[str], buffered: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run drctl with stdout on a pipe whose reading end is already closed, so that its first
    write fails with EPIPE (Python ignores SIGPIPE) whatever the timing. Buffered (Python's
    default on a pipe), the write fails only at the last flush; with PYTHONUNBUFFERED, at the
    print itself: both are tried, whatever the environment the tests run in."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    if not buffered:
        env["PYTHONUNBUFFERED"] = "1"
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-m", "orchestrator", *arguments],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
            check=False,
            timeout=120,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        (["--json", "calendar", "working-days", "2024-01-01", "2024-12-31"], 0),
        (["calendar", "working-days", "2024-01-01", "2024-12-31"], 0),
        (["calendar", "is-working-day", "2024-10-01"], 1),  # National Day: the answer is no
        (["--json", "calendar", "is-working-day", "2024-10-01"], 1),
        (["--json", "no-such-command"], 2),
        (["--help"], 0),
    ],
)
@pytest.mark.parametrize("buffered", [True, False], ids=["buffered", "unbuffered"])
def test_a_reader_that_left_changes_nothing_but_the_output(
    arguments: list[str], code: int, buffered: bool
) -> None:
    result = run_into_closed_pipe(arguments, buffered)
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    assert "BrokenPipeError" not in result.stderr and "Exception ignored" not in result.stderr
