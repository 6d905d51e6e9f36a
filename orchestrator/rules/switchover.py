"""Rule switchover.notice, 银发[2002]260号 第十条:
「系统切换时间超过一个工作日,需至少提前5个工作日发布提示公告,并提供应急服务途径」.

Counting (requirements.md A6): the rule applies when the planned window [start, end] touches more
working days than the trigger (1). The notice needs at least 5 working days before the start:

* strict (default): working days strictly between the notice date and the start date; neither
  day counts (the first day of a period is not counted, PRC Civil Code art. 201);
* inclusive: the notice day counts if it is a working day; the start day does not.

A switchover starting Mon 2025-10-13 needs its notice by Sun 2025-09-28 (a make-up working day)
when strict, by Mon 2025-09-29 when inclusive. No calendar data → unknown: there is no safe
fallback for a notice rule (A1).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal

from orchestrator.errors import CalendarDataMissing
from orchestrator.rules.rule import RulePack
from orchestrator.rules.status import Status
from orchestrator.rules.workdays import WorkdayCalendar

logger = logging.getLogger(__name__)

RULE_ID = "switchover.notice"
Convention = Literal["strict", "inclusive"]
CONVENTIONS: tuple[Convention, ...] = ("strict", "inclusive")
_ONE_DAY = timedelta(days=1)
_LISTED_DAYS_MAX = 10


@dataclass(frozen=True)
class SwitchoverVerdict:
    """The judgement of one planned switchover against switchover.notice, with its counts."""

    applies: bool | None  # None: cannot tell (no calendar data)
    working_days_in_window: int | None
    notice_working_days: int | None
    required: int
    status: Status
    explanation_zh: str
    explanation_en: str
    convention: Convention
    start: date
    end: date
    notice: date
    latest_notice_date: date | None = None
    window_days: tuple[date, ...] = ()
    counted_days: tuple[date, ...] = ()
    emergency_channel: str | None = None
    clause: str = ""


def check_switchover_notice(
    calendar: WorkdayCalendar,
    start: date,
    end: date,
    notice: date,
    convention: Convention,
    pack: RulePack,
    *,
    emergency_channel: str | None = None,
) -> SwitchoverVerdict:
    """Given the calendar, the planned window [start, end], the notice publication date, the
    counting convention, the rule pack and the declared emergency service channel (if any),
    return the verdict.

    Compliant when the rule applies, the notice leaves enough working days and a channel is
    declared; partial when the notice is early enough but no channel is declared. Raise
    ValueError if end is before start or the convention is unknown.
    """
    if end < start:
        raise ValueError(f"the switchover ends ({end}) before it starts ({start})")
    if convention not in CONVENTIONS:
        raise ValueError(f"counting convention {convention!r}: expected strict or inclusive")
    rule = pack.get(RULE_ID)
    required = int(rule.value("min_notice_working_days"))
    trigger = int(rule.value("trigger_working_days"))
    base = SwitchoverVerdict(
        applies=None,
        working_days_in_window=None,
        notice_working_days=None,
        required=required,
        status=Status.UNKNOWN,
        explanation_zh="",
        explanation_en="",
        convention=convention,
        start=start,
        end=end,
        notice=notice,
        emergency_channel=emergency_channel or None,
        clause=rule.clause.quote(),
    )
    try:
        return _judge(calendar, base, trigger)
    except CalendarDataMissing as missing:
        logger.warning("Switchover notice cannot be judged: %s", missing)
        return replace(
            base,
            explanation_zh=(
                f"无法判定：{missing.year}年没有法定工作日历数据，请在日历覆盖文件中补充该年份。"
                f"依据{base.clause}。"
            ),
            explanation_en=(
                f"Cannot be determined: no statutory working-day calendar for {missing.year}; "
                f"add the year to the calendar overrides file. Clause: {base.clause}."
            ),
        )


def latest_notice_date(
    calendar: WorkdayCalendar, start: date, required: int, convention: Convention
) -> date:
    """Given the calendar, the start date, the working days required and the convention, return
    the last date on which the notice can be published. Raise CalendarDataMissing if needed."""
    earliest_counted = calendar.add_working_days(start, -required)
    return earliest_counted - _ONE_DAY if convention == "strict" else earliest_counted


def _judge(calendar: WorkdayCalendar, base: SwitchoverVerdict, trigger: int) -> SwitchoverVerdict:
    start, end, notice = base.start, base.end, base.notice
    window = tuple(calendar.working_days_in(start - _ONE_DAY, end))
    window_zh = f"切换窗口 {start} 至 {end} 涉及 {len(window)} 个工作日{_listing(window, True)}"
    window_en = (
        f"The switchover window {start} to {end} touches {len(window)} working "
        f"day(s){_listing(window)}"
    )
    if len(window) <= trigger:
        return replace(
            base,
            applies=False,
            working_days_in_window=len(window),
            window_days=window,
            status=Status.NOT_APPLICABLE,
            explanation_zh=f"{window_zh}，未超过 {trigger} 个工作日，不需要提前发布提示公告。",
            explanation_en=f"{window_en}, not more than {trigger}: no advance notice is required.",
        )
    counted = _counted_days(calendar, notice, start, base.convention)
    latest = latest_notice_date(calendar, start, base.required, base.convention)
    enough = len(counted) >= base.required
    if not enough:
        status = Status.NON_COMPLIANT
    elif base.emergency_channel is None:
        status = Status.PARTIAL
    else:
        status = Status.COMPLIANT
    count_zh, count_en = _count_sentences(base, counted)
    verdict_zh, verdict_en = _verdict_sentences(status, base.required - len(counted))
    return replace(
        base,
        applies=True,
        working_days_in_window=len(window),
        notice_working_days=len(counted),
        window_days=window,
        counted_days=counted,
        latest_notice_date=latest,
        status=status,
        explanation_zh=(
            f"{window_zh}，超过 {trigger} 个工作日，须至少提前 {base.required} 个工作日发布提示公告"
            f"并提供应急服务途径。{count_zh}最迟公告日为 {latest}。{verdict_zh}"
            f"依据{base.clause}。"
        ),
        explanation_en=(
            f"{window_en}, more than {trigger}: a notice at least {base.required} working days "
            f"ahead and an emergency service channel are required. {count_en} The latest notice "
            f"date is {latest}. {verdict_en} Clause: {base.clause}."
        ),
    )


def _counted_days(
    calendar: WorkdayCalendar, notice: date, start: date, convention: Convention
) -> tuple[date, ...]:
    if notice >= start:
        return ()
    first_excluded = notice if convention == "strict" else notice - _ONE_DAY
    return tuple(calendar.working_days_in(first_excluded, start - _ONE_DAY))


def _count_sentences(base: SwitchoverVerdict, counted: tuple[date, ...]) -> tuple[str, str]:
    notice, start = base.notice, base.start
    days, days_zh = _listing(counted), _listing(counted, chinese=True)
    if notice >= start:
        return (
            f"公告日 {notice} 不早于切换开始日 {start}，提前量为 0 个工作日。",
            f"The notice date {notice} is not before the start {start}: 0 working days ahead.",
        )
    if base.convention == "strict":
        return (
            f"按严格计数（公告日与切换开始日均不计入），{notice} 与 {start} 之间有 "
            f"{len(counted)} 个工作日{days_zh}。",
            f"Strict counting (neither the notice day nor the start day counts): "
            f"{len(counted)} working day(s) between {notice} and {start}{days}.",
        )
    return (
        f"按含公告日计数（公告日计入，切换开始日不计入），自 {notice} 起至 {start} 前有 "
        f"{len(counted)} 个工作日{days_zh}。",
        f"Inclusive counting (the notice day counts, the start day does not): "
        f"{len(counted)} working day(s) from {notice} up to {start}{days}.",
    )


def _verdict_sentences(status: Status, shortfall: int) -> tuple[str, str]:
    if status is Status.NON_COMPLIANT:
        return (
            f"结论：不符合，少 {shortfall} 个工作日。",
            f"Verdict: non-compliant, {shortfall} working day(s) short.",
        )
    if status is Status.PARTIAL:
        return (
            "结论：部分符合，提前量满足，但未声明应急服务途径。",
            "Verdict: partially compliant: the notice is early enough but no emergency "
            "service channel is declared.",
        )
    return "结论：符合。", "Verdict: compliant."


def _listing(days: tuple[date, ...], chinese: bool = False) -> str:
    if not days or len(days) > _LISTED_DAYS_MAX:
        return ""
    if chinese:
        return "（" + "、".join(day.isoformat() for day in days) + "）"
    return " (" + ", ".join(day.isoformat() for day in days) + ")"
