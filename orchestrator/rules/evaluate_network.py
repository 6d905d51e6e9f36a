"""Judge `network.availability` and `network.max_outage` per path from the outage ledger, and
the per-path figures `drctl status` shows.

Verdicts (DESIGN §1, requirements A9), per path and calendar year (Asia/Shanghai) of `at`:

- network.availability: non_compliant when the faults alone exceed the budget
  ((1 − min_ratio) × the whole year); unknown when the path was never observed this year, or
  when faults plus unobserved time (no data, unmonitored) exceed it, since the year cannot be
  shown compliant; compliant otherwise.
- network.max_outage: non_compliant when a fault this year lasted max_seconds or longer (an
  open one counts up to `at`); unknown when the path was never observed this year or the
  unobserved time could hide such a fault; compliant otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from orchestrator.model.outage_records import PathHistory, stale_ms
from orchestrator.model.settings import Config, NetworkPath
from orchestrator.rules import figures as fmt
from orchestrator.rules.availability import (
    WindowFigures,
    calendar_year_figures,
    open_outage_start_ms,
    rolling_figures,
    seconds,
    year_of_ms,
)
from orchestrator.rules.finding import Context, Finding
from orchestrator.rules.rule import Rule
from orchestrator.rules.status import Status
from orchestrator.timefmt import iso_utc

logger = logging.getLogger(__name__)
AVAILABILITY = "network.availability"
MAX_OUTAGE = "network.max_outage"


@dataclass(frozen=True)
class Verdict:
    """A network rule judged for one path, before it becomes a Finding."""

    status: Status
    measured: str
    threshold: str
    evidence: str
    reason: str


def _seconds_text(ms: int | Fraction) -> str:
    return fmt.seconds(Fraction(ms) / 1000)


def _never_observed(figures: WindowFigures) -> bool:
    return figures.unmonitored_ms >= figures.elapsed_end_ms - figures.start_ms


def _evidence(figures: WindowFigures) -> str:
    return (
        f"outage ledger, {figures.label} (Asia/Shanghai) up to "
        f"{iso_utc(figures.elapsed_end_ms / 1000)}: "
        f"{figures.outages} fault(s)"
    )


def judge_availability(rule: Rule, figures: WindowFigures) -> Verdict:
    """Given the network.availability rule and a path's calendar-year figures, return the
    verdict."""
    minimum: Fraction = rule.value("min_ratio")
    budget = (1 - minimum) * figures.denominator_ms
    unobserved = figures.no_data_ms + figures.unmonitored_ms
    measured = (
        f"{fmt.percent(figures.availability)} in {figures.label}"
        f"{'' if figures.complete else ' so far'} (faults "
        f"{_seconds_text(figures.downtime_ms)}, no data "
        f"{_seconds_text(figures.no_data_ms)}, unmonitored "
        f"{_seconds_text(figures.unmonitored_ms)})"
    )
    if _never_observed(figures):
        status, reason = Status.UNKNOWN, "the path was not observed in this year"
    elif figures.downtime_ms > budget:
        status, reason = (
            Status.NON_COMPLIANT,
            f"faults exceed the year's budget of {_seconds_text(budget)}",
        )
    elif figures.downtime_ms + unobserved > budget:
        status, reason = (
            Status.UNKNOWN,
            ("faults plus unobserved time exceed the year's budget: compliance cannot be shown"),
        )
    else:
        status, reason = (
            Status.COMPLIANT,
            f"faults and unobserved time stay within the budget of {_seconds_text(budget)}",
        )
    return Verdict(status, measured, f"≥ {fmt.percent(minimum)}", _evidence(figures), reason)


def judge_max_outage(rule: Rule, figures: WindowFigures) -> Verdict:
    """Given the network.max_outage rule and a path's calendar-year figures, return the
    verdict."""
    limit_ms = rule.value("max_seconds") * 1000
    measured = (
        f"longest fault {_seconds_text(figures.longest_ms)} in {figures.label} "
        f"({figures.outages} fault(s))"
    )
    threshold = f"< {fmt.seconds(rule.value('max_seconds'))}"
    if _never_observed(figures):
        status, reason = Status.UNKNOWN, "the path was not observed in this year"
    elif figures.longest_ms >= limit_ms:
        status, reason = Status.NON_COMPLIANT, "a continuous fault reached the limit"
    elif figures.no_data_ms + figures.unmonitored_ms >= limit_ms:
        status, reason = Status.UNKNOWN, "unobserved time could hide a fault of the limit's length"
    else:
        status, reason = Status.COMPLIANT, "every fault this year ended before the limit"
    return Verdict(status, measured, threshold, _evidence(figures), reason)


def _year_figures(
    histories: Mapping[str, PathHistory], config: Config, at: float, known_at: float | None = None
) -> list[tuple[str, WindowFigures]]:
    """Return each configured path's figures for the calendar year of `at`, read from the
    ledger as known at known_at (default at): a past year judged in full sees the end of a
    fault that crossed New Year."""
    year = year_of_ms(int(at * 1000))
    at_ms = int(max(at, known_at or at) * 1000)
    return [
        (
            path.name,
            calendar_year_figures(configured_history(path, histories.get(path.name)), year, at_ms),
        )
        for path in config.network.paths
    ]


def configured_history(path: NetworkPath, known: PathHistory | None) -> PathHistory:
    """Given a configured path and what the ledger knows of it (None: nothing), return its
    history with the path's own stale limit."""
    return PathHistory(
        path.name,
        known.outages if known else (),
        known.observations if known else (),
        stale_ms(path),
    )


