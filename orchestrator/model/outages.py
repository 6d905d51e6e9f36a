"""The outage ledger: network faults as intervals, observed stretches, and probe counters.

The tables are in `model/schema.py` with the rest of the catalog. Times are integer epoch
milliseconds, so the availability arithmetic is exact.

A year of one path costs a few rows: one per fault, one per stretch of uninterrupted
observation (a stretch ends when the orchestrator stops, a probe round gives no data, or the
probe loop stalls), and one counter row per path and vantage.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, and_, insert, select, update

from orchestrator.model.catalog import Catalog
from orchestrator.model.outage_records import (
    Closed,
    Event,
    ObservationRecord,
    Opened,
    OutageRecord,
    PathHistory,
    Resumed,
)
from orchestrator.model.schema import network_observations, network_outages, network_probe_counters

logger = logging.getLogger(__name__)
# How long an open observation counts as live for a path no longer configured (the default
# interval of 15 s and timeout of 3 s).
UNCONFIGURED_STALE_MS = 48_000


def _latest_observed_ms(connection: Connection, target: str) -> int | None:
    row = connection.execute(
        select(network_observations.c.last_ms)
        .where(network_observations.c.target == target)
        .order_by(network_observations.c.last_ms.desc())
        .limit(1)
    ).first()
    return int(row.last_ms) if row else None


def close_open(
    catalog: Catalog, reason: str, targets: Iterable[str] | None = None
) -> list[dict[str, Any]]:
    """Close every open observation and fault (of targets, or all) at the last probe round
    known for its path; reason is "stop" (clean shutdown) or "restart" (left open by a process
    that died). Return the faults closed, for the log."""
    wanted = None if targets is None else set(targets)
    closed: list[dict[str, Any]] = []
    with catalog.begin() as connection:
        for row in connection.execute(
            select(network_outages).where(network_outages.c.end_ms.is_(None))
        ).all():
            if wanted is not None and row.target not in wanted:
                continue
            last = _latest_observed_ms(connection, row.target)
            end = max(int(row.start_ms), last or 0)
            connection.execute(
                update(network_outages)
                .where(network_outages.c.id == row.id)
                .values(end_ms=end, closed_by=reason)
            )
            closed.append({"target": row.target, "start_ms": int(row.start_ms), "end_ms": end})
        query = update(network_observations).where(network_observations.c.end_ms.is_(None))
        if wanted is not None:
            query = query.where(network_observations.c.target.in_(wanted))
        connection.execute(query.values(end_ms=network_observations.c.last_ms, closed_by=reason))
    for item in closed:
        logger.warning(
            "outage of %s left open; closed at its last observation (%s, %s)",
            item["target"],
            item["end_ms"],
            reason,
        )
    return closed


def _count_probes(connection: Connection, target: str, results: Mapping[str, bool | None]) -> None:
    for vantage, ok in results.items():
        if ok is None:
            continue
        where = and_(
            network_probe_counters.c.target == target, network_probe_counters.c.vantage == vantage
        )
        changed = connection.execute(
            update(network_probe_counters)
            .where(where)
            .values(
                probes_total=network_probe_counters.c.probes_total + 1,
                failures_total=network_probe_counters.c.failures_total + (0 if ok else 1),
            )
        ).rowcount
        if not changed:
            connection.execute(
                insert(network_probe_counters).values(
                    target=target, vantage=vantage, probes_total=1, failures_total=0 if ok else 1
                )
            )


def _extend_observation(
    connection: Connection, target: str, at_ms: int, has_data: bool, stale_ms: int
) -> None:
    current = connection.execute(
        select(network_observations)
        .where(
            and_(network_observations.c.target == target, network_observations.c.end_ms.is_(None))
        )
        .order_by(network_observations.c.id.desc())
        .limit(1)
    ).first()
    if current is not None and has_data and at_ms - int(current.last_ms) <= stale_ms:
        connection.execute(
            update(network_observations)
            .where(network_observations.c.id == current.id)
            .values(last_ms=max(at_ms, int(current.last_ms)))
        )
        return
    if current is not None:
        connection.execute(
            update(network_observations)
            .where(network_observations.c.id == current.id)
            .values(end_ms=current.last_ms, closed_by="gap" if has_data else "no_data")
        )
    if has_data:
        connection.execute(
            insert(network_observations).values(target=target, start_ms=at_ms, last_ms=at_ms)
        )


def _apply_event(connection: Connection, target: str, event: Event) -> None:
    if isinstance(event, Opened):
        connection.execute(
            insert(network_outages).values(
                target=target,
                start_ms=event.start_ms,
                declared_ms=event.declared_ms,
                vantages=list(event.vantages),
                merged=0,
            )
        )
    elif isinstance(event, Resumed):
        row = connection.execute(
            select(network_outages)
            .where(
                and_(
                    network_outages.c.target == target,
                    network_outages.c.end_ms == event.previous_end_ms,
                )
            )
            .order_by(network_outages.c.id.desc())
            .limit(1)
        ).first()
        if row is None:
            raise RuntimeError(f"{target}: no fault ending at {event.previous_end_ms} to resume")
        connection.execute(
            update(network_outages)
            .where(network_outages.c.id == row.id)
            .values(end_ms=None, closed_by=None, merged=row.merged + 1)
        )
    elif isinstance(event, Closed):
        connection.execute(
            update(network_outages)
            .where(and_(network_outages.c.target == target, network_outages.c.end_ms.is_(None)))
            .values(end_ms=event.end_ms, closed_by="probe")
        )


def record_round(
    catalog: Catalog,
    target: str,
    at_ms: int,
    results: Mapping[str, bool | None],
    events: Sequence[Event],
    stale_ms: int,
) -> None:
    """Record one probe round of a path in one transaction: the probe counters, the
    observation stretch (extended when every vantage answered, closed otherwise) and the
    tracker's events."""
    has_data = all(ok is not None for ok in results.values())
    with catalog.begin() as connection:
        _count_probes(connection, target, results)
        _extend_observation(connection, target, at_ms, has_data, stale_ms)
        for event in events:
            _apply_event(connection, target, event)


