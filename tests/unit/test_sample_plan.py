"""The sample plan: both 10 % bars, one per system, seeded and reproducible, bounded coverage."""

from __future__ import annotations

import hashlib
import json
import math
import random
from dataclasses import replace
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.model.plan import (
    DatasetHistory,
    PlanPolicy,
    PointRow,
    check_period_start,
    derive_seed,
    make_plan,
    plan_dict,
    plan_json,
    priority,
)

DAY = 86400.0


def make_points(
    sizes: list[int], systems: int, datasets: int, offsite_every: int = 2
) -> list[PointRow]:
    points = []
    for index, size in enumerate(sizes):
        system = f"sys{index % systems}"
        dataset = f"ds{(index // systems) % datasets}"
        points.append(
            PointRow(
                id=f"20260101T{index // 3600 % 24:02d}{index // 60 % 60:02d}{index % 60:02d}Z-"
                f"{index:06x}",
                system=system,
                dataset=dataset,
                bytes=size,
                files=1 + size % 7,
                finished_at=1_700_000_000.0 + index,
                primary_store="primary" if index % 5 else None,
                offsite_store="offsite" if index % offsite_every == 0 or index % 5 == 0 else None,
            )
        )
    return points


size_lists = st.one_of(
    st.lists(st.integers(0, 10**12), min_size=1, max_size=300),
    # one huge recovery point among many tiny ones
    st.tuples(st.integers(10**9, 10**13), st.integers(1, 3000), st.integers(0, 1000)).map(
        lambda t: [t[0]] + [t[2]] * t[1]
    ),
    st.lists(st.sampled_from([0, 1, 10**12]), min_size=1, max_size=200),
)
ratios = st.sampled_from([Fraction(1, 10), Fraction(1, 7), Fraction(1, 4), Fraction(1, 1)])


@settings(max_examples=150, deadline=None)
@given(
    sizes=size_lists,
    systems=st.integers(1, 5),
    datasets=st.integers(1, 6),
    bytes_ratio=ratios,
    points_ratio=ratios,
    seed=st.text(min_size=1, max_size=20),
    share=st.sampled_from([Fraction(0), Fraction(3, 10), Fraction(1)]),
)
def test_plan_meets_both_bars_and_every_system(
    sizes: list[int],
    systems: int,
    datasets: int,
    bytes_ratio: Fraction,
    points_ratio: Fraction,
    seed: str,
    share: Fraction,
) -> None:
    points = make_points(sizes, systems, datasets)
    policy = PlanPolicy(
        min_bytes_ratio=bytes_ratio, min_points_ratio=points_ratio, offsite_share=share
    )
    plan = make_plan(points, [], seed=seed, policy=policy)
    total = sum(p.bytes for p in points)
    assert plan.sample_bytes * bytes_ratio.denominator >= bytes_ratio.numerator * total
    assert len(plan.items) >= math.ceil(points_ratio * len(points))
    assert {i.system for i in plan.items} == {p.system for p in points}
    assert plan.meets_bars
    assert len({i.recovery_point for i in plan.items}) == len(plan.items)
    offsite = [i for i in plan.items if i.source == "offsite"]
    eligible = [
        p for p in points if p.offsite_store and p.id in {i.recovery_point for i in plan.items}
    ]
    assert len(offsite) >= min(math.ceil(share * len(plan.items)), len(eligible))
    assert all(i.store == ("offsite" if i.source == "offsite" else "primary") for i in plan.items)


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 10**9), min_size=1, max_size=120),
    seed=st.text(min_size=1, max_size=12),
    shuffle_seed=st.integers(),
)
def test_plan_is_deterministic_for_a_seed(sizes: list[int], seed: str, shuffle_seed: int) -> None:
    points = make_points(sizes, 3, 4)
    history = [DatasetHistory("sys0", "ds0", 1_600_000_000.0, 1_690_000_000.0)]
    shuffled = list(points)
    random.Random(shuffle_seed).shuffle(shuffled)
    first = plan_json(make_plan(points, history, seed=seed, policy=PlanPolicy()))
    again = plan_json(make_plan(shuffled, list(reversed(history)), seed=seed, policy=PlanPolicy()))
    assert first == again
    assert json.loads(first)["seed"] == seed


