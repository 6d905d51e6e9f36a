"""Evaluators of the backup rules: backup.full_interval, backup.rotation and offsite.copy.

Each is a pure function of a Context; docs/rules.md explains every interpretation choice.
"""

from __future__ import annotations

from datetime import date

from orchestrator.errors import CalendarDataMissing
from orchestrator.model.settings import System
from orchestrator.model.snapshot import CopyRow, FailureRow, PointRow
from orchestrator.rules.deadlines import backup_deadline
from orchestrator.rules.finding import (
    DAY_SECONDS,
    Context,
    Finding,
    days,
)
from orchestrator.rules.status import Status

FULL_INTERVAL = "backup.full_interval"
ROTATION = "backup.rotation"
OFFSITE = "offsite.copy"


def evaluate_full_interval(ctx: Context) -> list[Finding]:
    """Judge, per dataset, the working days between consecutive complete full backups (by
    business date) this year and the open gap up to the time of judgement. The instant the
    open gap exceeds the limit comes from `backup_deadline`, which the exporter publishes for
    the alerts; without calendar data the gap cannot be counted and the finding is unknown."""
    rule = ctx.rule(FULL_INTERVAL)
    limit = int(rule.value("max_working_days"))
    threshold = f"≤ {limit} working day(s) between full backups (法定工作日)"
    return [
        _full_interval_finding(ctx, system.name, name, limit, threshold)
        for system, name in ctx.datasets()
    ]


def _full_interval_finding(
    ctx: Context, system: str, name: str, limit: int, threshold: str
) -> Finding:
    """Judge one dataset's gaps between full backups (see evaluate_full_interval)."""

    def make(status: Status, measured: str, reason: str, evidence: str = "") -> Finding:
        return ctx.finding(
            FULL_INTERVAL,
            f"{system}/{name}",
            status,
            measured=measured,
            threshold=threshold,
            evidence=evidence
            or f"catalog recovery_points; calendar {ctx.calendar.source_description()}",
            reason=reason,
        )

    deadline = backup_deadline(ctx, system, name)
    if deadline is None:
        return make(
            Status.UNKNOWN,
            "no full backup recorded",
            "the catalog holds no recovery point yet: nothing to judge",
        )
    today = ctx.business_date
    last_date = ctx.last_backup_date(system, name)
    late = ctx.at_ts >= deadline.due_at
    try:
        if last_date is None:
            start = deadline.since
            gap = ctx.calendar.working_days_between(start, today)
            return make(
                Status.NON_COMPLIANT if late else Status.UNKNOWN,
                f"no full backup; {gap} working day(s) since the catalog's history began ({start})",
                "no complete full backup of this dataset is recorded"
                + ("" if late else f"; the first is due within {limit} working day(s) of {start}"),
            )
        intervals = ctx.backup_intervals(system, name, limit)
        open_gap = ctx.calendar.working_days_between(last_date, today)
    except CalendarDataMissing as missing:
        return make(Status.UNKNOWN, "cannot count working days", str(missing))
    longest = max(intervals, key=lambda item: item[2], default=None)
    measured = f"open gap {open_gap} working day(s) since business date {last_date}"
    if longest:
        measured += f"; longest in {today.year}: {longest[2]} ({longest[0]} → {longest[1]})"
    last = ctx.points_of(system, name)[-1]
    evidence = (
        f"{ctx.point_count(system, name)} complete full backups in the catalog, last {last.id} "
        f"(business date {last.business_date}); calendar "
        f"{ctx.calendar.source_description()}"
    )
    status, reason = _gap_verdict(intervals, open_gap, late, limit, today.year)
    return make(status, measured, reason, evidence)


def _gap_verdict(
    intervals: list[tuple[date, date, int]], open_gap: int, late: bool, limit: int, year: int
) -> tuple[Status, str]:
    """Given this year's gaps between full backups, the open gap and whether it is overdue,
    return (status, reason)."""
    broken = [(a, b, n) for a, b, n in intervals if n > limit]
    if late:
        return (
            Status.NON_COMPLIANT,
            f"no full backup for {open_gap} working days: the open gap exceeds {limit}",
        )
    if broken:
        listing = ", ".join(f"{a} → {b} ({n})" for a, b, n in broken)
        return (
            Status.PARTIAL,
            f"backed up within the limit now, but {len(broken)} gap(s) this year "
            f"exceeded it: {listing}",
        )
    return Status.COMPLIANT, f"every gap in {year} and the open gap are within {limit}"


