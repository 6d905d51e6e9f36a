"""A sandbox site may be written by a drill only if it reaches no real site's live data; sites
are told apart by where their data is (resolved addresses, database servers, data_root), not
by their inventory names (actions/site_locations.py, model/scenario_safety.py).

The real-service proof (an alias of production's host refused on real sshd and PostgreSQL,
nothing touched) is tests/integration/test_drill_real_site.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orchestrator.actions.site_locations import CONTROLLER, site_locations
from orchestrator.config import Config
from orchestrator.model.scenario import Scenario
from orchestrator.model.scenario_safety import SiteLocation, check_safety
from tests.fixtures.mounts import bind_mount
from tests.fixtures.real_site import documented_config

SEED = {
    "name": "seed-dr",
    "title": {"zh": "测试", "en": "test"},
    "system": "core-banking",
    "steps": [
        {"name": "seed", "action": "workload", "site": "disaster-recovery", "dataset": "ledger"}
    ]
    + [{"name": "x", "action": "disaster", "site": "disaster-recovery"}]
    + [
        {
            "name": "fo",
            "action": "failover",
            "from_store": "offsite",
            "to_site": "disaster-recovery",
        }
    ],
}


def config_with_sandbox_dr(**dr: Any) -> Config:
    """The documented config with its disaster-recovery site marked sandbox."""
    data = documented_config()
    for site in data["sites"]:
        if site["name"] == "disaster-recovery":
            site.update(sandbox=True, **dr)
    return Config.model_validate(data)


def located(machine: str, root: str, *servers: str) -> SiteLocation:
    return SiteLocation(frozenset({machine}), root, frozenset(servers))


def problems(config: Config, locations: dict[str, SiteLocation]) -> list[str]:
    return check_safety(Scenario.model_validate(SEED), config, locations)


def test_another_machine_and_another_server_may_be_seeded() -> None:
    config = config_with_sandbox_dr()
    locations = {
        "production": located("10.10.1.21", "/srv/core", "postgresql 10.10.1.21:5432"),
        "disaster-recovery": located("10.20.1.21", "/srv/core", "postgresql 10.20.1.21:5432"),
    }
    assert problems(config, locations) == []


def test_one_database_server_under_two_names_is_refused() -> None:
    config = config_with_sandbox_dr()
    locations = {
        "production": located("10.10.1.21", "/srv/core", "postgresql 10.10.1.30:5432"),
        "disaster-recovery": located("10.20.1.21", "/srv/dr", "postgresql 10.10.1.30:5432"),
    }
    found = problems(config, locations)
    assert len(found) == 3  # the seed, the disaster and the failover
    assert "reach the same database server (postgresql 10.10.1.30:5432)" in found[0]
    assert "refused, nothing was touched" in found[0]


@pytest.mark.parametrize(
    ("root", "refused"),
    [("/srv/core", True), ("/srv/core/sandbox", True), ("/srv", True), ("/srv/sandbox", False)],
)
def test_one_machine_is_refused_only_where_the_data_roots_overlap(root: str, refused: bool) -> None:
    config = config_with_sandbox_dr()
    locations = {
        "production": located(CONTROLLER, "/srv/core", "postgresql this controller:5432"),
        "disaster-recovery": located(CONTROLLER, root, "postgresql this controller:5433"),
    }
    found = problems(config, locations)
    assert bool(found) is refused
    if refused:
        assert "are one machine (this controller) with overlapping data_root" in found[0]


def inventory(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "inventory.ini"
    path.write_text("\n".join(["[all]", *lines]) + "\n", encoding="utf-8")
    return path


def test_names_that_resolve_to_one_address_are_one_machine(tmp_path: Path) -> None:
    config = config_with_sandbox_dr(host="dr-alias")
    path = inventory(
        tmp_path,
        [
            "prod-db-1 ansible_host=localhost dr_postgresql_port=5432",
            "dr-alias ansible_host=127.0.0.1 dr_postgresql_port=5432",
            "vault-1 ansible_host=192.0.2.7",
        ],
    )
    where = site_locations(config, path, ("production", "disaster-recovery"))
    assert where["production"].machine == where["disaster-recovery"].machine == {CONTROLLER}
    assert "postgresql this controller:5432" in where["disaster-recovery"].databases
    assert problems(config, where)  # the same server: refused


def test_a_remote_database_host_is_that_server_from_any_site(tmp_path: Path) -> None:
    config = config_with_sandbox_dr()
    path = inventory(
        tmp_path,
        [
            "prod-db-1 ansible_host=192.0.2.10 dr_postgresql_host=192.0.2.50",
            "dr-db-1 ansible_host=192.0.2.20 dr_postgresql_host=192.0.2.50",
            "dr-db-2 ansible_host=192.0.2.20 dr_postgresql_host=127.0.0.1",
        ],
    )
    where = site_locations(config, path, ("production", "disaster-recovery"))
    assert "postgresql 192.0.2.50:5432" in where["disaster-recovery"].databases
    assert any(
        "same database server (postgresql 192.0.2.50:5432)" in p for p in problems(config, where)
    )
    local = config_with_sandbox_dr(host="dr-db-2")
    where = site_locations(local, path, ("production", "disaster-recovery"))
    assert "postgresql 192.0.2.20:5432" in where["disaster-recovery"].databases
    assert problems(local, where) == []


@pytest.mark.parametrize("how", ["symbolic link", "bind mount"])
def test_on_this_controller_a_data_root_reaching_a_real_ones_by_another_name_is_refused(
    tmp_path: Path, how: str
) -> None:
    """Both sites on this controller: a sandbox data_root that is a symbolic link to, or a bind
    mount of, a directory inside production's data_root would let the drill seed and destroy
    production's files. The names share nothing; resolved here (links, the mount table), they
    are one place."""
    live = tmp_path / "srv" / "core"
    (live / "docs").mkdir(parents=True)
    sandbox = tmp_path / "sandbox-root"
    config = config_with_sandbox_dr()
    locations = {
        "production": located(CONTROLLER, str(live), "postgresql this controller:5432"),
        "disaster-recovery": located(CONTROLLER, str(sandbox), "postgresql this controller:5433"),
    }
    if how == "symbolic link":
        sandbox.symlink_to(live / "docs")
        found = problems(config, locations)
    else:
        with bind_mount(live / "docs", sandbox):
            found = problems(config, locations)
    assert found and all("with overlapping data_root" in problem for problem in found), found


def test_on_another_machine_data_roots_are_compared_by_name(tmp_path: Path) -> None:
    """Another machine's files are not here to resolve: a path that is a link on this
    controller says nothing about that machine, so only the names are compared."""
    live = tmp_path / "srv" / "core"
    live.mkdir(parents=True)
    (tmp_path / "elsewhere").symlink_to(live)
    config = config_with_sandbox_dr()
    locations = {
        "production": located("10.10.1.21", str(live), "postgresql 10.10.1.21:5432"),
        "disaster-recovery": located(
            "10.10.1.21", str(tmp_path / "elsewhere"), "postgresql 10.10.1.21:5433"
        ),
    }
    assert problems(config, locations) == []
