"""No traceback reaches a user without -v, also when code logs an exception (a drill step or a
scheduled job that crashed): the log line tells the exception in one line; -v prints it whole."""

from __future__ import annotations

import subprocess
import sys

import pytest

CRASH = """
import logging
from orchestrator.cli.call import configure_logging
configure_logging({verbosity})
try:
    open("/nonexistent/drctl-test/status")
except OSError:
    logging.getLogger("orchestrator.actions.drill").exception("step %s crashed", "full-backup")
"""


def logged(verbosity: int) -> str:
    done = subprocess.run(
        [sys.executable, "-c", CRASH.format(verbosity=verbosity)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stderr


def test_an_exception_logged_without_v_is_one_line_naming_it() -> None:
    err = logged(0)
    assert "Traceback" not in err and 'File "' not in err
    assert "step full-backup crashed" in err
    assert "FileNotFoundError: [Errno 2]" in err and "shown with -v" in err
    assert len(err.strip().splitlines()) == 2  # the message, then the exception in one line


@pytest.mark.parametrize("verbosity", [1, 2])
def test_with_v_the_traceback_is_printed_whole(verbosity: int) -> None:
    err = logged(verbosity)
    assert "Traceback (most recent call last)" in err and "FileNotFoundError" in err
