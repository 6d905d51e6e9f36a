"""The one error boundary: every way a command can end, mapped to the exit-code contract.

    0  ok
    1  a check failed (CheckFailed: mismatch, non-compliance, failed drill)
    2  usage or config (InputError, CalendarDataMissing, a bad command line, a catalog
       schema too old for a reader, a path too long to name a file)
    1  also CatalogUnwritten: a check found mismatches the catalog could not record
    3  infrastructure (InfrastructureError, JobBusy, the catalog unusable — locked, read-only,
       unreachable: one line naming its address without the password and what to do —, a
       full or read-only disk, an address in use) — and anything unexpected, which also says
       "please report" (the traceback only with -v)
  130  interrupted (Ctrl-C, or SIGTERM: cli/main.py makes it a KeyboardInterrupt) — unless a
       check had already found mismatches: then 1 naming them (actions/bad_points.py)

Every failure prints one `error: …` line on stderr; with --json the same failure is also
the error envelope on stdout (docs/cli.md).
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Callable

from orchestrator.cli.output import Output
from orchestrator.errors import ExitCode, InputError, OrchestratorError

# Neither `logging`, `traceback`, `typing` nor `dataclasses` at the top: every command that
# runs imports this module, and those four cost more than `drctl calendar` itself
# (docs/benchmarks.md, start-up). The traceback is logged only with -v. mypy reads the block as
# typing's TYPE_CHECKING.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

INTERRUPTED = 130
ISSUES = "please report it with the output of the same command run with -v"
# The Chinese words of each kind of failure, added to the error line (reports are bilingual;
# the English line stays first and unchanged for scripts that read it).
KINDS_ZH = {
    "usage": "用法或配置错误，未写入任何内容",
    "check_failed": "检查未通过",
    "infrastructure": "基础设施故障（主机、存储或目录不可用）",
    "internal": "内部错误，请报告",
    "interrupted": "已中断",
}
KINDS = {
    ExitCode.CHECK_FAILED: "check_failed",
    ExitCode.USAGE: "usage",
    ExitCode.INFRASTRUCTURE: "infrastructure",
}


class Failure:
    """How a command failed, ready to print: exit code, kind, one-line message."""

    __slots__ = ("exit_code", "kind", "type", "message", "source", "problems")

    def __init__(
        self,
        exit_code: int,
        kind: str,
        type: str,  # noqa: A002 - the envelope's word
        message: str,
        source: str | None = None,
        problems: list[str] | None = None,
    ) -> None:
        self.exit_code = exit_code
        self.kind = kind
        self.type = type
        self.message = message
        self.source = source
        self.problems = list(problems or [])

    def __repr__(self) -> str:
        return f"Failure({self.exit_code}, {self.kind!r}, {self.type!r}, {self.message!r})"

    def envelope(self, command: str) -> dict[str, Any]:
        """Return the JSON error envelope every command shares (docs/cli.md)."""
        return {
            "ok": False,
            "command": command,
            "exit_code": self.exit_code,
            "error": {
                "kind": self.kind,
                "type": self.type,
                "message": self.message,
                "source": self.source,
                "problems": self.problems,
            },
        }


def classify(error: BaseException) -> Failure:
    """Given an exception that ended a command, return how the command failed."""
    name = type(error).__name__
    if isinstance(error, InputError):
        return Failure(ExitCode.USAGE, "usage", name, str(error), error.source, error.problems)
    if isinstance(error, OrchestratorError):
        code = ExitCode(error.exit_code)
        return Failure(code, KINDS[code], name, str(error))
    if isinstance(error, KeyboardInterrupt):
        return Failure(INTERRUPTED, "interrupted", name, "interrupted")
    catalog = _catalog_failure(error, name)
    if catalog is not None:
        return catalog
    if isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename else ""
        if error.errno == errno.ENAMETOOLONG:
            # A path from dr.yml or the command line, too long to name a file: the operator's
            # input (2), shortened in the message; never a broken disk (3).
            where = f"{str(error.filename)[:60]}…: " if error.filename else ""
            return Failure(
                ExitCode.USAGE, "usage", name, f"{where}{error.strerror}; expected a shorter path"
            )
        return Failure(
            ExitCode.INFRASTRUCTURE, "infrastructure", name, f"{where}{error.strerror or error}"
        )
    return Failure(
        ExitCode.INFRASTRUCTURE,
        "internal",
        name,
        f"internal error ({name}: {error}); {ISSUES}",
    )


def _catalog_failure(error: BaseException, name: str) -> Failure | None:
    """Return how a catalog error (locked, read-only, unreachable, damaged) failed: one line
    naming the catalog and what to do (model/catalog_errors.py), never SQLAlchemy's message
    with its statement and parameters; None for any other error. A statement the database
    refused for what it is (integrity, programming) is drctl's bug: internal, one line too."""
    if "sqlalchemy" not in sys.modules:  # no catalog was opened: no catalog error either
        return None
    from sqlalchemy.exc import IntegrityError, ProgrammingError

    from orchestrator.model.catalog import opened_url
    from orchestrator.model.catalog_errors import catalog_problem, driver_message, is_catalog_error

    if not is_catalog_error(error):
        return None

    if isinstance(error, IntegrityError | ProgrammingError):
        reason = driver_message(error, opened_url())
        return Failure(
            ExitCode.INFRASTRUCTURE,
            "internal",
            name,
            f"internal error ({name}: {reason}); {ISSUES}",
        )
    return Failure(
        ExitCode.INFRASTRUCTURE, "infrastructure", name, catalog_problem(error, opened_url())
    )


def run_guarded(handler: Callable[[], int], out: Output, command: str, verbose: int) -> int:
    """Run a command's handler; return its exit code, or the failure's after reporting it."""
    try:
        return int(handler())
    except (Exception, KeyboardInterrupt) as error:  # noqa: BLE001 - the one boundary
        return report(error, out, command, verbose)


def report(error: BaseException, out: Output, command: str, verbose: int) -> int:
    """Report a failure (one line; the envelope with --json; the traceback with -v for
    anything but the error tree) and return its exit code."""
    failure = classify(error)
    if verbose and not isinstance(error, OrchestratorError | KeyboardInterrupt):
        import logging
        import traceback

        logging.getLogger("orchestrator").error(
            "%s", "".join(traceback.format_exception(error)).rstrip()
        )
    first, newline, rest = failure.message.partition("\n")
    line = f"error: {first} — {KINDS_ZH[failure.kind]} (exit {failure.exit_code}){newline}{rest}"
    out.error(line, failure.envelope(command))
    return failure.exit_code