def evaluate_availability(context: Context) -> list[Finding]:
    """Evaluator of network.availability: one finding per configured path."""
    return _evaluate_paths(context, AVAILABILITY, judge_availability)


def evaluate_max_outage(context: Context) -> list[Finding]:
    """Evaluator of network.max_outage: one finding per configured path."""
    return _evaluate_paths(context, MAX_OUTAGE, judge_max_outage)


def _evaluate_paths(
    context: Context, rule_id: str, judge: Callable[[Rule, WindowFigures], Verdict]
) -> list[Finding]:
    """Judge one network rule for every configured path from this year's ledger figures."""
    findings = []
    network = context.snapshot.network
    for name, figures in _year_figures(network, context.config, context.at_ts, context.known_ts):
        verdict = judge(context.rule(rule_id), figures)
        findings.append(
            context.finding(
                rule_id,
                name,
                verdict.status,
                measured=verdict.measured,
                threshold=verdict.threshold,
                evidence=verdict.evidence,
                reason=verdict.reason,
            )
        )
    return findings


def _window_row(figures: WindowFigures) -> dict[str, Any]:
    value = figures.availability
    return {
        "window": figures.label,
        "availability": f"{value.numerator}/{value.denominator}",
        "availability_percent": fmt.percent(value),
        "faults_only_percent": fmt.percent(figures.availability_faults_only),
        "downtime_seconds": float(seconds(figures.downtime_ms)),
        "no_data_seconds": float(seconds(figures.no_data_ms)),
        "unmonitored_seconds": float(seconds(figures.unmonitored_ms)),
        "denominator_seconds": float(seconds(figures.denominator_ms)),
        "outages": figures.outages,
        "longest_outage_seconds": float(seconds(figures.longest_ms)),
        "complete": figures.complete,
    }


def network_status(
    config: Config,
    histories: Mapping[str, PathHistory],
    at: float,
    known_at: float | None = None,
) -> list[dict[str, Any]]:
    """Given the site's settings, the ledger's histories (a snapshot's `network`) and a time
    (epoch seconds), return one row per configured network path: exact availability for the
    calendar year (Asia/Shanghai) and the rolling 365 days, downtime, no-data time, faults and
    the longest fault this year, and the start of the fault open now (None when up). known_at
    (a past year judged in full) reads the ledger as known then for the calendar-year figures."""
    at_ms = int(at * 1000)
    known_ms = int(max(at, known_at or at) * 1000)
    rows = []
    for path in config.network.paths:
        history = configured_history(path, histories.get(path.name))
        year = calendar_year_figures(history, year_of_ms(at_ms), known_ms)
        open_start = open_outage_start_ms(history, at_ms)
        rows.append(
            {
                "path": path.name,
                "kind": path.kind,
                "target": path.target,
                "vantages": list(path.vantages),
                "calendar_year": _window_row(year),
                "rolling_365d": _window_row(rolling_figures(history, at_ms)),
                "longest_outage_seconds": float(seconds(year.longest_ms)),
                "outages": year.outages,
                "down_since": None if open_start is None else iso_utc(open_start / 1000),
            }
        )
    return rows
