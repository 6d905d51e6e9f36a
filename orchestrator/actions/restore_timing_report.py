"""How a run's restore timings appear in its report: a line beside each restore, a report.json
row, and the run's own restore.duration finding per system it timed (R140)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from orchestrator.model.restore_times import RestoreTiming
from orchestrator.rules import figures as fmt
from orchestrator.rules.rule import RulePack

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


def timing_findings(pack: RulePack, timings: Sequence[RestoreTiming]) -> list[dict[str, Any]]:
    """Return this run's restore.duration finding per system it timed: compliant when every
    restore was within the objective, non_compliant when one was not, unknown without one."""
    rule = pack.get(RULE)
    findings = []
    for system in sorted({t.system for t in timings}):
        mine = [t for t in timings if t.system == system]
        target = mine[0].objective_seconds
        longest = max(mine, key=lambda t: t.duration_seconds)
        if target is None:
            status, threshold = "unknown", "no restore_time_objective_seconds declared"
        else:
            status = "compliant" if all(t.within for t in mine) else "non_compliant"
            threshold = f"every restore of a dataset ≤ {fmt.seconds(target)}"
        findings.append(
            {
                "rule": RULE,
                "subject": system,
                "status": status,
                "measured": f"longest {longest.dataset} {fmt.seconds(longest.duration_seconds)} "
                f"({len(mine)} restore(s))",
                "threshold": threshold,
                "clause": {
                    "source": rule.clause.source,
                    "article": rule.clause.article,
                    "text": rule.clause.text,
                },
            }
        )
    return findings
