"""What the outage ledger records about a network path: faults as intervals, stretches of
observation, and the events a probe round causes (a fault opened, resumed, closed).

Plain frozen values shared by the prober (`network/`), the ledger (`model/outages.py`) and
the judgement (`rules/availability.py`); times are integer epoch milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.model.settings import NetworkPath


def stale_ms(path: NetworkPath) -> int:
    """Given a path, return how long (ms) after its last probe round the path still counts
    as observed: three intervals plus one timeout. A longer silence is "no data"."""
    return int((3 * path.interval_seconds + path.timeout_seconds) * 1000)


@dataclass(frozen=True)
class OutageRecord:
    """One fault of the ledger: end_ms is None while it is open."""

    start_ms: int
    end_ms: int | None
    closed_by: str | None = None


@dataclass(frozen=True)
class ObservationRecord:
    """One stretch of valid measurements: first and last probe round; end_ms once closed."""

    start_ms: int
    last_ms: int
    end_ms: int | None = None


@dataclass(frozen=True)
class PathHistory:
    """Everything the ledger knows about one path. stale_ms: how old the last probe of an
    open observation may be and still count as live (beyond it the prober is gone)."""

    target: str
    outages: tuple[OutageRecord, ...]
    observations: tuple[ObservationRecord, ...]
    stale_ms: int

    @property
    def first_observed_ms(self) -> int | None:
        """Return when the path was first observed, None if never."""
        return min((o.start_ms for o in self.observations), default=None)


@dataclass(frozen=True)
class Opened:
    """A new fault: it started at start_ms (declared at declared_ms)."""

    start_ms: int
    declared_ms: int
    vantages: tuple[str, ...]


@dataclass(frozen=True)
class Resumed:
    """The previous fault, which ended at previous_end_ms, goes on: the recovery was short."""

    previous_end_ms: int
    declared_ms: int
    vantages: tuple[str, ...]


@dataclass(frozen=True)
class Closed:
    """The open fault ended at end_ms (the first success), seen from vantage."""

    end_ms: int
    vantage: str


Event = Opened | Resumed | Closed
