"""How a validity check runs its systems' batches at once (verify_sample._check_items): the
results end in the plan's order, and a fault lets no further batch begin, waits for the
batches under way and keeps their results, and what the failed batch found before its fault,
for the abort path. The restores themselves are replaced here by a recorder (the real ones:
tests/integration/test_verify_systems.py)."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from orchestrator.actions import verify_sample
from orchestrator.actions.verify_points import ItemResult
from orchestrator.errors import InfrastructureError
from orchestrator.model.plan import PlanItem

ENCLAVE: Any = SimpleNamespace(name="verification")


def item(system: str, dataset: str, point: str = "p1") -> PlanItem:
    return PlanItem(point, system, dataset, 1, 1, "primary", "primary", "test")


def runtime(concurrency: int) -> Any:
    verification = SimpleNamespace(restore_concurrency=concurrency)
    return SimpleNamespace(config=SimpleNamespace(model=SimpleNamespace(verification=verification)))


def run(concurrency: int, items: list[PlanItem], results: list[ItemResult]) -> None:
    plan: Any = SimpleNamespace(items=tuple(items))
    events: list[Path] = []
    verify_sample._check_items(runtime(concurrency), ENCLAVE, plan, events, results)


def test_results_end_in_the_plans_order_whatever_finishes_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a_may_finish = threading.Event()

    def check_points(
        _runtime: Any, _enclave: Any, batch: list[PlanItem], _events: Any, failed: Any
    ) -> Any:
        if batch[0].system == "a":
            assert a_may_finish.wait(10)  # b's batch ends first
        else:
            a_may_finish.set()
        return [ItemResult(i) for i in batch]

    monkeypatch.setattr(verify_sample, "check_points", check_points)
    items = [item("a", "d1"), item("a", "d2"), item("b", "d1"), item("b", "d2")]
    results: list[ItemResult] = []
    run(2, items, results)
    assert [r.item for r in results] == items


def test_a_fault_lets_no_batch_begin_and_keeps_the_results_under_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    begun: list[tuple[str, str]] = []
    lock, stopped = threading.Lock(), threading.Event()

    class Stop(threading.Event):
        """The check's stop mark, which also tells the test once it is set."""

        def set(self) -> None:
            super().set()
            stopped.set()

    def check_points(
        _runtime: Any, _enclave: Any, batch: list[PlanItem], _events: Any, failed: Any
    ) -> Any:
        with lock:
            begun.append((batch[0].system, batch[0].recovery_point))
        if batch[0].system == "b":
            failed.append(ItemResult(batch[0], status="failed"))  # seen before the fault
            raise InfrastructureError("the enclave's host went away")
        assert stopped.wait(10)  # a's first batch is under way when b's fault is marked
        return [ItemResult(i) for i in batch]

    monkeypatch.setattr(verify_sample, "check_points", check_points)
    shim = SimpleNamespace(Lock=threading.Lock, Event=Stop)  # for _check_items alone
    monkeypatch.setattr(verify_sample, "threading", shim)
    # a: two batches (one dataset twice); b: one; c: one, waiting for a free worker.
    items = [item("a", "d1", "p1"), item("a", "d1", "p2"), item("b", "d1"), item("c", "d1")]
    results: list[ItemResult] = []
    with pytest.raises(InfrastructureError):
        run(2, items, results)
    assert sorted(begun) == [("a", "p1"), ("b", "p1")]  # neither a's second batch nor c
    # the batch under way, and what the failed batch had found before its fault, kept
    kept = sorted((items.index(r.item), r.status) for r in results)
    assert kept == [(0, "passed"), (2, "failed")]


def test_one_system_at_a_time_when_the_site_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: set[str] = set()

    def check_points(
        _runtime: Any, _enclave: Any, batch: list[PlanItem], _events: Any, failed: Any
    ) -> Any:
        threads.add(threading.current_thread().name)
        return [ItemResult(i) for i in batch]

    monkeypatch.setattr(verify_sample, "check_points", check_points)
    run(1, [item(s, "d1") for s in "abcd"], [])
    assert len(threads) == 1  # one worker: never two systems at once
