"""The verdict on one rule for one subject (`Finding`) and what every evaluator judges from
(`Context`: config, rule pack, calendar, catalog snapshot and the time of judgement).

Every day, month and year boundary is an Asia/Shanghai one (requirements.md A13); times in the
snapshot are UTC epoch seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any

from orchestrator.errors import CalendarDataMissing
from orchestrator.model.settings import Config, System
from orchestrator.model.snapshot import CopyHistory, CopyRow, PointHistory, PointRow, Snapshot
from orchestrator.rules import figures
from orchestrator.rules.rule import Clause, Rule, RulePack, Severity
from orchestrator.rules.status import Status
from orchestrator.rules.timezone import SHANGHAI
from orchestrator.rules.workdays import WorkdayCalendar, business_date

DAY_SECONDS = 86400
ALL_SUBJECT = "all"
Gap = tuple[date, date, int]  # two business dates and the working days between them


@dataclass(frozen=True)
class Finding:
    """One rule judged for one subject (a dataset `system/dataset`, a system, a site, a network
    path, or `all`), with the numbers and the records it was judged from."""

    rule: str
    subject: str
    status: Status
    measured: str
    threshold: str
    clause: Clause
    severity: Severity
    evidence: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Return the finding as a JSON-able dict (status with its Chinese and English label)."""
        return {
            "rule": self.rule,
            "subject": self.subject,
            "status": str(self.status),
            "status_zh": self.status.label_zh,
            "status_en": self.status.label_en,
            "measured": self.measured,
            "threshold": self.threshold,
            "clause": {
                "source": self.clause.source,
                "article": self.clause.article,
                "text": self.clause.text,
                "quote": self.clause.quote(),
            },
            "severity": str(self.severity),
            "evidence": self.evidence,
            "reason": self.reason,
        }

    @property
    def breaks_violation(self) -> bool:
        """Return whether this is a non-compliant finding of a rule of severity violation."""
        return self.status is Status.NON_COMPLIANT and self.severity is Severity.VIOLATION