def test_different_seeds_draw_different_samples() -> None:
    points = make_points([1000] * 200, 1, 1)
    drawn = {
        tuple(
            i.recovery_point for i in make_plan(points, [], seed=str(s), policy=PlanPolicy()).items
        )
        for s in range(8)
    }
    assert len(drawn) > 1


def test_one_huge_point_among_tiny_ones_is_taken_for_the_bytes_bar() -> None:
    points = make_points([10**12] + [100] * 2000, 1, 1)
    plan = make_plan(points, [], seed="s", policy=PlanPolicy())
    assert points[0].id in {i.recovery_point for i in plan.items}
    required = math.ceil(Fraction(1, 10) * len(points))
    assert plan_dict(plan)["sample"]["required_points"] == required
    # the huge one is added by the bytes bar unless the seeded order already took it
    assert required <= len(plan.items) <= required + 1


def test_priority_is_sha256_of_seed_and_name() -> None:
    assert (
        priority("7", "20260101T000000Z-abcdef")
        == hashlib.sha256(b"7:20260101T000000Z-abcdef").hexdigest()
    )


def test_seed_is_derived_from_the_schedule_window_and_previous_evidence() -> None:
    assert check_period_start(date(2000, 1, 3), 28) == date(2000, 1, 3)
    assert check_period_start(date(2000, 1, 30), 28) == date(2000, 1, 3)
    assert check_period_start(date(2000, 1, 31), 28) == date(2000, 1, 31)
    seed, detail = derive_seed(date(2000, 2, 10), None)
    assert seed == "2000-01-31:" + "0" * 64
    assert detail["previous_evidence_sha256"] == "0" * 64
    later, _ = derive_seed(date(2000, 2, 27), "ab" * 32)
    assert later == "2000-01-31:" + "ab" * 32


def test_a_point_without_any_copy_is_refused() -> None:
    point = PointRow("20260101T000000Z-000000", "s", "d", 1, 1, 0.0)
    with pytest.raises(ValueError, match="no present copy"):
        make_plan([point], [], seed="x", policy=PlanPolicy())


def test_empty_population_gives_an_empty_plan_that_does_not_meet_the_bars() -> None:
    plan = make_plan([], [], seed="x", policy=PlanPolicy())
    assert plan.items == () and not plan.meets_bars


