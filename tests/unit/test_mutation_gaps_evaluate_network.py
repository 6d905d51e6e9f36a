"""Gaps in rules/evaluate_network.py that mutation testing found (issue 16).

- network.availability: a year still running says "so far", a finished one does not; the
  reason when faults plus unobserved time exceed the budget is stated word for word.
- network.max_outage: every reason word for word; unobserved time exactly the limit's length
  could hide a fault of that length, so the path is unknown, not compliant.
- `network_status` (what `drctl status --json` prints): every key and figure of a path's row,
  the open fault's start, and a past year read as known later (`known_at`); the evaluators
  judge each path from its own ledger, in the year of the time of judgement (late December
  included).
"""

from __future__ import annotations

from datetime import UTC, datetime

from orchestrator.model.outage_records import ObservationRecord, OutageRecord, PathHistory
from orchestrator.model.snapshot import Snapshot
from orchestrator.rules.availability import DAY_MS, calendar_year_figures, year_bounds_ms
from orchestrator.rules.evaluate_network import (
    evaluate_availability,
    evaluate_max_outage,
    judge_availability,
    judge_max_outage,
    network_status,
)
from orchestrator.rules.finding import Context
from orchestrator.rules.pack import load_pack
from orchestrator.rules.status import Status
from tests.fixtures.catalog_rows import CALENDAR, model

PACK = load_pack()
START, END = year_bounds_ms(2025)
HOUR_MS = 3_600_000


def observed(*spans: tuple[int, int], outages: tuple[OutageRecord, ...] = ()) -> PathHistory:
    """A path observed (closed observations) over the given spans, with the given faults."""
    return PathHistory(
        "dc-dr", outages, tuple(ObservationRecord(a, b, b) for a, b in spans), stale_ms=48_000
    )


def test_availability_of_a_year_still_running_says_so_far() -> None:
    now = START + 10 * DAY_MS
    running = calendar_year_figures(observed((START, now)), 2025, now)
    verdict = judge_availability(PACK["network.availability"], running)
    assert verdict.measured == ("100 % in 2025 so far (faults 0 s, no data 0 s, unmonitored 0 s)")
    whole = calendar_year_figures(observed((START, END)), 2025, END)
    verdict = judge_availability(PACK["network.availability"], whole)
    assert verdict.measured == "100 % in 2025 (faults 0 s, no data 0 s, unmonitored 0 s)"


def test_availability_unknown_when_faults_plus_unobserved_time_exceed_the_budget() -> None:
    gap = 30 * 60_000  # 30 min without data: more than the 26.28 min budget
    history = observed((START, START + DAY_MS), (START + DAY_MS + gap, END))
    verdict = judge_availability(
        PACK["network.availability"], calendar_year_figures(history, 2025, END)
    )
    assert verdict.status is Status.UNKNOWN
    assert verdict.reason == (
        "faults plus unobserved time exceed the year's budget: compliance cannot be shown"
    )


def test_max_outage_reasons_word_for_word() -> None:
    rule = PACK["network.max_outage"]
    begin = START + 100 * DAY_MS
    long_fault = (OutageRecord(begin, begin + 2 * HOUR_MS, "probe"),)
    reached = calendar_year_figures(observed((START, END), outages=long_fault), 2025, END)
    assert judge_max_outage(rule, reached).reason == "a continuous fault reached the limit"
    clean = calendar_year_figures(observed((START, END)), 2025, END)
    verdict = judge_max_outage(rule, clean)
    assert (verdict.status, verdict.reason) == (
        Status.COMPLIANT,
        "every fault this year ended before the limit",
    )


def test_max_outage_unobserved_time_exactly_the_limit_could_hide_such_a_fault() -> None:
    rule = PACK["network.max_outage"]
    middle = START + 100 * DAY_MS
    history = observed((START, middle), (middle + 2 * HOUR_MS, END))
    figures = calendar_year_figures(history, 2025, END)
    assert figures.no_data_ms + figures.unmonitored_ms == 2 * HOUR_MS
    verdict = judge_max_outage(rule, figures)
    assert (verdict.status, verdict.reason) == (
        Status.UNKNOWN,
        "unobserved time could hide a fault of the limit's length",
    )
    shorter = observed((START, middle), (middle + 2 * HOUR_MS - 1, END))
    figures = calendar_year_figures(shorter, 2025, END)
    assert judge_max_outage(rule, figures).status is Status.COMPLIANT


CONFIG = model(
    network={
        "paths": [
            {
                "name": "dc-dr",
                "kind": "tcp",
                "target": "10.0.0.9:5432",
                "vantages": ["local", "dr"],
            },
            {"name": "egress", "kind": "http", "target": "http://10.0.0.1/"},
        ]
    }
)
AT_MS = START + 100 * DAY_MS  # 2025-04-11 00:00 Asia/Shanghai
# First observed a day into the year; a closed 10-minute fault, 40 minutes without data, and a
# fault open for the last 90 s while the prober is live (last probe 5 s ago).
LEDGER = PathHistory(
    "dc-dr",
    (
        OutageRecord(START + 10 * DAY_MS, START + 10 * DAY_MS + 600_000, "probe"),
        OutageRecord(AT_MS - 90_000, None),
    ),
    (
        ObservationRecord(START + DAY_MS, START + 50 * DAY_MS, START + 50 * DAY_MS),
        ObservationRecord(START + 50 * DAY_MS + 2_400_000, AT_MS - 5_000, None),
    ),
    stale_ms=48_000,
)


