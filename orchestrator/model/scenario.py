"""Drill scenarios (drills/*.yml): a declared sequence of steps the drill engine runs.

Two kinds. A `drill` on real sites is a test failover (test_failover, test_failback, wipe:
drill-scoped targets only); seeding, writing and destroying are for sandbox sites only. A
`switchover` is the one destructive kind: it replaces the disaster-recovery site's live data
and runs only with a recorded plan, `--confirm <system>` and a recent verified recovery point
(orchestrator/actions/switchover.py). What each action touches, and where it may run, is
model/scenario_safety.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from orchestrator.errors import InputError
from orchestrator.input_files import format_validation_errors, parse_yaml_file
from orchestrator.model.scenario_safety import SiteLocation, check_safety
from orchestrator.model.settings import Config, System

Action = Literal[
    "workload",
    "backup",
    "copy_offsite",
    "disaster",
    "failover",
    "failback",
    "compare_sites",
    "reprotect",
    "test_failover",
    "test_failback",
    "wipe",
]
ACTIONS: tuple[str, ...] = Action.__args__  # type: ignore[attr-defined]
SWITCHOVER_ACTIONS = ("failover", "backup", "copy_offsite")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Model):
    zh: str
    en: str


class Step(_Model):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    action: Action
    description: Text | None = None
    site: str | None = None
    store: str | None = None
    from_store: str | None = None
    to_site: str | None = None
    dataset: str | None = Field(
        default=None, description="workload, test_failover: the ledger dataset"
    )
    table: str | None = Field(
        default=None,
        description="test_failover: the ledger's postings table (default postings)",
    )
    postings: int | None = Field(default=None, ge=1, le=10_000_000)
    seed: int | None = None
    destroy_stores: Sequence[str] = ()
    sites: Sequence[str] = ()

    @model_validator(mode="after")
    def _needs(self) -> Step:
        needs = {
            "workload": ("site", "dataset"),
            "backup": ("site",),
            "disaster": ("site",),
            "failover": ("from_store", "to_site"),
            "failback": ("from_store", "to_site"),
            "reprotect": ("site",),
        }.get(self.action, ())
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"action {self.action} needs {', '.join(missing)}")
        if self.action == "compare_sites" and len(self.sites) != 2:
            raise ValueError("action compare_sites needs exactly two sites")
        return self


class Objectives(_Model):
    rto_seconds: float | None = Field(default=None, gt=0, description="bank policy, not 260号")
    rpo_seconds: float | None = Field(default=None, gt=0, description="bank policy, not 260号")


class Scenario(_Model):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    kind: Literal["drill", "switchover"] = "drill"
    title: Text
    description: Text | None = None
    system: str
    objectives: Objectives = Field(default_factory=Objectives)
    production_may_change: bool = Field(
        default=False,
        description="test failover: production is live and may change during the drill; the "
        "before/after fingerprints are then recorded, not required to be equal",
    )
    steps: Sequence[Step] = Field(min_length=1)

    @model_validator(mode="after")
    def _shape(self) -> Scenario:
        names = [step.name for step in self.steps]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"duplicate step names: {', '.join(duplicates)}")
        problems = (
            _switchover_shape(self.steps) if self.kind == "switchover" else _drill_shape(self.steps)
        )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def is_test_failover(self) -> bool:
        return any(step.action == "test_failover" for step in self.steps)


def _drill_shape(steps: Sequence[Step]) -> list[str]:
    actions = [step.action for step in steps]
    if "failover" not in actions and "test_failover" not in actions:
        return ["a drill needs a failover or test_failover step"]
    problems = []
    if "test_failover" in actions:
        if actions.count("test_failover") > 1 or actions.count("test_failback") > 1:
            problems.append("a test failover has one test_failover and one test_failback step")
        if actions[-1] != "wipe" or actions.count("wipe") != 1:
            problems.append(
                "a test failover ends with exactly one wipe step (it always runs, even after a "
                "failed or aborted step, and removes every drill-scoped target)"
            )
        if "test_failback" in actions and actions.index("test_failback") < actions.index(
            "test_failover"
        ):
            problems.append("test_failback must come after test_failover")
    elif "test_failback" in actions or "wipe" in actions:
        problems.append("test_failback and wipe belong to a test failover (add test_failover)")
    return problems


def _switchover_shape(steps: Sequence[Step]) -> list[str]:
    actions = [step.action for step in steps]
    problems = [
        f"steps[{index}].action: {action} is not allowed in a switchover "
        f"(allowed: {', '.join(SWITCHOVER_ACTIONS)})"
        for index, action in enumerate(actions)
        if action not in SWITCHOVER_ACTIONS
    ]
    if actions.count("failover") != 1 or actions[0] != "failover":
        problems.append(
            "a switchover starts with exactly one failover step (the recovery points it "
            "restores are the ones cleared before it starts); backup and copy_offsite may "
            "follow to protect the new active site"
        )
    return problems


def check_against_config(scenario: Scenario, config: Config) -> list[str]:
    """Return problems where the scenario names sites, stores or datasets the config lacks."""
    problems = []
    sites = {site.name for site in config.sites}
    stores = {store.name for store in config.stores}
    systems = {system.name: system for system in config.systems}
    if scenario.system not in systems:
        return [f"system: unknown system {scenario.system!r} (config has {', '.join(systems)})"]
    datasets = {dataset.name for dataset in systems[scenario.system].datasets}
    for index, step in enumerate(scenario.steps):
        where = f"steps[{index}]"
        for field in ("site", "to_site"):
            value = getattr(step, field)
            if value is not None and value not in sites:
                problems.append(f"{where}.{field}: unknown site {value!r}")
        for position, value in enumerate(step.sites):
            if value not in sites:
                problems.append(f"{where}.sites[{position}]: unknown site {value!r}")
        for field in ("store", "from_store"):
            value = getattr(step, field)
            if value is not None and value not in stores:
                problems.append(f"{where}.{field}: unknown store {value!r}")
        for position, value in enumerate(step.destroy_stores):
            if value not in stores:
                problems.append(f"{where}.destroy_stores[{position}]: unknown store {value!r}")
        if step.dataset is not None and step.dataset not in datasets:
            problems.append(f"{where}.dataset: unknown dataset {step.dataset!r}")
    return problems + _test_sites(scenario, systems[scenario.system])


def _test_sites(scenario: Scenario, system: System) -> list[str]:
    """A test failback proves the other direction: its target site must differ from the
    test failover's (defaults: the disaster-recovery site, then the production site)."""
    there = {
        "test_failover": system.disaster_recovery_site,
        "test_failback": system.production_site,
    }
    sites = {
        step.action: (index, step.to_site or there[step.action])
        for index, step in enumerate(scenario.steps)
        if step.action in there
    }
    if len(sites) == 2 and sites["test_failover"][1] == sites["test_failback"][1]:
        index, site = sites["test_failback"]
        return [
            f"steps[{index}].to_site: the test failback goes back to another site than the "
            f"test failover's ({site!r}); default: the system's production site"
        ]
    return []


def load_scenario(
    path: Path,
    config: Config,
    locations: Mapping[str, SiteLocation] | None = None,
    urls: Mapping[str, str] | None = None,
) -> Scenario:
    """Given a scenario file, return it validated against the config (and the sites'
    locations, when known, and the stores' absolute URLs: model/scenario_safety.py); raise
    InputError with every problem and its path, including every step that would seed, write
    or destroy data at a site not marked sandbox or reaching a real site's data, or remove a
    real site's store (nothing has been touched when raised)."""
    data = parse_yaml_file(path)
    if not isinstance(data, dict):
        raise InputError(str(path), ["(top level): expected a mapping"])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        raise InputError(str(path), format_validation_errors(error)) from error
    problems = check_against_config(scenario, config)
    if not problems:
        problems = check_safety(scenario, config, locations, urls)
    if problems:
        raise InputError(str(path), problems)
    return scenario
