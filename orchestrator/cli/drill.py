"""`drctl drill run`: run a drill scenario step by step; print RTO, RPO and the evidence.

The scenario is checked before anything runs: a step that would seed, write or destroy data
at a site not marked sandbox is refused with exit 2 (model/scenario_safety.py). A switchover
scenario also needs its clearance — a recorded plan, `--confirm <system>`, a recent verified
recovery point (actions/switchover.py) — or exit 2, nothing touched. Exit 0 passed, 1 failed,
3 aborted (no verdict).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from orchestrator.actions.drill import StepRecord, run_drill
from orchestrator.actions.evidence_setup import evidence_problems, prepare_evidence
from orchestrator.actions.sandbox import SANDBOX_DIR, SCENARIO, prepare_sandbox
from orchestrator.actions.site_locations import mixed_site_locations
from orchestrator.actions.switchover import clear_switchover
from orchestrator.cli.call import Call
from orchestrator.cli.drill_output import describe, outcome_dict, step_line
from orchestrator.cli.dry_run import drill_plan
from orchestrator.errors import ExitCode, InputError
from orchestrator.model.scenario import load_scenario
from orchestrator.runtime import open_runtime
from orchestrator.sandbox_lock import resetting_sandbox
from orchestrator.site import LoadedSite, load_site


def run(call: Call) -> int:
    if call.args.dry_run:
        return _dry_run(call)
    if not call.args.sandbox:
        return _run(call, call.site())
    with resetting_sandbox(SANDBOX_DIR):  # no other command on it from the reset to the end
        return _run(call, load_site(prepare_sandbox()))


def _run(call: Call, site: LoadedSite) -> int:
    prepare_evidence(site.config)  # exit 2 before anything is written
    scenario_path = Path(call.args.scenario) if call.args.scenario else SCENARIO
    scenario = load_scenario(
        scenario_path,
        site.config.model,
        mixed_site_locations(site.config),
        site.config.store_urls(),
    )
    if call.args.confirm is not None and scenario.kind != "switchover":
        raise InputError(
            "command line",
            [f"--confirm: only a switchover scenario takes it ({scenario_path} is a drill)"],
        )

    def show(record: StepRecord) -> None:
        call.out.progress(step_line(scenario, record))

    with open_runtime(site) as runtime:
        clearance = None
        if scenario.kind == "switchover":
            clearance = clear_switchover(runtime, scenario, str(scenario_path), call.args.confirm)
        call.out.progress(f"drill {scenario.name}: {scenario.title.en} / {scenario.title.zh}")
        call.out.progress(f"config {site.config.path}")
        outcome = run_drill(
            runtime,
            scenario,
            scenario_path,
            on_step=show,
            clearance=clearance,
            allow_replica_writes=call.args.allow_replica_writes,
        )
    call.out.emit(outcome_dict(outcome), describe(outcome))
    return int(outcome.exit_code)


def _dry_run(call: Call) -> int:
    """Validate the scenario (and, for the sandbox, a throw-away sandbox config) and print its
    steps; nothing of the site or of .dr/sandbox is written."""
    scenario_path = Path(call.args.scenario) if call.args.scenario else SCENARIO
    with tempfile.TemporaryDirectory(prefix="drctl-dry-run-") as scratch:
        config_path = (
            prepare_sandbox(Path(scratch) / "sandbox") if call.args.sandbox else call.config_path
        )
        site = load_site(config_path) if call.args.sandbox else call.site()
        problems = evidence_problems(site.config)  # offline: no anchor store asked
        if problems and not call.args.sandbox:
            raise InputError(str(site.config.path), problems)
        scenario = load_scenario(
            scenario_path,
            site.config.model,
            mixed_site_locations(site.config),
            site.config.store_urls(),
        )
    call.out.emit(*drill_plan(scenario, str(scenario_path)))
    return ExitCode.OK
