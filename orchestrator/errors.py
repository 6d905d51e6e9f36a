"""The small error tree and the exit codes every command ends with."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence


class ExitCode(enum.IntEnum):
    """Process exit codes, part of the CLI contract (DESIGN §3)."""

    OK = 0
    CHECK_FAILED = 1  # non-compliance, digest mismatch, drill failed
    USAGE = 2  # usage or config error, bad input
    INFRASTRUCTURE = 3  # host or store unreachable; nothing recorded as success


# When several items (datasets) end differently, the command ends with the worst of them:
# a data mismatch (1) always wins, then an infrastructure failure (3), then a usage error (2).
EXIT_PRECEDENCE = (ExitCode.CHECK_FAILED, ExitCode.INFRASTRUCTURE, ExitCode.USAGE, ExitCode.OK)


def worst_exit_code(codes: Iterable[int]) -> ExitCode:
    """Given the exit codes of several items, return the one the command ends with."""
    seen = {ExitCode(code) for code in codes}
    return next((code for code in EXIT_PRECEDENCE if code in seen), ExitCode.OK)


class OrchestratorError(Exception):
    """Base of every expected failure; carries the exit code it ends the process with."""

    exit_code: ExitCode = ExitCode.INFRASTRUCTURE


class InputError(OrchestratorError):
    """Bad input (config, inventory, manifest, scenario, calendar override).

    Holds every problem found, each already prefixed with the path inside the file.
    """

    exit_code = ExitCode.USAGE

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"{source}: {len(self.problems)} error(s)\n{lines}")


class CheckFailed(OrchestratorError):
    """A check ran to completion and found a problem (mismatch, non-compliance, failed drill)."""

    exit_code = ExitCode.CHECK_FAILED


class CatalogUnwritten(CheckFailed):
    """A check found mismatches, and the catalog could not record them (locked, read-only,
    unreachable): still a failed check (exit 1, a data mismatch is always 1); the message
    names the mismatches, the catalog and what to do."""


class InfrastructureError(OrchestratorError):
    """A host, store or service could not be reached or failed underneath us."""

    exit_code = ExitCode.INFRASTRUCTURE


class JobBusy(InfrastructureError):
    """Another live process holds this job's lease (model/lease.py): nothing was done."""


class LeaseLost(InfrastructureError):
    """This job's lease was taken over by another process while it ran (model/lease.py): what
    it had not yet committed is not counted, the taker's run is."""


class CatalogSchemaMismatch(OrchestratorError):
    """The catalog's schema is not the one this drctl reads: older (run `drctl catalog
    upgrade`) or newer (upgrade drctl). Nothing was read or written."""

    exit_code = ExitCode.USAGE


class CalendarDataMissing(OrchestratorError):
    """The working-day calendar has no data for a year: rules depending on it are unknown."""

    exit_code = ExitCode.USAGE

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            f"no working-day calendar data for {year}: add the year to the calendar overrides file"
        )