@settings(max_examples=40, deadline=None)
@given(
    datasets=st.integers(1, 25),
    systems=st.integers(1, 4),
    ratio=st.sampled_from([Fraction(1, 10), Fraction(1, 5), Fraction(1, 3)]),
    growth=st.lists(
        st.lists(st.integers(0, 3), min_size=25, max_size=25), min_size=25, max_size=25
    ),
    sizes=st.integers(0, 10**6),
    keep=st.integers(1, 8),
)
def test_every_dataset_is_checked_within_the_bound(
    datasets: int, systems: int, ratio: Fraction, growth: list[list[int]], sizes: int, keep: int
) -> None:
    """Simulate consecutive checks (28 days apart) with points arriving and rotating out;
    every dataset is checked at least once in every window of ceil(D / ceil(r·D)) checks,
    which is at most ceil(1/r)."""
    names = [(f"sys{i % systems}", f"ds{i}") for i in range(datasets)]
    bound = math.ceil(datasets / math.ceil(ratio * datasets))
    assert bound <= math.ceil(1 / ratio)
    stored: dict[tuple[str, str], list[PointRow]] = {}
    last_checked: dict[tuple[str, str], float] = {}
    since_checked = dict.fromkeys(names, 0)
    counter = 0
    moment = 1_700_000_000.0 + DAY
    for check, arrivals in enumerate(growth):
        for index, key in enumerate(names):
            for _ in range(arrivals[index] + (1 if check == 0 else 0)):
                counter += 1
                stored.setdefault(key, []).append(
                    PointRow(
                        f"20260101T000000Z-{counter:06x}",
                        key[0],
                        key[1],
                        (counter * 7919 + sizes) % (sizes + 1),
                        1,
                        moment,
                        primary_store="primary",
                        offsite_store="offsite",
                    )
                )
            stored[key] = stored[key][-keep:]
        history = [DatasetHistory(k[0], k[1], 1_700_000_000.0, last_checked.get(k)) for k in names]
        population = [p for points in stored.values() for p in points]
        plan = make_plan(
            population,
            history,
            seed=f"check-{check}",
            policy=PlanPolicy(min_bytes_ratio=ratio, min_points_ratio=ratio),
        )
        assert plan.coverage["bound_checks"] <= bound
        sampled = {(i.system, i.dataset) for i in plan.items}
        for key in names:
            since_checked[key] = 0 if key in sampled else since_checked[key] + 1
            assert since_checked[key] < bound, f"{key} unchecked for {bound} checks"
            if key in sampled:
                last_checked[key] = moment
        verified = {i.recovery_point for i in plan.items}
        for key, points in stored.items():
            stored[key] = [
                PointRow(
                    p.id,
                    p.system,
                    p.dataset,
                    p.bytes,
                    p.files,
                    p.finished_at,
                    moment if p.id in verified else p.last_verified_at,
                    p.primary_store,
                    p.offsite_store,
                )
                for p in points
            ]
        moment += 28 * DAY


def test_coverage_counts_datasets_checked_before_and_sampled_now() -> None:
    points = [
        PointRow(
            f"20260101T00000{i}Z-00000{i}",
            "sys",
            f"ds{i}",
            100,
            1,
            1_700_000_000.0 + i,
            primary_store="primary",
        )
        for i in range(4)
    ]
    history = [
        DatasetHistory("sys", "ds0", 1_600_000_000.0, last_checked_at=1_690_000_000.0),
        DatasetHistory("sys", "ds1", 1_600_000_000.0, last_checked_at=1_680_000_000.0),
        DatasetHistory("sys", "ds2", 1_600_000_000.0),
        DatasetHistory("sys", "ds3", 1_650_000_000.0),
    ]
    plan = make_plan(points, history, seed="s", policy=PlanPolicy())
    coverage = plan.coverage
    # one pick (ceil(10 % of 4)): ds2, never checked and first seen longest ago
    assert [(item.dataset, item.reason) for item in plan.items] == [("ds2", "coverage")]
    assert coverage["datasets"] == 4
    assert coverage["checked_before"] == 2
    assert coverage["checked_after_this_plan"] == 3
    assert coverage["coverage_picks"] == 1
    assert coverage["bound_checks"] == 4
    assert coverage["bound_checks_any_population"] == 10
    assert [
        (row["dataset"], row["last_checked_at"], row["sampled_now"])
        for row in coverage["by_dataset"]
    ] == [  # due first: never checked, by first seen; then checked longest ago
        ("ds2", None, True),
        ("ds3", None, False),
        ("ds1", "2023-03-28T10:40:00Z", False),
        ("ds0", "2023-07-22T04:26:40Z", False),
    ]
    assert plan_dict(plan)["coverage"] == dict(coverage)