def load_history(connection: Connection, target: str, stale_ms: int) -> PathHistory:
    """Return everything the ledger holds about one path."""
    outages = tuple(
        OutageRecord(int(r.start_ms), None if r.end_ms is None else int(r.end_ms), r.closed_by)
        for r in connection.execute(
            select(network_outages)
            .where(network_outages.c.target == target)
            .order_by(network_outages.c.start_ms)
        )
    )
    observations = tuple(
        ObservationRecord(
            int(r.start_ms), int(r.last_ms), None if r.end_ms is None else int(r.end_ms)
        )
        for r in connection.execute(
            select(network_observations)
            .where(network_observations.c.target == target)
            .order_by(network_observations.c.start_ms)
        )
    )
    return PathHistory(target=target, outages=outages, observations=observations, stale_ms=stale_ms)


def load_outage_rows(connection: Connection, target: str | None = None) -> list[Any]:
    """Return the ledger's fault rows (of one target, or all), oldest first."""
    query = select(network_outages).order_by(network_outages.c.start_ms)
    if target is not None:
        query = query.where(network_outages.c.target == target)
    return list(connection.execute(query))


def load_counters(connection: Connection) -> list[Any]:
    """Return every (target, vantage, probes_total, failures_total) row."""
    return list(connection.execute(select(network_probe_counters)))


def read_ledger(connection: Connection) -> dict[str, PathHistory]:
    """Given a catalog connection, return {path name: history} for every path the ledger
    knows, with the default stale limit (judgement re-applies each configured path's own)."""
    targets = {
        row[0]
        for table in (network_outages, network_observations)
        for row in connection.execute(select(table.c.target).distinct())
    }
    return {
        target: load_history(connection, target, UNCONFIGURED_STALE_MS)
        for target in sorted(targets)
    }
