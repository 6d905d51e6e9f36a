"""What `drctl verify` prints about a validity check: the `--json` document and the human
lines (the evidence package's report.json: actions/verify_evidence.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator.actions.removed_copies import REMOVED
from orchestrator.model.plan import plan_dict

_MARKS = {"passed": "ok  ", "removed": "gone"}

if TYPE_CHECKING:
    from orchestrator.actions.verify_sample import SampleOutcome


def outcome_dict(outcome: SampleOutcome) -> dict[str, Any]:
    """Return the `drctl verify --json` output of a check."""
    plan = plan_dict(outcome.plan)
    return {
        "verification": outcome.verification_id,
        "passed": outcome.passed,
        "counted": outcome.counted,
        "not_counted_because": (outcome.not_counted_because or (None,))[0],
        "seed": outcome.plan.seed,
        "population": plan["population"],
        "sample": plan["sample"],
        "items": [
            {
                "recovery_point": r.item.recovery_point,
                "system": r.item.system,
                "dataset": r.item.dataset,
                "store": r.item.store,
                "source": r.item.source,
                "status": r.status,
            }
            for r in outcome.items
        ],
        "mismatches": outcome.mismatches,
        "wipe": outcome.wipe,
        "evidence": str(outcome.evidence_path) if outcome.evidence_path else None,
    }


def describe_outcome(outcome: SampleOutcome) -> str:
    """Return the human output of a check: one line per item and mismatch, a summary."""
    lines = [
        f"{_MARKS.get(r.status, 'FAIL')} {r.item.system}/{r.item.dataset} "
        f"{r.item.recovery_point} from {r.item.store} ({r.item.source})"
        + (f": {REMOVED}" if r.status == "removed" else "")
        for r in outcome.items
    ]
    lines += [
        f"MISMATCH {m['recovery_point']} in {m['store']}: {m['file']}: {m['kind']}: "
        f"expected {m['expected']}, actual {m['actual']}"
        for m in outcome.mismatches
    ]
    lines.append(
        f"enclave {outcome.wipe.get('site')}: {outcome.wipe.get('result')} "
        f"({len(outcome.wipe.get('removed', []))} paths removed)"
    )
    lines.append(f"evidence: {outcome.evidence_path}")
    plan = outcome.plan
    lines.append(
        f"summary: {len(plan.items)}/{plan.population_points} recovery points, "
        f"bytes ratio {float(plan.bytes_ratio):.4f}, points ratio "
        f"{float(plan.points_ratio):.4f}, {len(outcome.mismatches)} mismatch(es); "
        + ("counted" if outcome.counted else f"NOT counted: {_why(outcome)[0]}")
    )
    lines.append(
        f"小结：抽检 {len(plan.items)}/{plan.population_points} 个恢复点，"
        f"不一致 {len(outcome.mismatches)} 处；"
        + ("计入有效性检查" if outcome.counted else f"不计入（{_why(outcome)[1]}）")
    )
    return "\n".join(lines)


def _why(outcome: SampleOutcome) -> tuple[str, str]:
    return outcome.not_counted_because or ("", "")
