"""One probe of one replication link (260号 第十一条): the state and lag the receiving end
reported, and whether that was healthy against the system's lag objective."""

from __future__ import annotations

from dataclasses import dataclass

STATES = ("streaming", "stopped", "not_replica", "unreachable")


@dataclass(frozen=True)
class ProbeRow:
    """One probe of one link."""

    system: str
    link: str
    engine: str
    probed_at: float
    state: str
    lag_seconds: float | None
    lag_bytes: int | None = None
    error: str | None = None

    def healthy(self, lag_objective_seconds: float) -> bool:
        """Return whether the link streamed within the objective at this probe."""
        return (
            self.state == "streaming"
            and self.lag_seconds is not None
            and self.lag_seconds <= lag_objective_seconds
        )
