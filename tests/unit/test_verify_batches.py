"""How a validity check groups its sampled points into restore runs (verify_points.batches):
one system and store a batch, each dataset once, bounded in points and bytes."""

from __future__ import annotations

from orchestrator.actions.verify_points import BATCH_BYTES, BATCH_POINTS, batches
from orchestrator.model.plan import PlanItem


def item(
    system: str, dataset: str, point: str = "p1", store: str = "primary", size: int = 1
) -> PlanItem:
    return PlanItem(point, system, dataset, size, 1, store, "primary", "test")


def keys(groups: list[list[PlanItem]]) -> list[list[tuple[str, str, str, str]]]:
    return [[(i.system, i.dataset, i.recovery_point, i.store) for i in g] for g in groups]


def test_points_of_one_system_and_store_share_a_batch_in_plan_order() -> None:
    plan = [item("a", "d1"), item("b", "d1"), item("a", "d2"), item("a", "d3", store="offsite")]
    assert keys(list(batches(plan))) == [
        [("a", "d1", "p1", "primary"), ("a", "d2", "p1", "primary")],
        [("b", "d1", "p1", "primary")],
        [("a", "d3", "p1", "offsite")],
    ]


def test_two_points_of_one_dataset_are_never_in_one_batch() -> None:
    plan = [item("a", "d1", "p1"), item("a", "d1", "p2"), item("a", "d2"), item("a", "d1", "p3")]
    assert keys(list(batches(plan))) == [
        [("a", "d1", "p1", "primary"), ("a", "d2", "p1", "primary")],
        [("a", "d1", "p2", "primary")],
        [("a", "d1", "p3", "primary")],
    ]


def test_a_batch_holds_at_most_batch_points_points() -> None:
    plan = [item("a", f"d{n}") for n in range(2 * BATCH_POINTS + 1)]
    sizes = [len(group) for group in batches(plan)]
    assert sizes == [BATCH_POINTS, BATCH_POINTS, 1]


def test_a_batch_holds_at_most_batch_bytes_and_a_larger_point_goes_alone() -> None:
    half = BATCH_BYTES // 2
    plan = [
        item("a", "d1", size=half),
        item("a", "d2", size=half),
        item("a", "d3", size=1),
        item("a", "big", size=BATCH_BYTES + 1),
    ]
    groups = [[i.dataset for i in g] for g in batches(plan)]
    assert groups == [["d1", "d2"], ["d3"], ["big"]]


def test_every_point_is_in_exactly_one_batch() -> None:
    plan = [
        item(s, f"d{n % 7}", f"p{n}", st)
        for n in range(60)
        for s in ("a", "b")
        for st in ("primary", "offsite")
    ]
    grouped = [i for g in batches(plan) for i in g]
    assert sorted(grouped, key=plan.index) == plan and len(grouped) == len(plan)