def _store_generations(
    ctx: Context, points: list[PointRow], store: str
) -> tuple[set[date], list[CopyRow]]:
    """Return (business dates still kept in the store, copies there lost or bad)."""
    kept: set[date] = set()
    damaged: list[CopyRow] = []
    for point in points:
        for copy in ctx.copies_by_point.get(point.id, []):
            if copy.store != store:
                continue
            if copy.present_at(ctx.at_ts):
                kept.add(point.business_date)
            elif copy.status in ("lost", "bad"):
                damaged.append(copy)
    return kept, damaged


def evaluate_rotation(ctx: Context) -> list[Finding]:
    """Judge, per dataset, that no copy was deleted within the rotation period of being
    written and that every store keeps the newest generations (business dates)."""
    rule = ctx.rule(ROTATION)
    min_days = int(rule.value("min_days"))
    generations = int(rule.value("min_generations"))
    threshold = (
        f"no copy deleted within {min_days}×24 h of being written, on every store; "
        f"≥ {generations} generations kept"
    )
    return [
        _rotation_finding(ctx, system, name, min_days, generations, threshold)
        for system, name in ctx.datasets()
    ]


def _rotation_finding(
    ctx: Context, system: System, name: str, min_days: int, generations: int, threshold: str
) -> Finding:
    """Judge one dataset's rotation (see evaluate_rotation)."""
    subject = f"{system.name}/{name}"
    points = ctx.points_of(system.name, name)
    bad = [
        f
        for f in ctx.snapshot.failures
        if (f.system, f.dataset) == (system.name, name) and f.open_at(ctx.at_ts)
    ]
    if not points and not bad:
        return ctx.finding(
            ROTATION,
            subject,
            Status.UNKNOWN,
            measured="no recovery point recorded",
            threshold=threshold,
            evidence="catalog recovery_points, copies",
            reason="nothing has been backed up yet, so there is no rotation to judge",
        )
    early = [
        c
        for p in points
        for c in ctx.copies_by_point.get(p.id, [])
        if c.status == "deleted"
        and c.deleted_at is not None
        and c.deleted_at <= ctx.at_ts
        and c.deleted_at - c.written_at < min_days * DAY_SECONDS
    ]
    parts, short, damaged_recent = _stores_kept(ctx, system, name, points, min_days, generations)
    bad_points = sorted({f.recovery_point_id for f in bad})
    measured = "; ".join(parts) + f"; {len(early)} early deletion(s)"
    measured += f"; {len(bad_points)} bad recovery point(s) open"
    status, reason = _rotation_verdict(bad, early, short, damaged_recent, min_days, generations)
    return ctx.finding(
        ROTATION,
        subject,
        status,
        measured=measured,
        threshold=threshold,
        evidence="catalog copies (status, written_at, deleted_at, delete_reason) and "
        "integrity_failures",
        reason=reason,
    )


def _stores_kept(
    ctx: Context,
    system: System,
    name: str,
    points: list[PointRow],
    min_days: int,
    generations: int,
) -> tuple[list[str], list[str], list[CopyRow]]:
    """Return, over the system's primary and off-site stores: what each keeps (one text per
    store), the stores keeping fewer than `generations` although older copies were deleted,
    and the copies lost or bad within the rotation period whose generation is kept nowhere
    on that store."""
    parts: list[str] = []
    short: list[str] = []
    damaged_recent: list[CopyRow] = []
    by_id = {p.id: p for p in points}
    for store in dict.fromkeys((system.primary_store, system.offsite_store)):
        kept, damaged = _store_generations(ctx, points, store)
        written = ctx.generations_written(system.name, name, store)
        parts.append(f"{store}: {len(kept)} generation(s) kept of {written} written")
        if len(kept) < generations and ctx.any_deleted(system.name, name, store):
            short.append(store)
        damaged_recent += [
            c
            for c in damaged
            if c.written_at > ctx.at_ts - min_days * DAY_SECONDS
            and by_id[c.recovery_point_id].business_date not in kept
        ]
    return parts, short, damaged_recent


