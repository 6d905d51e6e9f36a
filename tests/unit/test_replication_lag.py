"""The PostgreSQL standby's lag in seconds (plugins/modules/dr_replication.py of
dr.orchestrator): a standby that is only replaying a background WAL record on a quiet primary
is not reported hours behind; one whose replay does not catch up keeps the commit-time figure."""

from __future__ import annotations

from typing import Any

from tests.fixtures.collection import load_plugin

dr_replication = load_plugin("modules/dr_replication.py")

HOURS = 3 * 3600.0
QUIET = {"now": 1_800_000_000.0 + HOURS, "replay_timestamp": 1_800_000_000.0}


class FakeClock:
    """A monotonic clock that only the poll's sleeps move forward."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def poll(replays: list[str], receive_lsn: str) -> tuple[float | None, int]:
    """Run the catch-up poll over successive replayed positions; return (result, readings)."""
    clock = FakeClock()
    readings = []

    def read() -> str:
        readings.append(1)
        return replays[min(len(readings), len(replays)) - 1]

    caught_up = dr_replication.replay_catch_up(read, receive_lsn, clock.now, clock, clock.sleep)
    return caught_up, len(readings)


def test_lsn_positions_compare_across_the_high_word() -> None:
    assert dr_replication.lsn_position("0/3000148") == 0x3000148
    assert dr_replication.lsn_position("1/0") > dr_replication.lsn_position("0/FFFFFFFF")


def test_a_standby_replaying_a_checkpoint_on_a_quiet_primary_is_not_hours_behind() -> None:
    caught_up, readings = poll(["0/3000100", "0/3000100", "0/3000148"], "0/3000148")
    assert caught_up is not None and 0 < caught_up <= 0.1 and readings == 3
    lag = dr_replication.postgres_lag_seconds(QUIET, True, 72, caught_up)
    assert lag == caught_up


def test_replay_past_the_position_first_received_also_counts() -> None:
    caught_up, _ = poll(["1/10"], "0/FFFFFF00")
    assert caught_up is not None and caught_up < 0.1


def test_replay_that_does_not_catch_up_keeps_the_commit_time_figure() -> None:
    caught_up, readings = poll(["0/3000100"], "0/3000148")
    assert caught_up is None
    # Bounded: about CATCH_UP_BOUND / CATCH_UP_STEP readings, not an endless wait.
    assert readings <= dr_replication.CATCH_UP_BOUND / dr_replication.CATCH_UP_STEP + 1
    assert dr_replication.postgres_lag_seconds(QUIET, True, 72, None) == HOURS


def test_the_smaller_of_the_catch_up_time_and_the_commit_time_figure_is_reported() -> None:
    recent: dict[str, Any] = {"now": 50.5, "replay_timestamp": 50.0}
    assert dr_replication.postgres_lag_seconds(recent, True, 72, 1.5) == 0.5
    nothing_replayed: dict[str, Any] = {"now": 50.5, "replay_timestamp": None}
    assert dr_replication.postgres_lag_seconds(nothing_replayed, True, 72, 1.5) == 1.5
    assert dr_replication.postgres_lag_seconds(nothing_replayed, True, 72, None) is None


def test_everything_replayed_is_zero_and_a_receiver_not_streaming_cannot_say() -> None:
    assert dr_replication.postgres_lag_seconds(QUIET, True, 0, None) == 0.0
    assert dr_replication.postgres_lag_seconds(QUIET, False, 72, 0.1) is None


class FakeStandby:
    """A standby target that answers the module's first reading, then the replayed positions."""

    def __init__(self, figures: dict[str, Any], replays: list[str]) -> None:
        self.answers = [dr_replication.json.dumps(figures)] + replays

    def query(self, sql: str, database: str | None = None) -> list[str]:
        return [self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]]


def standby_figures(**changes: Any) -> dict[str, Any]:
    figures = dict(
        QUIET,
        in_recovery=True,
        receiver_status="streaming",
        replay_paused=False,
        receive_lsn="0/3000148",
        replay_lsn="0/3000100",
        lag_bytes=72,
    )
    figures.update(changes)
    return figures


def test_the_probe_of_a_standby_catching_up_reports_the_catch_up_time() -> None:
    state = dr_replication.postgres_state(FakeStandby(standby_figures(), ["0/3000148"]))
    assert state["state"] == "streaming" and state["lag_bytes"] == 72
    assert state["lag_seconds"] is not None and state["lag_seconds"] <= 2.0
    assert state["detail"]["caught_up_after"] == state["lag_seconds"]


def test_the_probe_of_a_paused_standby_keeps_the_commit_time_figure_without_polling() -> None:
    standby = FakeStandby(standby_figures(replay_paused=True), ["0/3000148"])
    state = dr_replication.postgres_state(standby)
    assert state["lag_seconds"] == HOURS and "caught_up_after" not in state["detail"]
    assert standby.answers == ["0/3000148"]
