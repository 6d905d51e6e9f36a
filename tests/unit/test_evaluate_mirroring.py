"""dr.mirroring (第十一条 「相互镜像」) and restore.duration (R140) judged from hand-made probes,
timed restores and drills: every status and the figures an auditor reads."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from orchestrator.actions.connect_checks import check_passwords
from orchestrator.actions.replication_probe import merge_primary
from orchestrator.actions.sandbox import make_inventory
from orchestrator.config import load_config
from orchestrator.model.link_probe import ProbeRow
from orchestrator.model.replication_settings import Replication
from orchestrator.model.restore_times import RestoreTiming
from orchestrator.model.settings import Config
from orchestrator.rules import evaluate_mirroring as mirroring
from orchestrator.rules.status import Status
from tests.fixtures.catalog_rows import SYSTEM, config_dict, drill, local, one, snapshot
from tests.fixtures.real_site import documented_config

LINK = "ledger-pg"
SETTINGS = {
    "lag_objective_seconds": 30,
    "min_healthy_ratio": 0.99,
    "max_probe_gap_seconds": 900,
    "links": [
        {
            "name": LINK,
            "engine": "postgresql",
            "from_site": "production",
            "to_site": "disaster-recovery",
            "port": 5432,
        }
    ],
}
DAY = 86400


def config(replication: dict[str, Any] | None = SETTINGS, objective: float | None = None) -> Config:
    data = config_dict()
    system = data["systems"][0]
    if replication is not None:
        system["replication"] = replication
    if objective is not None:
        system["restore_time_objective_seconds"] = objective
    return Config.model_validate(data)


def probe(at: float, state: str = "streaming", lag: float | None = 1.0) -> ProbeRow:
    return ProbeRow(SYSTEM, LINK, "postgresql", at, state, lag)


def mirror(probes: list[ProbeRow], drills: tuple[Any, ...], at: Any, **kwargs: Any) -> Any:
    snap = replace(snapshot(drills=drills), replication_probes=tuple(probes))
    return one("dr.mirroring", snap, at, SYSTEM, config=config(**kwargs))


START = local(date(2024, 3, 1), 0).timestamp()
AT = local(date(2024, 3, 2), 0)  # one day after START
DRILL = (drill(date(2024, 2, 1)),)


def every(seconds: float, count: int, **kwargs: Any) -> list[ProbeRow]:
    return [probe(START + i * seconds, **kwargs) for i in range(count)]


def test_healthy_all_day_and_drilled_both_ways_is_compliant() -> None:
    finding = mirror(every(300, 288), DRILL, AT)
    assert finding.status is Status.COMPLIANT
    assert f"{LINK}: healthy 100 % of 1 d (288 probes; last streaming, lag 1 s)" in finding.measured
    assert "drill drill-2024-02-01 verified both ways" in finding.measured
    assert finding.clause.article == "第十一条" and "相互镜像" in finding.clause.text


def test_healthy_mirroring_without_a_both_ways_drill_this_year_is_non_compliant() -> None:
    one_way = (drill(date(2024, 2, 1), failback=False), drill(date(2023, 6, 1)))
    finding = mirror(every(300, 288), one_way, AT)
    assert finding.status is Status.NON_COMPLIANT
    assert finding.reason == "no passed drill in 2024 verified failover and failback"


def test_an_hour_over_the_lag_objective_in_a_day_breaks_the_99_percent_share() -> None:
    probes = every(300, 288)
    probes[100:112] = [replace(p, lag_seconds=31.0) for p in probes[100:112]]  # 12 × 5 min
    finding = mirror(probes, DRILL, AT)
    assert finding.status is Status.NON_COMPLIANT
    assert "healthy 95.8333… % of 1 d" in finding.measured
    assert finding.reason == f"mirroring below the healthy share objective on {LINK}"


def test_stopped_and_unknown_lag_never_count_healthy() -> None:
    probes = every(300, 288)
    probes[0] = replace(probes[0], state="stopped", lag_seconds=None)
    probes[1] = replace(probes[1], lag_seconds=None)
    figures = mirroring.link_figures(probes, LINK, START, AT.timestamp(), Replication(**SETTINGS))
    assert figures.healthy_seconds == DAY - 600


def test_time_no_probe_covers_counts_against_the_share() -> None:
    # probes every 300 s, but none for the last 6 hours: each result stands 900 s at most
    probes = every(300, 216)
    figures = mirroring.link_figures(probes, LINK, START, AT.timestamp(), Replication(**SETTINGS))
    assert figures.monitored_seconds == DAY
    assert figures.healthy_seconds == 215 * 300 + 900
    assert mirror(probes, DRILL, AT).status is Status.NON_COMPLIANT


def test_a_probe_before_the_year_stands_into_it_and_the_period_starts_at_new_year() -> None:
    new_year = local(date(2024, 1, 1), 0).timestamp()
    probes = [probe(new_year - 100), probe(new_year + 800)]
    figures = mirroring.link_figures(
        probes, LINK, new_year, new_year + 1000, Replication(**SETTINGS)
    )
    assert (figures.start, figures.healthy_seconds, figures.probes) == (new_year, 1000, 1)


def test_no_probe_in_the_year_is_unknown_never_compliant() -> None:
    finding = mirror([], DRILL, AT)
    assert finding.status is Status.UNKNOWN
    assert finding.measured.startswith(f"{LINK}: not probed")


def test_a_system_without_replication_is_unknown() -> None:
    finding = mirror(every(300, 288), DRILL, AT, replication=None)
    assert finding.status is Status.UNKNOWN
    assert "no `replication` section" in finding.reason


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"to_site": "production"}, "from_site and to_site are both 'production'"),
        ({"to_site": "mars"}, "links[0].to_site: unknown site 'mars'"),
    ],
)
def test_config_refuses_a_link_that_does_not_join_two_known_sites(
    change: dict[str, str], message: str
) -> None:
    settings = {**SETTINGS, "links": [{**SETTINGS["links"][0], **change}]}  # type: ignore[dict-item]
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace("[", r"\[")):
        config(settings)


# -- restore.duration ------------------------------------------------------------------------


def timing(day: date, seconds: float, dataset: str = "ledger", kind: str = "verify") -> Any:
    finished = local(day, 3).timestamp()
    return RestoreTiming(
        SYSTEM, dataset, kind, "verify x", finished - seconds, finished, seconds, 600.0, "passed"
    )


def restore(timings: list[RestoreTiming], objective: float | None = 600) -> Any:
    snap = replace(snapshot(), restore_timings=tuple(timings))
    return one(
        "restore.duration", snap, local(date(2024, 3, 5)), SYSTEM, config=config(None, objective)
    )


def test_restores_within_the_objective_are_compliant() -> None:
    finding = restore([timing(date(2024, 3, 1), 120), timing(date(2024, 3, 4), 599.5, "files")])
    assert finding.status is Status.COMPLIANT
    assert finding.threshold == "every restore of a dataset ≤ 600 s"
    assert "files 599.5 s (verify), ledger 120 s (verify)" in finding.measured
    assert finding.clause.text.endswith("确保可以在恢复程序规定的时间内完成备份的恢复")


def test_the_latest_restore_over_the_objective_is_non_compliant() -> None:
    finding = restore([timing(date(2024, 3, 1), 120), timing(date(2024, 3, 4), 600.001)])
    assert finding.status is Status.NON_COMPLIANT
    assert "longest ledger 600.001 s" in finding.measured


def test_an_earlier_breach_this_year_is_partial_and_last_year_is_forgotten() -> None:
    assert restore([timing(date(2024, 3, 1), 900), timing(date(2024, 3, 4), 60)]).status is (
        Status.PARTIAL
    )
    late_last_year = timing(date(2023, 12, 1), 900)
    assert restore([late_last_year, timing(date(2024, 3, 4), 60)]).status is Status.COMPLIANT


def test_no_objective_or_no_restore_this_year_is_unknown() -> None:
    assert restore([timing(date(2024, 3, 1), 60)], objective=None).status is Status.UNKNOWN
    assert restore([timing(date(2023, 3, 1), 60)]).status is Status.UNKNOWN
    assert restore([timing(date(2024, 3, 1) + timedelta(days=10), 60)]).status is Status.UNKNOWN


def test_connect_check_names_an_unset_link_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = config_dict()
    link = {**SETTINGS["links"][0], "password_env": "DR_TEST_MONITOR_PASSWORD"}  # type: ignore[index]
    data["systems"][0]["replication"] = {**SETTINGS, "links": [link]}
    data["inventory"] = "inventory.ini"
    (tmp_path / "inventory.ini").write_text(make_inventory("/usr/bin/python3"))
    path = tmp_path / "dr.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.delenv("DR_TEST_MONITOR_PASSWORD", raising=False)
    (problem,) = check_passwords(load_config(path))
    assert problem.where == "systems[0].replication.links[0].password_env"
    assert "DR_TEST_MONITOR_PASSWORD" in problem.message and f"{SYSTEM}/{LINK}" in problem.message
    monkeypatch.setenv("DR_TEST_MONITOR_PASSWORD", "set")
    assert check_passwords(load_config(path)) == []


def test_the_primary_view_sets_the_byte_lag_and_can_only_make_a_link_worse() -> None:
    standby = {"state": "streaming", "lag_seconds": 0.0, "lag_bytes": 0, "detail": {"a": 1}}
    seen = merge_primary(standby, {"state": "streaming", "lag_bytes": 4096})
    assert (seen["state"], seen["lag_bytes"], seen["detail"]["a"]) == ("streaming", 4096, 1)
    assert seen["detail"]["primary"]["lag_bytes"] == 4096
    unseen = merge_primary(standby, {"state": "stopped", "lag_bytes": None})
    assert (unseen["state"], unseen["lag_seconds"], unseen["lag_bytes"]) == ("stopped", None, 0)
    down = {"state": "unreachable", "lag_seconds": None, "lag_bytes": None}
    assert merge_primary(down, {"state": "stopped"})["state"] == "unreachable"
    far = merge_primary(standby, {"state": "unreachable", "error": "refused"})
    assert (far["state"], far["lag_bytes"]) == ("streaming", 0)


def test_probe_primary_is_for_postgresql_links_only() -> None:
    link = {**SETTINGS["links"][0], "engine": "mariadb", "probe_primary": True}  # type: ignore[index]
    with pytest.raises(ValidationError, match="probe_primary is for PostgreSQL links only"):
        config({**SETTINGS, "links": [link]})


def test_the_documented_replication_section_is_valid() -> None:
    documented = Config.model_validate(documented_config()).systems[0]
    assert documented.restore_time_objective_seconds == 3600
    assert documented.replication is not None
    assert [(link.name, link.probe_primary) for link in documented.replication.links] == [
        ("ledger-pg", True),
        ("cards-mariadb", False),
    ]