def _rotation_verdict(
    bad: list[FailureRow],
    early: list[CopyRow],
    short: list[str],
    damaged_recent: list[CopyRow],
    min_days: int,
    generations: int,
) -> tuple[Status, str]:
    """Return (status, reason) of one dataset's rotation: bad points first, then early
    deletions, short stores, and damaged recent generations."""
    if bad:
        listing = ", ".join(
            f"{f.recovery_point_id}@{f.store} {f.file}: {f.kind}" for f in bad[:5]
        ) + (" …" if len(bad) > 5 else "")
        return (
            Status.NON_COMPLIANT,
            f"stored recovery point(s) no longer match what was written (写保护 broken or "
            f"media damaged): {listing}; bad for good, open until a newer point passes "
            "`drctl verify --recheck`",
        )
    if early:
        listing = ", ".join(
            f"{c.recovery_point_id}@{c.store} after {days(c.deleted_at - c.written_at)}"
            for c in early
            if c.deleted_at is not None
        )
        return Status.NON_COMPLIANT, f"deleted before {min_days} days: {listing}"
    if short:
        return (
            Status.NON_COMPLIANT,
            f"fewer than {generations} generations kept on {', '.join(short)} although "
            "older ones were deleted",
        )
    if damaged_recent:
        listing = ", ".join(f"{c.recovery_point_id}@{c.store} ({c.status})" for c in damaged_recent)
        return (
            Status.PARTIAL,
            f"generations within the rotation period were lost or damaged: {listing}",
        )
    return (
        Status.COMPLIANT,
        "nothing deleted early; every store keeps the newest "
        f"{generations} generations, or all written so far while the history is "
        f"shorter than {generations} generations",
    )


def _had_offsite_copy(copy: CopyRow, production_site: str, at: float) -> bool:
    return (
        copy.site != production_site
        and copy.verified_at is not None
        and copy.verified_at <= at
        and (copy.present_at(at) or copy.status == "deleted")
    )


def evaluate_offsite(ctx: Context) -> list[Finding]:
    """Judge, per dataset, that every retained complete recovery point older than the lag has
    a checksum-verified copy at a site other than its system's production site."""
    rule = ctx.rule(OFFSITE)
    lag = float(rule.value("max_lag_hours")) * 3600
    threshold = (
        f"verified copy at a site ≠ production site within "
        f"{rule.threshold('max_lag_hours').display} h"
    )
    return [_offsite_finding(ctx, system, name, lag, threshold) for system, name in ctx.datasets()]


def _offsite_finding(
    ctx: Context, system: System, name: str, lag: float, threshold: str
) -> Finding:
    """Judge one dataset's off-site copies (see evaluate_offsite)."""
    subject = f"{system.name}/{name}"
    retained = [
        p
        for p in ctx.points_of(system.name, name)
        if any(c.present_at(ctx.at_ts) for c in ctx.copies_by_point.get(p.id, []))
    ]
    if not retained:
        return ctx.finding(
            OFFSITE,
            subject,
            Status.UNKNOWN,
            measured="no retained recovery point",
            threshold=threshold,
            evidence="catalog recovery_points, copies",
            reason="no recovery point is kept anywhere, so there is nothing to copy",
        )
    missing, late, pending = _offsite_state(ctx, system, retained, lag)
    due = len(retained) - len(pending)
    if missing:
        status, reason = (
            Status.NON_COMPLIANT,
            "no verified off-site copy: "
            + ", ".join(p.id for p in missing[:5])
            + (" …" if len(missing) > 5 else ""),
        )
    elif late:
        status, reason = (
            Status.PARTIAL,
            "copied off-site later than the lag: " + ", ".join(p.id for p in late[:5]),
        )
    else:
        status, reason = (
            Status.COMPLIANT,
            "every due recovery point has a verified copy at another site",
        )
    return ctx.finding(
        OFFSITE,
        subject,
        status,
        measured=f"{due - len(missing)} of {due} due point(s) copied off-site; "
        f"{len(pending)} within the lag; {len(late)} late",
        threshold=threshold,
        evidence=f"catalog copies at sites other than {system.production_site} "
        "(verified_at set by re-hashing at the destination)",
        reason=reason,
    )


def _offsite_state(
    ctx: Context, system: System, retained: list[PointRow], lag: float
) -> tuple[list[PointRow], list[PointRow], list[PointRow]]:
    """Return the retained points (missing an off-site copy past the lag, copied later than
    the lag, not copied yet but within the lag)."""
    missing: list[PointRow] = []
    late: list[PointRow] = []
    pending: list[PointRow] = []
    for point in retained:
        offsite = [
            c
            for c in ctx.copies_by_point.get(point.id, [])
            if _had_offsite_copy(c, system.production_site, ctx.at_ts)
        ]
        if not offsite:
            (pending if point.finished_at + lag > ctx.at_ts else missing).append(point)
        elif min(c.verified_at or 0.0 for c in offsite) - point.finished_at > lag:
            late.append(point)
    return missing, late, pending
