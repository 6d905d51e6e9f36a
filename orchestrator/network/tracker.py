"""The fault state machine of one network path, fed one probe round at a time.

A fault opens after `failures_to_open` consecutive failures seen from EVERY vantage; it starts
at the moment every vantage was failing (the latest of the vantages' first failures, which for
one vantage is the first failure of the streak). It ends at the first success from any vantage.
A new fault that starts less than `merge_gap_ms` after the previous one ended continues that
fault (the recovery was too short to count). Pure: no clock, no I/O; times are epoch ms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from orchestrator.model.outage_records import Closed, Event, Opened, Resumed


@dataclass(frozen=True)
class _Streak:
    failures: int = 0
    first_ms: int = 0


class PathTracker:
    """Consecutive-failure streaks per vantage and the consolidated fault state of one path."""

    def __init__(self, vantages: Sequence[str], failures_to_open: int, merge_gap_ms: int) -> None:
        if not vantages:
            raise ValueError("a path needs at least one vantage")
        if failures_to_open < 1:
            raise ValueError(f"failures_to_open {failures_to_open}: expected at least 1")
        self.vantages = tuple(vantages)
        self.failures_to_open = failures_to_open
        self.merge_gap_ms = merge_gap_ms
        self._streaks = {vantage: _Streak() for vantage in self.vantages}
        self.open_start_ms: int | None = None
        self.last_start_ms: int | None = None
        self.last_end_ms: int | None = None
        self._unseen_gap_ms = 0  # a recalled fault closed by a restart: how long it may resume

    def recall(self, start_ms: int, end_ms: int | None, unseen_gap_ms: int = 0) -> None:
        """Given the newest fault the ledger holds for the path (end_ms None while open), go on
        from it as if this tracker had seen it: a fault left open stays open until a success. A
        fault a stop or restart closed (no success ended it) is resumed by a fault that starts
        within unseen_gap_ms of that close, before any success: a restart is not a recovery,
        and a gap that short counts as observed in the ledger too (stale_ms)."""
        if end_ms is None:
            self.open_start_ms = start_ms
        else:
            self.last_start_ms, self.last_end_ms = start_ms, end_ms
            self._unseen_gap_ms = unseen_gap_ms

    @property
    def is_down(self) -> bool:
        """Return whether a fault is open."""
        return self.open_start_ms is not None

    def observe(self, at_ms: int, results: Mapping[str, bool]) -> list[Event]:
        """Given one round of probe results (True = success) from every vantage at at_ms,
        return the events it causes. Raise ValueError if a vantage is missing or unknown."""
        if set(results) != set(self.vantages):
            raise ValueError(
                f"probe round has vantages {sorted(results)}, expected {sorted(self.vantages)}"
            )
        for vantage, ok in results.items():
            streak = self._streaks[vantage]
            if ok:
                self._streaks[vantage] = _Streak()
            else:
                first = at_ms if streak.failures == 0 else streak.first_ms
                self._streaks[vantage] = _Streak(streak.failures + 1, first)
        if any(results.values()):
            self._unseen_gap_ms = 0  # seen up: a recalled fault ended, whatever comes next
        if self.open_start_ms is not None:
            recovered = [vantage for vantage in self.vantages if results[vantage]]
            if not recovered:
                return []
            self.last_start_ms, self.open_start_ms = self.open_start_ms, None
            self.last_end_ms = at_ms
            return [Closed(end_ms=at_ms, vantage=recovered[0])]
        if not all(s.failures >= self.failures_to_open for s in self._streaks.values()):
            return []
        start = max(s.first_ms for s in self._streaks.values())
        if (
            self.last_end_ms is not None
            and self.last_start_ms is not None
            and (
                start - self.last_end_ms < self.merge_gap_ms
                or start - self.last_end_ms <= self._unseen_gap_ms
            )
        ):
            self._unseen_gap_ms = 0
            self.open_start_ms = self.last_start_ms
            return [
                Resumed(previous_end_ms=self.last_end_ms, declared_ms=at_ms, vantages=self.vantages)
            ]
        self.open_start_ms = start
        return [Opened(start_ms=start, declared_ms=at_ms, vantages=self.vantages)]
