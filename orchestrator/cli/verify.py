"""`drctl verify`: the sampled validity check (or its plan), `--all`, the integrity scan, or
`--recheck`, the re-check after remediation (A5)."""

from __future__ import annotations

import sys

from orchestrator.actions import verify_all as integrity_scan
from orchestrator.actions import verify_recheck
from orchestrator.actions.evidence_setup import prepare_evidence, refuse_unevidenced
from orchestrator.actions.verify_all_evidence import describe as describe_scan
from orchestrator.actions.verify_outcome import describe_outcome, outcome_dict
from orchestrator.actions.verify_plan import build_plan
from orchestrator.actions.verify_sample import run_verify_sample
from orchestrator.cli.call import Call
from orchestrator.errors import ExitCode, InputError
from orchestrator.integrations.stop_signals import interrupt_once
from orchestrator.model.plan import SamplePlan, plan_dict
from orchestrator.runtime import open_runtime


def refuse_mixed_modes(all_points: bool, recheck: bool, plan: bool, seed: str | None) -> None:
    """Given verify's options, raise InputError (exit 2) for a combination that one mode would
    silently ignore: --all and --recheck together, or --plan/--dry-run or --seed (options of
    the sampled check) with either. `verify --all --dry-run` ran the whole scan and wrote its
    evidence."""
    mode = "--all" if all_points else "--recheck" if recheck else None
    problems = []
    if all_points and recheck:
        problems.append("--all and --recheck: give one of them")
    if mode and plan:
        problems.append(f"--plan/--dry-run: only the sampled check has a plan, not {mode}")
    if mode and seed is not None:
        problems.append(f"--seed: only the sampled check draws a sample, not {mode}")
    if problems:
        raise InputError("command line", problems)


def verify(call: Call) -> int:
    args = call.args
    refuse_mixed_modes(args.all, args.recheck, args.plan, args.seed)
    # The first Ctrl-C (or SIGTERM) stops the check; a later one cannot cut short the
    # recording of the mismatches it had found (exit 1 naming them, actions/bad_points.py).
    with interrupt_once():
        return _verify(call)


def _verify(call: Call) -> int:
    if call.args.recheck:
        return recheck(call)
    if call.args.all:
        return verify_all(call)
    site = call.site()
    plan_only = call.args.plan
    if not plan_only:
        prepare_evidence(site.config)  # exit 2 before anything is written
    with open_runtime(site, progress=sys.stderr.isatty(), writes=not plan_only) as runtime:
        if call.args.plan:
            plan = build_plan(runtime, call.args.seed)
            call.out.emit(plan_dict(plan), describe_plan(plan))
            return ExitCode.OK if plan.meets_bars else ExitCode.CHECK_FAILED
        outcome = run_verify_sample(runtime, call.args.seed)
    call.out.emit(outcome_dict(outcome), describe_outcome(outcome))
    return ExitCode.OK if outcome.passed and outcome.meets_bars else ExitCode.CHECK_FAILED


def verify_all(call: Call) -> int:
    """`drctl verify --all`: exit 3 only when no store could be scanned; 1 when anything is
    bad, open, an intruder, drifted or unreachable."""
    site = call.site()
    refuse_unevidenced(site.config)
    with open_runtime(site, progress=sys.stderr.isatty()) as runtime:
        outcome = integrity_scan.run_verify_all(runtime)
    data, text = describe_scan(outcome)
    call.out.emit(data, text)
    return int(outcome.exit_code)


def recheck(call: Call) -> int:
    """`drctl verify --recheck`: exit 0 when every open incident was closed."""
    site = call.site()
    refuse_unevidenced(site.config)
    with open_runtime(site, progress=sys.stderr.isatty()) as runtime:
        outcome = verify_recheck.run_recheck(runtime)
    data, text = verify_recheck.describe(outcome)
    call.out.emit(data, text)
    return int(outcome.exit_code)


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
