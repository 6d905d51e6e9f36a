"""`drctl verify`: the sampled validity check (or its plan), or `--all`, the integrity scan."""

from __future__ import annotations

import argparse
import sys

from orchestrator.actions.verify import ScanResult, run_verify_all
from orchestrator.actions.verify_evidence import describe_outcome, outcome_dict
from orchestrator.actions.verify_plan import build_plan
from orchestrator.actions.verify_sample import run_verify_sample
from orchestrator.cli.call import Call
from orchestrator.errors import ExitCode
from orchestrator.evidence.setup import prepare_evidence
from orchestrator.model.plan import SamplePlan, plan_dict
from orchestrator.runtime import open_runtime


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--all", action="store_true", help="check every digest of every point")
    parser.add_argument("--plan", action="store_true", help="print the sample plan only")
    parser.add_argument("--seed", type=int)


def verify(call: Call) -> int:
    if call.args.all:
        return verify_all(call)
    site = call.site()
    if not call.args.plan:
        prepare_evidence(site.config)  # exit 2 before anything is written
    with open_runtime(site, progress=sys.stderr.isatty()) as runtime:
        if call.args.plan:
            plan = build_plan(runtime, call.args.seed)
            call.out.emit(plan_dict(plan), describe_plan(plan))
            return ExitCode.OK if plan.meets_bars else ExitCode.CHECK_FAILED
        outcome = run_verify_sample(runtime, call.args.seed)
    call.out.emit(outcome_dict(outcome), describe_outcome(outcome))
    return ExitCode.OK if outcome.passed and outcome.counted else ExitCode.CHECK_FAILED


def verify_all(call: Call) -> int:
    with open_runtime(call.site(), progress=sys.stderr.isatty()) as runtime:
        result = run_verify_all(runtime)
    call.out.emit(scan_dict(result), describe_scan(result))
    return ExitCode.OK if result.ok else ExitCode.CHECK_FAILED


def scan_dict(result: ScanResult) -> dict[str, object]:
    return {
        "ok": result.ok,
        "recovery_points": result.points,
        "files": result.files,
        "bytes": result.bytes,
        "incomplete_ignored": result.incomplete,
        "problems": [problem.__dict__ for problem in result.problems],
    }


def describe_scan(result: ScanResult) -> str:
    lines = [f"MISMATCH {problem.describe()}" for problem in result.problems]
    lines += [f"incomplete (no manifest, ignored): {item}" for item in result.incomplete]
    lines.append(
        f"summary: {result.points} recovery points, {result.files} files, "
        f"{result.bytes} bytes checked, {len(result.problems)} problem(s)"
    )
    return "\n".join(lines)


def describe_plan(plan: SamplePlan) -> str:
    """Return the text of `drctl verify --plan`: seed, population, items, coverage, ratios."""
    data = plan_dict(plan)
    sample = data["sample"]
    lines = [
        f"seed: {plan.seed}",
        f"population ({plan.policy.population}): {plan.population_points} recovery "
        f"points, {plan.population_bytes} bytes, systems {', '.join(plan.systems)}",
    ]
    lines += [
        f"  {i.system}/{i.dataset} {i.recovery_point} {i.bytes} bytes from {i.store} "
        f"({i.source}, {i.reason})"
        for i in plan.items
    ]
    coverage = data["coverage"]
    lines.append(
        f"coverage: {coverage['checked_after_this_plan']}/{coverage['datasets']} "
        f"datasets checked at least once after this plan; every dataset within "
        f"{coverage['bound_checks']} checks"
    )
    lines.append(
        f"summary: {sample['recovery_points']} of {plan.population_points} points "
        f"(ratio {sample['points_ratio']:.4f}), {sample['bytes']} bytes (ratio "
        f"{sample['bytes_ratio']:.4f}), {sample['offsite_items']} read off-site; "
        + ("meets both 10 % bars" if plan.meets_bars else "BELOW the 10 % bars")
    )
    return "\n".join(lines)
