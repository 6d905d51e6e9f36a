"""Gaps in model/plan.py that a whole mutation run found (issue 16): the draw an auditor
recomputes. Every seeded choice is the lowest SHA-256 of `<seed>:<name>`, computed here with
hashlib, not with the planner's own `priority`:

- points of one dataset, equally overdue: the lowest `sha256(seed:id)`;
- datasets equally overdue: never-checked first, then the lowest `sha256(seed:system/dataset)`;
- the off-site reads: the points without a primary copy, then the lowest
  `sha256(seed:offsite:id)`, exactly ceil(share × n) in all;
- the bytes bar: the smallest point that closes the gap (a point exactly closing it counts),
  else the largest, ties by the seeded order;
- a plan with no seed derivation says the seed was given; duplicate ids are refused.
"""

from __future__ import annotations

import hashlib
from fractions import Fraction

import pytest

from orchestrator.model.plan import (
    DatasetHistory,
    PlanPolicy,
    PointRow,
    make_plan,
    plan_dict,
)

SEED = "2026-11-02:" + "ab" * 32
FINISHED = 1_700_000_000.0


def sha(name: str, seed: str = SEED) -> str:
    return hashlib.sha256(f"{seed}:{name}".encode()).hexdigest()


def row(
    ident: str,
    size: int = 1000,
    *,
    dataset: str = "ledger",
    verified: float | None = None,
    primary: str | None = "primary",
) -> PointRow:
    return PointRow(ident, "core", dataset, size, 1, FINISHED, verified, primary, "offsite")


def chosen(points: list[PointRow], policy: PlanPolicy) -> dict[str, str]:
    plan = make_plan(points, [], seed=SEED, policy=policy)
    return {item.recovery_point: item.reason for item in plan.items}


def test_points_equally_overdue_are_drawn_by_the_lowest_seeded_hash() -> None:
    points = [row(f"p{n:02d}") for n in range(30)]
    expected = sorted((p.id for p in points), key=sha)[:3]  # ceil(10 % of 30)
    assert sorted(chosen(points, PlanPolicy())) == sorted(expected)


def test_datasets_equally_overdue_are_covered_by_the_lowest_seeded_hash() -> None:
    points = [row(f"p{n:02d}", dataset=f"ds{n:02d}") for n in range(20)]
    first = sorted(range(20), key=lambda n: sha(f"core/ds{n:02d}"))[:2]
    assert sorted(chosen(points, PlanPolicy())) == sorted(f"p{n:02d}" for n in first)


def test_a_never_checked_dataset_goes_before_one_checked_at_the_same_time() -> None:
    # a seed whose hash alone would put the checked dataset first
    seed = next(s for s in map(str, range(100)) if sha("core/a", s) < sha("core/b", s))
    points = [row("pa", dataset="a"), row("pb", dataset="b")]
    history = [
        DatasetHistory("core", "a", 1.6e9, last_checked_at=1.65e9),
        DatasetHistory("core", "b", 1.65e9),  # first seen when a was last checked
    ]
    plan = make_plan(points, history, seed=seed, policy=PlanPolicy())
    assert [item.recovery_point for item in plan.items] == ["pb"]


def test_offsite_reads_are_the_forced_ones_then_the_lowest_seeded_hash() -> None:
    points = [row(f"p{n:02d}") for n in range(9)] + [row("p09", primary=None)]
    policy = PlanPolicy(Fraction(1, 10), Fraction(1), Fraction(3, 10))  # all 10 taken
    plan = make_plan(points, [], seed=SEED, policy=policy)
    offsite = {item.recovery_point for item in plan.items if item.source == "offsite"}
    drawn = sorted((p.id for p in points[:9]), key=lambda i: sha(f"offsite:{i}"))[:2]
    assert offsite == {"p09", *drawn}  # ceil(30 % of 10) = 3, one of them forced


def test_bytes_a_point_exactly_closing_the_gap_is_the_smallest_that_closes_it() -> None:
    # p0 (never verified) is covered; 1 + 10 = 11 is exactly half of 22
    points = [row("p0", 1), row("p1", 10, verified=1.6e9), row("p2", 11, verified=1.6e9)]
    policy = PlanPolicy(Fraction(1, 2), Fraction(1, 10), Fraction(0))
    assert chosen(points, policy) == {"p0": "coverage", "p1": "bytes"}


def test_bytes_without_a_closing_point_the_largest_is_taken_first() -> None:
    sizes = {"a": 5, "b": 6, "c": 40, "d": 41, "e": 42}
    points = [row("p0", 1)] + [row(k, v, verified=1.6e9) for k, v in sizes.items()]
    policy = PlanPolicy(Fraction(1, 2), Fraction(1, 10), Fraction(0))
    # half of 135 needs 67.5: no single point closes 66.5, so e (42), then c closes the rest
    assert chosen(points, policy) == {"p0": "coverage", "e": "bytes", "c": "bytes"}


def test_bytes_ties_are_broken_by_the_seeded_hash() -> None:
    points = [row("p0", 1)] + [row(f"x{n}", 10, verified=1.6e9) for n in range(9)]
    policy = PlanPolicy(Fraction(1, 2), Fraction(1, 10), Fraction(0))
    # half of 91 needs 45.5: five of the nine equal points, the lowest hashes
    drawn = sorted((f"x{n}" for n in range(9)), key=sha)[:5]
    assert chosen(points, policy) == {"p0": "coverage", **dict.fromkeys(drawn, "bytes")}


def test_a_plan_without_a_derivation_says_the_seed_was_given() -> None:
    plan = make_plan([row("p0")], [], seed=SEED, policy=PlanPolicy())
    assert plan_dict(plan)["seed_derivation"] == {"method": "given"}


def test_duplicate_recovery_point_ids_are_refused() -> None:
    with pytest.raises(ValueError, match=r"^population: duplicate recovery point ids$"):
        make_plan([row("p0"), row("p0")], [], seed=SEED, policy=PlanPolicy())


def test_an_empty_population_has_no_coverage_bound() -> None:
    coverage = plan_dict(make_plan([], [], seed=SEED, policy=PlanPolicy()))["coverage"]
    assert (coverage["coverage_picks"], coverage["bound_checks"]) == (0, 0)


@pytest.mark.parametrize("seed", [str(n) for n in range(8)])
def test_bytes_equal_points_that_close_the_gap_are_drawn_by_the_seeded_hash(seed: str) -> None:
    points = [row("p0", 1)] + [row(f"x{n}", 10, verified=1.6e9) for n in range(9)]
    policy = PlanPolicy(Fraction(1, 10), Fraction(1, 10), Fraction(0))
    # a tenth of 91 needs 9.1: any one of the nine closes it; the lowest hash is taken
    plan = make_plan(points, [], seed=seed, policy=policy)
    drawn = min((f"x{n}" for n in range(9)), key=lambda i: sha(i, seed))
    assert {i.recovery_point: i.reason for i in plan.items} == {"p0": "coverage", drawn: "bytes"}