def window(label: str, **figures: object) -> dict[str, object]:
    return {"window": label, "denominator_seconds": 31_536_000.0, **figures}


def test_status_rows_give_every_figure_of_each_configured_path() -> None:
    # availability = 1 − (690 s faults + 2,400 s no data) / 365 d = 31,532,910 / 31,536,000
    faults = {
        "availability": "1051097/1051200",
        "availability_percent": "99.9902… %",
        "faults_only_percent": "99.9978… %",
        "downtime_seconds": 690.0,
        "no_data_seconds": 2400.0,
        "outages": 2,
        "longest_outage_seconds": 600.0,
    }
    clean = {
        "availability": "1/1",
        "availability_percent": "100 %",
        "faults_only_percent": "100 %",
        "downtime_seconds": 0.0,
        "no_data_seconds": 0.0,
        "outages": 0,
        "longest_outage_seconds": 0.0,
    }
    rows = network_status(CONFIG, {"dc-dr": LEDGER}, AT_MS / 1000)
    assert rows == [
        {
            "path": "dc-dr",
            "kind": "tcp",
            "target": "10.0.0.9:5432",
            "vantages": ["local", "dr"],
            # the first day of the year was before the first observation
            "calendar_year": window("2025", **faults, unmonitored_seconds=86400.0, complete=False),
            # the 365 days back reach 266 days before the first observation
            "rolling_365d": window(
                "365d", **faults, unmonitored_seconds=266 * 86400.0, complete=True
            ),
            "longest_outage_seconds": 600.0,
            "outages": 2,
            "down_since": "2025-04-10T15:58:30Z",
        },
        {
            "path": "egress",
            "kind": "http",
            "target": "http://10.0.0.1/",
            "vantages": ["local"],
            "calendar_year": window(
                "2025", **clean, unmonitored_seconds=100 * 86400.0, complete=False
            ),
            "rolling_365d": window(
                "365d", **clean, unmonitored_seconds=365 * 86400.0, complete=True
            ),
            "longest_outage_seconds": 0.0,
            "outages": 0,
            "down_since": None,
        },
    ]


def test_status_of_a_year_read_as_known_later_sees_the_prober_stop() -> None:
    rows = network_status(CONFIG, {"dc-dr": LEDGER}, AT_MS / 1000, known_at=END / 1000)
    year = rows[0]["calendar_year"]
    # known at the end of the year, the open fault ends at the last probe (85 s), and the
    # rest of the year after it is no data
    assert (year["downtime_seconds"], year["complete"]) == (685.0, True)
    assert year["no_data_seconds"] == 2400.0 + 5.0 + (365 - 100) * 86400.0
    # the rolling window and the open fault are read at `at`, not as known later
    assert rows[0]["rolling_365d"]["downtime_seconds"] == 690.0
    assert rows[0]["down_since"] == "2025-04-10T15:58:30Z"


def _context(known_at: datetime | None = None) -> Context:
    at = datetime.fromtimestamp(AT_MS / 1000, tz=UTC)
    snap = Snapshot(0.0, network={"dc-dr": LEDGER})
    return Context(CONFIG, PACK, CALENDAR, snap, at, known_at=known_at)


def test_evaluators_judge_each_path_from_its_own_ledger_in_the_year_of_judgement() -> None:
    findings = evaluate_availability(_context())
    assert [(f.subject, f.status) for f in findings] == [
        ("dc-dr", Status.UNKNOWN),  # 2,400 s no data + 86,400 s unmonitored exceed the budget
        ("egress", Status.UNKNOWN),
    ]
    assert findings[0].measured == (
        "99.9902… % in 2025 so far (faults 690 s, no data 2400 s, unmonitored 86400 s)"
    )
    assert findings[1].reason == "the path was not observed in this year"


def test_evaluators_read_a_past_year_as_known_later() -> None:
    known = datetime.fromtimestamp(END / 1000, tz=UTC)
    finding = evaluate_max_outage(_context(known))[0]
    # known at the end of the year, the open fault ended at the last probe, 85 s long
    assert finding.measured == "longest fault 600 s in 2025 (2 fault(s))"
    assert finding.evidence == (
        "outage ledger, 2025 (Asia/Shanghai) up to 2025-12-31T16:00:00Z: 2 fault(s)"
    )


def test_evaluators_judge_the_year_of_judgement_in_late_december() -> None:
    at = datetime(2025, 12, 20, 12, tzinfo=UTC)  # within 20 days of New Year
    snap = Snapshot(0.0, network={"dc-dr": LEDGER})
    finding = evaluate_availability(Context(CONFIG, PACK, CALENDAR, snap, at))[0]
    assert " in 2025 so far " in finding.measured