@dataclass(frozen=True)
class Context:
    """Everything an evaluator may look at; evaluators never do I/O."""

    config: Config
    pack: RulePack
    calendar: WorkdayCalendar
    snapshot: Snapshot
    at: datetime
    known_at: datetime | None = None  # a past period judged with what is known later

    @cached_property
    def at_ts(self) -> float:
        """Return the time of judgement as UTC epoch seconds."""
        return self.at.timestamp()

    @cached_property
    def known_ts(self) -> float:
        """Return until when records are read, as UTC epoch seconds: the time of judgement,
        or (a past year judged in full) the later time the judgement is made, so that an event
        that began in the period and ended after it counts with its full length."""
        return max(self.at_ts, self.known_at.timestamp() if self.known_at else self.at_ts)

    @cached_property
    def local_date(self) -> date:
        """Return the Asia/Shanghai calendar date of the time of judgement."""
        return self.at.astimezone(SHANGHAI).date()

    @cached_property
    def business_date(self) -> date:
        """Return the business date of the time of judgement (with the site's cut-off hour)."""
        return business_date(
            self.at.astimezone(UTC), self.config.calendar.business_date_cutoff_hour
        )

    @cached_property
    def complete_points(self) -> tuple[PointRow, ...]:
        """Return every complete recovery point finished by the time of judgement, oldest
        first."""
        return tuple(
            sorted(
                (
                    p
                    for p in self.snapshot.points
                    if p.status == "complete" and p.finished_at <= self.at_ts
                ),
                key=lambda p: (p.finished_at, p.id),
            )
        )

    @cached_property
    def copies_by_point(self) -> dict[str, list[CopyRow]]:
        """Return the copies written by the time of judgement, grouped by recovery point."""
        grouped: dict[str, list[CopyRow]] = {}
        for copy in self.snapshot.copies:
            if copy.written_at <= self.at_ts:
                grouped.setdefault(copy.recovery_point_id, []).append(copy)
        return grouped

    @cached_property
    def history_start(self) -> float | None:
        """Return when the catalog's history begins (the first complete recovery point of any
        dataset), or None when nothing has been recorded yet."""
        return self.complete_points[0].finished_at if self.complete_points else None

    @cached_property
    def _points_by_dataset(self) -> dict[tuple[str, str], list[PointRow]]:
        grouped: dict[tuple[str, str], list[PointRow]] = {}
        for point in self.complete_points:
            grouped.setdefault((point.system, point.dataset), []).append(point)
        return grouped

    @cached_property
    def first_point_by_system(self) -> dict[str, PointRow]:
        """Return each system's first complete recovery point."""
        first: dict[str, PointRow] = {}
        for point in self.complete_points:
            first.setdefault(point.system, point)
        return first

    def points_of(self, system: str, dataset: str) -> list[PointRow]:
        """Given a dataset, return its complete recovery points by the time of judgement,
        oldest first."""
        return list(self._points_by_dataset.get((system, dataset), ()))

    @cached_property
    def copy_history(self) -> CopyHistory | None:
        """Return the snapshot's copy aggregates (model/judged_snapshot.py), or None when it
        holds every copy. Raise ValueError when they were taken at another instant: its copies
        are bounded for that one and cannot judge this one."""
        history = self.snapshot.copy_history
        if history is not None and history.at != self.at_ts:
            raise ValueError(
                f"the snapshot's copies are bounded for {history.at}, not for {self.at_ts}"
            )
        return history

    def generations_written(self, system: str, dataset: str, store: str) -> int:
        """Return how many business dates of the dataset's complete points have a copy
        (written by the time of judgement) in the store."""
        if self.copy_history is not None:
            return self.copy_history.generations.get((system, dataset, store), 0)
        return len(
            {
                p.business_date
                for p in self.points_of(system, dataset)
                for c in self.copies_by_point.get(p.id, [])
                if c.store == store
            }
        )

    def any_deleted(self, system: str, dataset: str, store: str) -> bool:
        """Return whether a copy of one of the dataset's complete points in the store has
        status deleted."""
        if self.copy_history is not None:
            return (system, dataset, store) in self.copy_history.deleted
        return any(
            c.status == "deleted" and c.store == store
            for p in self.points_of(system, dataset)
            for c in self.copies_by_point.get(p.id, [])
        )

    def dropped_within(self, system: str, dataset: str, days: int) -> tuple[int, str | None]:
        """Return the dataset's complete points finished less than `days` before the time of
        judgement, held nowhere then, with a deleted copy: (how many, the oldest one's id)."""
        window = days * DAY_SECONDS
        if self.copy_history is not None:
            if window not in self.copy_history.dropped:
                raise ValueError(f"the snapshot holds no dropped points for {days} days")
            count, first = self.copy_history.dropped[window].get((system, dataset), (0, None))
            return count, first
        dropped = [
            p
            for p in self.points_of(system, dataset)
            if self.at_ts - p.finished_at < window
            and not any(c.present_at(self.at_ts) for c in self.copies_by_point.get(p.id, []))
            and any(c.status == "deleted" for c in self.copies_by_point.get(p.id, []))
        ]
        return len(dropped), dropped[0].id if dropped else None

    @cached_property
    def point_history(self) -> PointHistory | None:
        """Return the snapshot's point aggregates (model/point_history.py), or None when it
        holds every point. Raise ValueError when taken at another instant or business date."""
        history = self.snapshot.point_history
        if history is not None and (history.at, history.today) != (
            self.at_ts,
            self.business_date,
        ):
            raise ValueError(
                f"the snapshot's points are bounded for {history.at} (business date "
                f"{history.today}), not for {self.at_ts} ({self.business_date})"
            )
        return history

    def point_count(self, system: str, dataset: str) -> int:
        """Return how many complete points of the dataset finished by the time of judgement."""
        if self.point_history is not None:
            summary = self.point_history.datasets.get((system, dataset))
            return summary.count if summary else 0
        return len(self._points_by_dataset.get((system, dataset), ()))

    def _backup_dates(self, system: str, dataset: str) -> list[date]:
        today = self.business_date
        points = self._points_by_dataset.get((system, dataset), ())
        return sorted({p.business_date for p in points if p.business_date <= today})

    def last_backup_date(self, system: str, dataset: str) -> date | None:
        """Return the newest business date of the dataset's complete full backups up to
        today's, or None when there is none."""
        if self.point_history is not None:
            summary = self.point_history.datasets.get((system, dataset))
            return summary.last if summary else None
        dates = self._backup_dates(system, dataset)
        return dates[-1] if dates else None

    def backup_intervals(self, system: str, dataset: str, limit: int) -> list[Gap]:
        """Return this year's gaps between consecutive business dates of the dataset's full
        backups up to today's (from, to, working days between), in date order: every one,
        or (from the snapshot's aggregates) the first longest and every one over `limit`.
        Raise CalendarDataMissing when the calendar cannot count one of them."""
        history = self.point_history
        if history is None:
            dates = self._backup_dates(system, dataset)
            year_start = date(self.business_date.year, 1, 1)
            return [
                (a, b, self.calendar.working_days_between(a, b))
                for a, b in zip(dates, dates[1:], strict=False)
                if b >= year_start
            ]
        if history.limit != limit:
            raise ValueError(f"the snapshot's gaps are chosen for {history.limit}, not {limit}")
        summary = history.datasets.get((system, dataset))
        if summary is None:
            return []
        gaps: list[Gap] = []
        if summary.before is not None and summary.first is not None:
            gap = self.calendar.working_days_between(summary.before, summary.first)
            gaps.append((summary.before, summary.first, gap))
        if summary.dates > 1 and not history.counted:
            raise CalendarDataMissing(self.business_date.year)
        return gaps + list(summary.gaps)

    def encrypted_points(self) -> int:
        """Return how many recovery points in the catalog (any status, any time) carry a
        cipher."""
        if self.point_history is not None:
            return self.point_history.encrypted
        return sum(1 for p in self.snapshot.points if p.cipher)

    @cached_property
    def points_in_order(self) -> tuple[PointRow, ...]:
        """Return every point of the snapshot (any status, any time) by (finished_at, id)."""
        return tuple(sorted(self.snapshot.points, key=lambda p: (p.finished_at, p.id)))

    def rule(self, rule_id: str) -> Rule:
        """Given a rule id, return the rule (with the site's stricter values)."""
        return self.pack.get(rule_id)

    def finding(
        self,
        rule_id: str,
        subject: str,
        status: Status,
        *,
        measured: str,
        threshold: str,
        evidence: str,
        reason: str,
    ) -> Finding:
        """Return a finding of a rule with its clause and severity filled in from the pack."""
        rule = self.rule(rule_id)
        return Finding(
            rule_id,
            subject,
            status,
            measured,
            threshold,
            rule.clause,
            rule.severity,
            evidence,
            reason,
        )

    def datasets(self) -> list[tuple[System, str]]:
        """Return (system, dataset name) for every configured dataset, in config order."""
        return [
            (system, dataset.name) for system in self.config.systems for dataset in system.datasets
        ]


Evaluator = Callable[[Context], list[Finding]]


def local_day(moment: float) -> date:
    """Given a UTC epoch time, return its Asia/Shanghai calendar date."""
    return datetime.fromtimestamp(moment, SHANGHAI).date()


def days(seconds: float) -> str:
    """Given a duration in seconds, return it in days, truncated to two decimals ("6.99… d")."""
    return figures.days(seconds)
