"""How a run's restore timings appear in its report: a line beside each restore, a report.json
row, and the run's own restore.duration finding per system it timed (R140)."""

from __future__ import annotations

from typing import Any

from orchestrator.model.restore_times import RestoreTiming
from orchestrator.rules import figures as fmt

RULE = "restore.duration"


def timing_text(timing: RestoreTiming) -> str:
    """Return "restore 12.3 s (objective ≤ 600 s: within)" for a report line."""
    took = f"restore {fmt.seconds(timing.duration_seconds)}"
    if timing.objective_seconds is None:
        return f"{took} (no objective declared)"
    verdict = "within" if timing.within else "OVER"
    return f"{took} (objective ≤ {fmt.seconds(timing.objective_seconds)}: {verdict})"


def timing_dict(timing: RestoreTiming) -> dict[str, Any]:
    """Return a timing as report.json shows it."""
    return {
        "system": timing.system,
        "dataset": timing.dataset,
        "kind": timing.kind,
        "recovery_point": timing.recovery_point_id,
        "duration_seconds": timing.duration_seconds,
        "objective_seconds": timing.objective_seconds,
        "within_objective": timing.within,
    }
