"""`drctl drill run`: run a drill scenario step by step; print RTO, RPO and the evidence."""

from __future__ import annotations

import argparse
from pathlib import Path

from orchestrator.actions.drill import DrillOutcome, StepRecord, run_drill
from orchestrator.actions.sandbox import SCENARIO, prepare_sandbox
from orchestrator.cli.call import Call
from orchestrator.errors import ExitCode
from orchestrator.evidence.setup import prepare_evidence
from orchestrator.model.scenario import Scenario, load_scenario
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site

STEP_MARKS = {"passed": "ok  ", "failed": "FAIL", "skipped": "skip"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", nargs="?", help="scenario file (default: the sandbox drill)")
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="set up a fresh sandbox under .dr/sandbox and use its dr.yml",
    )


def run(call: Call) -> int:
    site = load_site(prepare_sandbox()) if call.args.sandbox else call.site()
    prepare_evidence(site.config)  # exit 2 before anything is written
    scenario_path = Path(call.args.scenario) if call.args.scenario else SCENARIO
    scenario = load_scenario(scenario_path, site.config.model)
    call.out.progress(f"drill {scenario.name}: {scenario.title.en} / {scenario.title.zh}")
    call.out.progress(f"config {site.config.path}")

    def show(record: StepRecord) -> None:
        call.out.progress(step_line(scenario, record))

    with open_runtime(site) as runtime:
        outcome = run_drill(runtime, scenario, scenario_path, on_step=show)
    call.out.emit(outcome_dict(outcome), describe(outcome))
    return ExitCode.OK if outcome.passed else ExitCode.CHECK_FAILED


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
        "passed": outcome.passed,
        "rto_seconds": measured.get("rto_seconds"),
        "rpo_seconds": measured.get("rpo_seconds"),
        "postings_lost": measured.get("postings_lost"),
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
            f"result: {'PASSED 通过' if outcome.passed else 'FAILED 未通过'}",
            f"evidence: {outcome.evidence_path}",
        ]
    )
