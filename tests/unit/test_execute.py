"""The one subprocess choke point masks secrets where they would leak: the logged command
line and environment, and the output quoted in an error. Real subprocesses, no doubles."""

from __future__ import annotations

import logging

import pytest

from orchestrator.errors import InfrastructureError
from orchestrator.integrations import execute

SECRET = "hunter2-swordfish"


def test_the_logged_command_hides_secret_options_and_assignments(
    caplog: pytest.LogCaptureFixture,
) -> None:
    argv = ["echo", f"--password={SECRET}", "--api-token", SECRET, f"PGPASSWORD={SECRET}", "-v"]
    with caplog.at_level(logging.DEBUG, logger="orchestrator.integrations.execute"):
        result = execute.run(argv, env={"DR_DB_PASSWORD": SECRET})
    assert SECRET in result.stdout  # the command itself got its arguments
    assert SECRET not in caplog.text
    assert "--password=*** --api-token *** PGPASSWORD=*** -v" in caplog.text
    assert "DR_DB_PASSWORD=***" in caplog.text


def test_an_error_never_quotes_a_secret_the_tool_echoed() -> None:
    with pytest.raises(
        InfrastructureError, match=r"exited with 3:\n.*login \*\*\* refused"
    ) as error:
        execute.run(
            ["sh", "-c", 'echo "login $DR_DB_PASSWORD refused" >&2; exit 3'],
            env={"DR_DB_PASSWORD": SECRET, "ANSIBLE_NOCOLOR": "1"},
        )
    assert SECRET not in str(error.value)


def test_ordinary_arguments_are_logged_as_they_are() -> None:
    assert execute.mask_argv(["ansible-inventory", "-i", "inv.ini", "--host", "keys"]) == (
        "ansible-inventory -i inv.ini --host keys"
    )
