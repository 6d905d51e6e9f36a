"""A switchover replaces its own system's datasets at the site that takes over: a files
dataset whose directory holds another system's live dataset there (one path inside the other,
also spelled with `./` or `//`) would be replaced with it, so the scenario is refused."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from orchestrator.config import Config
from orchestrator.errors import InputError
from orchestrator.model.scenario import load_scenario
from orchestrator.model.scenario_safety import check_safety
from tests.fixtures.real_site import REPO, documented_config

# Its production at core-banking's disaster-recovery site, its stores the other way round.
TREASURY = dict(
    name="treasury", production_site="disaster-recovery", disaster_recovery_site="verification"
) | dict(primary_store="offsite", offsite_store="primary")


def two_systems(mine: str, theirs: str) -> Config:
    """Return the documented config with core-banking's data one files dataset at `mine` and
    a system whose production is at core-banking's disaster-recovery site with one at
    `theirs`."""
    data: Any = documented_config()
    core = data["systems"][0]
    core["datasets"] = [
        {"name": "documents", "engine": "files", "category": "configuration", "path": mine}
    ]
    treasury = copy.deepcopy(core) | TREASURY
    treasury["datasets"][0]["path"] = theirs
    data["systems"].append(treasury)
    data["evidence"]["anchor_store"] = "offsite"
    return Config.model_validate(data)


@pytest.mark.parametrize(
    ("mine", "theirs"),
    [("shared", "shared/treasury.db"), ("shared//treasury", "./shared"), ("a", "a")],
)
def test_switchover_over_a_path_holding_another_systems_data_is_refused(
    mine: str, theirs: str
) -> None:
    config = two_systems(mine, theirs)
    with pytest.raises(InputError) as raised:
        load_scenario(REPO / "drills" / "planned-switchover.yml", config)
    assert any(
        "system 'treasury''s live production dataset 'documents'" in problem
        and "refused, nothing was touched" in problem
        for problem in raised.value.problems
    ), raised.value.problems


def test_switchover_beside_another_systems_path_passes() -> None:
    config = two_systems("shared/core", "shared/treasury")
    scenario = load_scenario(REPO / "drills" / "planned-switchover.yml", config)
    assert check_safety(scenario, config) == []
