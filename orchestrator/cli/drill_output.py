"""What `drctl drill run` prints: a progress line per finished step, the closing lines (RTO,
RPO, result, evidence) and the `--json` document."""

from __future__ import annotations

from orchestrator.actions.drill import DrillOutcome, StepRecord
from orchestrator.model.scenario import Scenario

STEP_MARKS = {"passed": "ok  ", "failed": "FAIL", "aborted": "ABRT", "skipped": "skip"}


RESULTS = {
    "passed": "PASSED 通过",
    "failed": "FAILED 未通过",
    "aborted": "ABORTED 中止 (no verdict: nothing counted)",
}


def step_line(scenario: Scenario, record: StepRecord) -> str:
    """Return the progress line of one finished step: `[ 3/10] ok   copy_offsite  1.2s …`."""
    index = next(i for i, s in enumerate(scenario.steps, 1) if s.name == record.name)
    took = f"{record.duration_seconds:6.1f}s" if record.started_at else "       "
    mark = STEP_MARKS[record.status]
    return f"[{index:2d}/{len(scenario.steps)}] {mark} {record.name:<22} {took}  {record.message}"


def outcome_dict(outcome: DrillOutcome) -> dict[str, object]:
    measured = outcome.measurements
    return {
        "drill": outcome.drill_id,
        "scenario": outcome.scenario,
        "outcome": outcome.outcome,
        "passed": outcome.passed,
        "rto_seconds": measured.get("rto_seconds"),
        "rpo_seconds": measured.get("rpo_seconds"),
        "postings_lost": measured.get("postings_lost"),
        "rows_behind": measured.get("rows_behind"),
        "production_unchanged": (measured.get("production") or {}).get("unchanged"),
        "wipe": measured.get("wipe"),
        "evidence": str(outcome.evidence_path),
        "steps": [
            {"name": r.name, "status": r.status, "message": r.message} for r in outcome.steps
        ],
    }


def describe(outcome: DrillOutcome) -> str:
    """Return the closing lines: RTO, RPO (and postings lost), the result, the evidence."""
    measured = outcome.measurements
    rto, rpo, lost = (measured.get(k) for k in ("rto_seconds", "rpo_seconds", "postings_lost"))
    rpo_text = "n/a" if rpo is None else f"{rpo:.1f} s"
    if rpo is not None and lost is not None:
        rpo_text += f" ({lost} postings lost)"
    return "\n".join(
        [
            f"RTO: {'n/a' if rto is None else f'{rto:.1f} s'}",
            f"RPO: {rpo_text}",
            f"result: {RESULTS[outcome.outcome]}",
            f"evidence: {outcome.evidence_path}",
        ]
    )
