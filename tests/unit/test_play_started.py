"""A play's start time is read from the runner's own events (a drill's disaster time is when
its destroy play began inside the one disaster run)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator.errors import InfrastructureError
from orchestrator.integrations.ansible import PlaybookRun, play_started


def run_with(tmp_path: Path, events: list[dict[str, object]]) -> PlaybookRun:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return PlaybookRun("disaster.yml", "disaster-x", "successful", 0, path)


def play_start(play: str, created: str) -> dict[str, object]:
    return {"event": "playbook_on_play_start", "created": created, "event_data": {"play": play}}


def test_the_named_play_start_is_returned_not_an_earlier_play(tmp_path: Path) -> None:
    run = run_with(
        tmp_path,
        [
            play_start("Fingerprint live datasets", "2026-11-30T10:44:15.922466+00:00"),
            {"event": "runner_on_ok", "created": "2026-11-30T10:44:18+00:00", "event_data": {}},
            play_start("Destroy live datasets", "2026-11-30T10:44:20.106897+00:00"),
            play_start("Wipe paths", "2026-11-30T10:44:24.201607+00:00"),
        ],
    )
    expected = datetime(2026, 11, 30, 10, 44, 20, 106897, tzinfo=UTC).timestamp()
    assert play_started(run, "Destroy live datasets") == expected


def test_a_time_without_offset_is_utc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Shanghai")  # a machine whose local time is not UTC
    time.tzset()
    run = run_with(tmp_path, [play_start("Destroy live datasets", "2026-11-30T10:44:20")])
    expected = datetime(2026, 11, 30, 10, 44, 20, tzinfo=UTC).timestamp()
    try:
        assert play_started(run, "Destroy live datasets") == expected
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_play_that_never_began_is_an_infrastructure_error(tmp_path: Path) -> None:
    run = run_with(tmp_path, [play_start("Fingerprint live datasets", "2026-11-30T10:44:15")])
    with pytest.raises(InfrastructureError, match="play 'Destroy live datasets' never began"):
        play_started(run, "Destroy live datasets")
