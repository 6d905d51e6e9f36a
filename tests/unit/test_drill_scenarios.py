"""Drill scenarios: what may run where, and the drill-scoped targets a test failover uses.

The real-service proofs (databases untouched, refusals touch nothing) are in
tests/integration/test_drill_real_site.py; these pin the rules themselves.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.actions.sandbox import SCENARIO, make_config
from orchestrator.config import Config
from orchestrator.errors import InputError
from orchestrator.model.drill_targets import (
    check_isolated,
    drill_token,
    isolation_problems,
    make_target,
)
from orchestrator.model.scenario import load_scenario
from tests.fixtures.mounts import bind_mount
from tests.fixtures.real_site import REPO, documented_config

DRILL_ID = "20261123T020000Z-a1b2c3"


def sandbox_config(tmp_path: Path, *, sandbox: bool = True) -> Config:
    data: Any = make_config(tmp_path)
    for site in data["sites"]:
        site["sandbox"] = sandbox
    return Config.model_validate(data)


def real_config() -> Config:
    return Config.model_validate(documented_config())


def write_scenario(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "scenario.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def site_failover() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO / "drills" / "site-failover.yml").read_text())
    return data


def test_sandbox_drill_runs_on_sandbox_sites(tmp_path: Path) -> None:
    scenario = load_scenario(SCENARIO, sandbox_config(tmp_path))
    assert scenario.kind == "drill"
    assert [s.action for s in scenario.steps][:2] == ["workload", "backup"]


def test_sandbox_drill_on_real_sites_names_every_harmful_step(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a sandbox site") as raised:
        load_scenario(SCENARIO, sandbox_config(tmp_path, sandbox=False))
    problems = raised.value.problems
    assert raised.value.source == str(SCENARIO)
    flagged = sorted({problem.split(".action")[0] for problem in problems})
    # seed, writes-after-backup, disaster (+ its store), failover, run-on-dr, failback
    assert flagged == ["steps[0]", "steps[3]", "steps[4]", "steps[5]", "steps[6]", "steps[8]"]
    assert any("destroys store 'primary'" in problem for problem in problems)
    assert all(
        "sites[" in problem and "refused, nothing was touched" in problem for problem in problems
    )


def test_one_real_site_is_enough_to_refuse(tmp_path: Path) -> None:
    data: Any = make_config(tmp_path)
    for site in data["sites"]:
        site["sandbox"] = site["name"] != "disaster-recovery"
    with pytest.raises(InputError, match=r"steps\[5\].action: failover") as raised:
        load_scenario(SCENARIO, Config.model_validate(data))
    assert not any(
        p.startswith(("steps[0]", "steps[3]", "steps[4]")) for p in raised.value.problems
    )


def test_site_failover_and_switchover_pass_on_real_sites() -> None:
    config = real_config()
    drill = load_scenario(REPO / "drills" / "site-failover.yml", config)
    assert drill.kind == "drill" and drill.is_test_failover
    assert [s.action for s in drill.steps] == ["test_failover", "test_failback", "wipe"]
    switchover = load_scenario(REPO / "drills" / "planned-switchover.yml", config)
    assert switchover.kind == "switchover"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["steps"].pop(), "ends with exactly one wipe step"),
        (lambda d: d["steps"].reverse(), "ends with exactly one wipe step"),
        (
            lambda d: d["steps"][1].update(to_site="disaster-recovery"),
            r"steps\[1\].to_site: the test failback goes back to another site",
        ),
        (
            lambda d: d.update(kind="switchover"),
            "test_failover is not allowed in a switchover",
        ),
    ],
)
def test_malformed_test_failover_is_refused(tmp_path: Path, change: Any, message: str) -> None:
    data = site_failover()
    change(data)
    with pytest.raises(InputError, match=message):
        load_scenario(write_scenario(tmp_path, data), real_config())


def test_switchover_may_replace_but_never_seed_or_destroy(tmp_path: Path) -> None:
    data: dict[str, Any] = yaml.safe_load((REPO / "drills" / "planned-switchover.yml").read_text())
    data["steps"].append(
        {"name": "seed", "action": "workload", "site": "production", "dataset": "ledger"}
    )
    with pytest.raises(InputError, match=r"steps\[1\].action: workload is not allowed"):
        load_scenario(write_scenario(tmp_path, data), real_config())


def test_targets_are_derived_from_the_drill_id_and_never_live(tmp_path: Path) -> None:
    config = real_config()
    system = config.systems[0]
    targets = [
        make_target(config.site(site), dataset, index, DRILL_ID, leg)
        for site, leg in (("disaster-recovery", "fo"), ("production", "fb"))
        for index, dataset in enumerate(system.datasets)
    ]
    names = [t.target for t in targets]
    assert names == [
        "drill_20261123t020000z_a1b2c3_fo_0_ledger",
        "drill_20261123t020000z_a1b2c3_fo_1_cards",
        "drill_20261123t020000z_a1b2c3_fb_0_ledger",
        "drill_20261123t020000z_a1b2c3_fb_1_cards",
    ]
    check_isolated(targets, config, "test")  # does not raise
    assert drill_token(DRILL_ID) == "20261123t020000z_a1b2c3"


def test_long_dataset_names_stay_within_postgresql_limit() -> None:
    data = documented_config()
    data["systems"][0]["datasets"][0]["name"] = "l" + "e" * 62
    config = Config.model_validate(data)
    target = make_target(
        config.site("production"), config.systems[0].datasets[0], 0, DRILL_ID, "fb"
    )
    assert len(target.target) == 63 and isolation_problems(target, config) == []


def test_a_live_name_is_refused_even_if_derived(tmp_path: Path) -> None:
    data = documented_config()
    live = "drill_20261123t020000z_a1b2c3_fo_0_ledger"
    data["systems"][0]["datasets"][1]["database"] = live  # an operator's database by that name
    config = Config.model_validate(data)
    targets = [
        make_target(config.site("disaster-recovery"), dataset, index, DRILL_ID, "fo")
        for index, dataset in enumerate(config.systems[0].datasets)
    ]
    with pytest.raises(InputError, match="is a live database of the config"):
        check_isolated(targets, config, "test")


def test_a_target_not_derived_from_the_drill_is_refused() -> None:
    config = real_config()
    target = make_target(
        config.site("production"), config.systems[0].datasets[0], 0, DRILL_ID, "fb"
    )
    forged = replace(target, target="corebank")
    problems = isolation_problems(forged, config)
    assert any("not derived from drill" in p for p in problems)
    assert any("is a live database" in p for p in problems)


@pytest.mark.parametrize("spelling", ["{root}/config/spool", "/{root}/x/../config/spool"])
def test_spool_inside_live_data_makes_path_targets_refused(tmp_path: Path, spelling: str) -> None:
    """Inside the config tree, also written `//…/x/../config` (orchestrator/host_paths.py)."""
    data: Any = make_config(tmp_path)
    for site in data["sites"]:
        site["spool"] = spelling.format(root=site["data_root"])
    config = Config.model_validate(data)
    site = config.site("disaster-recovery")
    targets = [
        make_target(site, dataset, index, DRILL_ID, "fo")
        for index, dataset in enumerate(config.systems[0].datasets)
    ]
    assert targets[0].kind == "path"
    with pytest.raises(InputError, match="overlaps the live dataset path"):
        check_isolated(targets, config, "test")


def test_path_targets_live_under_the_drill_directory(tmp_path: Path) -> None:
    config = sandbox_config(tmp_path)
    site = config.site("disaster-recovery")
    target = make_target(site, config.systems[0].datasets[0], 0, DRILL_ID, "fo")
    assert target.target == f"{site.spool}/drill-{DRILL_ID}/fo/ledger/ledger.db"
    assert isolation_problems(target, config) == []
    escaped = replace(target, target=site.data_root + "/ledger/ledger.db")
    assert any("not inside the drill directory" in p for p in isolation_problems(escaped, config))


def beside_a_real_site(tmp_path: Path, vault_store: str, vault_root: str) -> Config:
    """The sandbox's config with its verification site made real (no sandbox drill step goes
    there) holding a store and data at the given places."""
    data: Any = make_config(tmp_path)
    for site in data["sites"]:
        if site["name"] == "verification":
            site["sandbox"], site["data_root"] = False, vault_root
    data["stores"].append({"name": "vault", "site": "verification", "url": vault_store})
    return Config.model_validate(data)


def test_a_disaster_may_remove_a_sandbox_store_apart_from_every_real_one(tmp_path: Path) -> None:
    config = beside_a_real_site(tmp_path, f"file://{tmp_path}/vault", f"{tmp_path}/vault-data")
    assert load_scenario(SCENARIO, config).kind == "drill"


@pytest.mark.parametrize(
    ("store", "root", "why"),
    [
        ("{tmp}/stores/../stores/primary", "{tmp}/elsewhere", "same location as store 'vault'"),
        ("{tmp}/stores", "{tmp}/elsewhere", "same location as store 'vault'"),
        ("{tmp}/link-to-primary", "{tmp}/elsewhere", "same location as store 'vault'"),
        ("{tmp}/vault", "{tmp}//stores/", "overlapping site 'verification''s data_root"),
        ("{tmp}/vault", "{tmp}/stores/primary/sub", "overlapping site 'verification''s data_root"),
    ],
)
def test_a_disaster_never_removes_a_store_that_is_a_real_sites_under_another_name(
    tmp_path: Path, store: str, root: str, why: str
) -> None:
    """The sandbox's disaster removes its 'primary' store's directory: refused when a real
    site's store is that directory (spelled with '..', a parent, a symbolic link) or a real
    site's data lies there."""
    (tmp_path / "stores" / "primary").mkdir(parents=True)
    (tmp_path / "link-to-primary").symlink_to(tmp_path / "stores" / "primary")
    config = beside_a_real_site(
        tmp_path, "file://" + store.format(tmp=tmp_path), root.format(tmp=tmp_path)
    )
    with pytest.raises(InputError, match=r"steps\[4\]\.destroy_stores: store 'primary'") as raised:
        load_scenario(SCENARIO, config)
    assert any(why in problem for problem in raised.value.problems)
    assert all("refused, nothing was touched" in p for p in raised.value.problems)


def test_a_disaster_never_removes_a_store_holding_a_real_sites_data_by_a_bind_mount(
    tmp_path: Path,
) -> None:
    """A real site's data_root that shows a directory inside the sandbox's 'primary' store by
    a bind mount: removing the store would remove that site's live files. The two names share
    nothing; the mount table says they are one directory."""
    inside = tmp_path / "stores" / "primary" / "sub"
    inside.mkdir(parents=True)
    config = beside_a_real_site(tmp_path, f"file://{tmp_path}/vault", f"{tmp_path}/vault-data")
    with bind_mount(inside, tmp_path / "vault-data"):
        with pytest.raises(InputError, match=r"steps\[4\]\.destroy_stores") as raised:
            load_scenario(SCENARIO, config)
    assert any(
        "overlapping site 'verification''s data_root" in problem
        for problem in raised.value.problems
    ), raised.value
