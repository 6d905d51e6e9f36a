"""The one place local subprocesses are started: argv lists, timeouts, and the one place their
secrets are masked — in the logged command line and environment, and in the output quoted in
an error (secret names: `orchestrator.secret_names`)."""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from orchestrator.errors import InfrastructureError
from orchestrator.secret_names import MASK, is_secret_name

logger = logging.getLogger(__name__)
DEFAULT_TIMEOUT_SECONDS = 600
TAIL_LINES = 20


@dataclass(frozen=True)
class Result:
    command: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def tail(self, lines: int = TAIL_LINES) -> str:
        return "\n".join((self.stderr or self.stdout).splitlines()[-lines:])


def venv_tool(name: str) -> str:
    """Return the path of a console script installed beside this Python (the venv's bin),
    falling back to the bare name for PATH lookup."""
    import os
    import sys

    candidate = os.path.join(os.path.dirname(sys.executable), name)
    return candidate if os.access(candidate, os.X_OK) else name


def mask_environment(env: Mapping[str, str]) -> str:
    """Given extra environment variables, return them for a log line with values hidden."""
    return " ".join(f"{key}={MASK}" for key in sorted(env))


def mask_argv(argv: Sequence[str]) -> str:
    """Given argv, return it for a log line with the values of secret-named options and
    assignments hidden: `--password=x`, `--password x`, `PGPASSWORD=x` → `…***`."""
    shown: list[str] = []
    hide_next = False
    for argument in argv:
        name, equals, _value = argument.partition("=")
        if hide_next:
            shown.append(MASK)
        elif equals and is_secret_name(name):
            shown.append(f"{name}={MASK}")
        else:
            shown.append(argument)
        hide_next = argument.startswith("-") and not equals and is_secret_name(argument)
    return " ".join(shown)


def mask_text(text: str, env: Mapping[str, str]) -> str:
    """Given output to quote and the extra environment a command ran with, return the text
    with the value of every secret-named variable hidden (a tool may echo it back)."""
    for key, value in env.items():
        if is_secret_name(key) and len(value) >= 4:
            text = text.replace(value, MASK)
    return text


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    check: bool = True,
    input_text: str | None = None,
) -> Result:
    """Run argv locally and return its Result. Raise InfrastructureError on a timeout, a
    missing executable, or (with check) a non-zero exit, quoting the tail of its output."""
    import os

    command = tuple(argv)
    logger.debug("run %s %s", mask_environment(env or {}), mask_argv(command))
    began = time.monotonic()
    try:
        completed = subprocess.run(  # noqa: S603 - argv list, never a shell
            command,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input_text,
            check=False,
        )
    except FileNotFoundError as error:
        raise InfrastructureError(f"{command[0]}: executable not found") from error
    except subprocess.TimeoutExpired as error:
        raise InfrastructureError(f"{command[0]}: timed out after {timeout}s") from error
    finally:
        logger.debug("ran %s: %.3f s", command[0], time.monotonic() - began)
    result = Result(command, completed.returncode, completed.stdout, completed.stderr)
    if check and not result.ok:
        tail = mask_text(result.tail(), env or {})
        raise InfrastructureError(f"{command[0]} exited with {result.exit_code}:\n{tail}")
    return result
