"""Drill scenarios (drills/*.yml): a declared sequence of steps the drill engine runs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from orchestrator.errors import InputError
from orchestrator.input_files import format_validation_errors, parse_yaml_file
from orchestrator.model.settings import Config

ACTIONS = (
    "workload",
    "backup",
    "copy_offsite",
    "disaster",
    "failover",
    "failback",
    "compare_sites",
    "reprotect",
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Model):
    zh: str
    en: str


class Step(_Model):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    action: Literal[
        "workload",
        "backup",
        "copy_offsite",
        "disaster",
        "failover",
        "failback",
        "compare_sites",
        "reprotect",
    ]
    description: Text | None = None
    site: str | None = None
    store: str | None = None
    from_store: str | None = None
    to_site: str | None = None
    dataset: str | None = Field(default=None, description="workload: the ledger dataset")
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
    title: Text
    description: Text | None = None
    system: str
    objectives: Objectives = Field(default_factory=Objectives)
    steps: Sequence[Step] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_steps(self) -> Scenario:
        names = [step.name for step in self.steps]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"duplicate step names: {', '.join(duplicates)}")
        if not any(step.action == "failover" for step in self.steps):
            raise ValueError("a drill needs a failover step")
        return self


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
    return problems


def load_scenario(path: Path, config: Config) -> Scenario:
    """Given a scenario file, return it validated against the config; raise InputError with
    every problem and its path."""
    data = parse_yaml_file(path)
    if not isinstance(data, dict):
        raise InputError(str(path), ["(top level): expected a mapping"])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        raise InputError(str(path), format_validation_errors(error)) from error
    problems = check_against_config(scenario, config)
    if problems:
        raise InputError(str(path), problems)
    return scenario
