"""`drctl plan switchover`: is a planned switchover announced early enough (switchover.notice)?

Returns the exit code with the JSON-able verdict: 0 compliant or not applicable, 1 non-compliant
or partial (no emergency channel), 2 when the calendar lacks a year."""

from __future__ import annotations

from datetime import date
from typing import Any

from orchestrator.errors import ExitCode, InputError
from orchestrator.rules.rule import RulePack
from orchestrator.rules.status import Status
from orchestrator.rules.switchover import (
    CONVENTIONS,
    Convention,
    SwitchoverVerdict,
    check_switchover_notice,
)
from orchestrator.rules.workdays import WorkdayCalendar

_SWITCHOVER_EXIT = {
    Status.COMPLIANT: ExitCode.OK,
    Status.NOT_APPLICABLE: ExitCode.OK,
    Status.PARTIAL: ExitCode.CHECK_FAILED,
    Status.NON_COMPLIANT: ExitCode.CHECK_FAILED,
    Status.UNKNOWN: ExitCode.USAGE,
}


def run_plan_switchover(
    calendar: WorkdayCalendar,
    pack: RulePack,
    start: date,
    end: date,
    notice: date,
    convention: str = "strict",
    emergency_channel: str | None = None,
) -> tuple[ExitCode, dict[str, Any]]:
    """Given the calendar, the rule pack, the planned window, the notice date, the counting
    convention and the declared emergency service channel, return (exit code, verdict dict).

    Exit 0 when compliant or not applicable, 1 when non-compliant or partial (no emergency
    channel), 2 when the calendar lacks a year. Raise InputError for an end before the start
    or an unknown convention.
    """
    problems = []
    if end < start:
        problems.append(f"--end: {end} is before --start {start}")
    if convention not in CONVENTIONS:
        problems.append(f"--convention: {convention!r}: expected one of {', '.join(CONVENTIONS)}")
    if problems:
        raise InputError("drctl plan switchover", problems)
    checked: Convention = "strict" if convention == "strict" else "inclusive"
    verdict = check_switchover_notice(
        calendar, start, end, notice, checked, pack, emergency_channel=emergency_channel
    )
    result = verdict_to_dict(verdict)
    result["calendar"] = calendar.source_description()
    return _SWITCHOVER_EXIT[verdict.status], result


def verdict_to_dict(verdict: SwitchoverVerdict) -> dict[str, Any]:
    """Given a switchover verdict, return it as a JSON-able dict (dates as ISO text)."""
    return {
        "rule": "switchover.notice",
        "status": str(verdict.status),
        "status_zh": verdict.status.label_zh,
        "applies": verdict.applies,
        "start": verdict.start.isoformat(),
        "end": verdict.end.isoformat(),
        "notice_date": verdict.notice.isoformat(),
        "convention": verdict.convention,
        "working_days_in_window": verdict.working_days_in_window,
        "window_working_days": [day.isoformat() for day in verdict.window_days],
        "notice_working_days": verdict.notice_working_days,
        "counted_working_days": [day.isoformat() for day in verdict.counted_days],
        "required": verdict.required,
        "latest_notice_date": _iso(verdict.latest_notice_date),
        "emergency_channel": verdict.emergency_channel,
        "clause": verdict.clause,
        "explanation_zh": verdict.explanation_zh,
        "explanation_en": verdict.explanation_en,
    }


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()