def small_population() -> tuple[list[PointRow], list[DatasetHistory]]:
    """Two systems, five datasets, sizes from tiny to dominant, one point readable only
    off-site and one only from the primary store; two datasets checked before."""
    rows = [
        ("20260101T010000Z-000001", "core", "ledger", 9_000, None, "primary", "offsite"),
        ("20260102T010000Z-000002", "core", "ledger", 9_500, 1_690_000_000.0, "primary", "offsite"),
        ("20260101T010000Z-000003", "core", "config", 10, None, "primary", None),
        ("20260101T010000Z-000004", "core", "audit", 300, None, None, "offsite"),
        ("20260101T010000Z-000005", "cards", "txn", 120_000, None, "primary", "offsite"),
        ("20260102T010000Z-000006", "cards", "txn", 118_000, None, "primary", "offsite"),
        ("20260101T010000Z-000007", "cards", "keys", 40, 1_695_000_000.0, "primary", "offsite"),
    ]
    points = [
        PointRow(ident, system, dataset, size, 3, 1_700_000_000.0 + n, verified, primary, offsite)
        for n, (ident, system, dataset, size, verified, primary, offsite) in enumerate(rows)
    ]
    history = [
        DatasetHistory("core", "ledger", 1_600_000_000.0, 1_690_000_000.0),
        DatasetHistory("cards", "keys", 1_650_000_000.0, 1_695_000_000.0),
        DatasetHistory("cards", "txn", 1_640_000_000.0),
    ]
    return points, history


POLICIES = {
    "coverage": PlanPolicy(Fraction(1, 4), Fraction(1, 5), Fraction(1, 2), "since_last_check"),
    "system": PlanPolicy(Fraction(1, 10), Fraction(1, 10), Fraction(0), "in_rotation"),
    "points_and_bytes": PlanPolicy(Fraction(99, 100), Fraction(6, 7), Fraction(1), "in_rotation"),
}


def small_plan_json(policy: str) -> str:
    points, history = small_population()
    seed, derivation = derive_seed(date(2026, 1, 20), "ab" * 32)
    plan = make_plan(
        points,
        history,
        seed=seed,
        policy=POLICIES[policy],
        seed_derivation=derivation,
        excluded={"bad": 2},
    )
    return plan_json(plan)


@pytest.mark.parametrize("policy", list(POLICIES))
def test_a_small_plan_in_full(policy: str) -> None:
    """The whole printed plan, for policies that pick by coverage, by system, and by the
    points and bytes bars (plan_in_full.json; update it only with a reviewed diff)."""
    expected = json.loads(Path(__file__).with_name("plan_in_full.json").read_text("utf-8"))
    text = small_plan_json(policy)
    assert json.loads(text) == expected[policy]
    assert text == json.dumps(expected[policy], indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_ratios_of_zero_byte_and_empty_populations() -> None:
    zero = make_points([0, 0, 0], 1, 1)
    plan = make_plan(zero, [], seed="z", policy=PlanPolicy())
    assert (plan.population_bytes, plan.sample_bytes, plan.required_bytes) == (0, 0, 0)
    assert plan.bytes_ratio == 1 and plan.points_ratio == Fraction(1, 3)
    assert plan.required_points == 1 and plan.meets_bars
    empty = make_plan([], [], seed="z", policy=PlanPolicy())
    assert (empty.bytes_ratio, empty.points_ratio, empty.required_points) == (0, 0, 0)


def test_meets_bars_needs_every_system_and_both_ratios() -> None:
    points = make_points([100, 100, 100, 100], 2, 1)
    plan = make_plan(points, [], seed="m", policy=PlanPolicy())
    assert plan.meets_bars
    one_system = replace(plan, items=tuple(i for i in plan.items if i.system == "sys0"))
    assert not one_system.meets_bars
    stricter = replace(plan, policy=PlanPolicy(min_points_ratio=Fraction(3, 4)))
    assert len(plan.items) == 2 and not stricter.meets_bars
    heavier = replace(plan, policy=PlanPolicy(min_bytes_ratio=Fraction(3, 4)))
    assert not heavier.meets_bars
    exact = replace(
        plan, policy=PlanPolicy(min_bytes_ratio=Fraction(1, 2), min_points_ratio=Fraction(1, 2))
    )
    assert exact.meets_bars
