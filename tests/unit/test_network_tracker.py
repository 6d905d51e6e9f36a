"""The per-path fault state machine: opening, start time, merging, and the vantage vote."""

from __future__ import annotations

import pytest

from orchestrator.model.outage_records import Closed, Opened, Resumed
from orchestrator.network.tracker import PathTracker

STEP = 15_000  # one probe interval, ms


def feed(tracker: PathTracker, pattern: str, start: int = 0, vantage: str = "local") -> list:
    """Feed one result per character ('.' success, 'x' failure) at STEP spacing."""
    events = []
    for index, mark in enumerate(pattern):
        events += tracker.observe(start + index * STEP, {vantage: mark == "."})
    return events


def test_one_failure_does_not_open_a_fault() -> None:
    tracker = PathTracker(["local"], failures_to_open=2, merge_gap_ms=0)
    assert feed(tracker, "..x..x.") == []
    assert not tracker.is_down


def test_two_failures_open_a_fault_starting_at_the_first_failure() -> None:
    tracker = PathTracker(["local"], failures_to_open=2, merge_gap_ms=0)
    events = feed(tracker, "..xx")
    assert events == [Opened(start_ms=2 * STEP, declared_ms=3 * STEP, vantages=("local",))]
    assert tracker.open_start_ms == 2 * STEP


def test_fault_ends_at_the_first_success() -> None:
    tracker = PathTracker(["local"], failures_to_open=2, merge_gap_ms=0)
    events = feed(tracker, ".xxxx..")
    assert events[-1] == Closed(end_ms=5 * STEP, vantage="local")
    assert not tracker.is_down


def test_three_failures_needed_when_configured() -> None:
    tracker = PathTracker(["local"], failures_to_open=3, merge_gap_ms=0)
    assert feed(tracker, ".xx.") == []
    assert feed(tracker, "xxx", start=10 * STEP)[0].start_ms == 10 * STEP


def test_short_recovery_within_the_merge_gap_resumes_the_fault() -> None:
    tracker = PathTracker(["local"], failures_to_open=2, merge_gap_ms=60_000)
    events = feed(tracker, "xx.xx")
    assert events == [
        Opened(start_ms=0, declared_ms=STEP, vantages=("local",)),
        Closed(end_ms=2 * STEP, vantage="local"),
        Resumed(previous_end_ms=2 * STEP, declared_ms=4 * STEP, vantages=("local",)),
    ]
    assert tracker.open_start_ms == 0


def test_recovery_as_long_as_the_merge_gap_starts_a_new_fault() -> None:
    tracker = PathTracker(["local"], failures_to_open=2, merge_gap_ms=2 * STEP)
    # ends at 2*STEP, next streak starts at 4*STEP: the recovery lasted exactly the gap
    events = feed(tracker, "xx..xx")
    assert [type(e) for e in events] == [Opened, Closed, Opened]
    assert events[-1].start_ms == 4 * STEP


def test_no_merge_without_a_gap() -> None:
    tracker = PathTracker(["local"], failures_to_open=2, merge_gap_ms=0)
    assert [type(e) for e in feed(tracker, "xx.xx")] == [Opened, Closed, Opened]


def test_every_vantage_must_fail() -> None:
    tracker = PathTracker(["a", "b"], failures_to_open=2, merge_gap_ms=0)
    rounds = [(True, False), (False, False), (False, True), (False, False)]
    events = []
    for index, (a, b) in enumerate(rounds):
        events += tracker.observe(index * STEP, {"a": a, "b": b})
    assert events == []
    events = tracker.observe(4 * STEP, {"a": False, "b": False})
    # a fails since 1*STEP (streak 1..4), b since 3*STEP: all were failing from 3*STEP
    assert events == [Opened(start_ms=3 * STEP, declared_ms=4 * STEP, vantages=("a", "b"))]


def test_one_vantage_success_ends_the_fault() -> None:
    tracker = PathTracker(["a", "b"], failures_to_open=2, merge_gap_ms=0)
    for index in range(2):
        tracker.observe(index * STEP, {"a": False, "b": False})
    assert tracker.is_down
    assert tracker.observe(2 * STEP, {"a": False, "b": True}) == [Closed(2 * STEP, "b")]


def test_a_round_must_cover_every_vantage() -> None:
    tracker = PathTracker(["a", "b"], failures_to_open=2, merge_gap_ms=0)
    with pytest.raises(ValueError, match="expected"):
        tracker.observe(0, {"a": True})
