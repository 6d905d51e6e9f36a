"""The mirroring ledger: one row per probe of one replication link (260号 第十一条).

The table is `schema.replication_probes` (migration 0004).
Times are UTC epoch seconds. A probe row says what the receiving end reported at `probed_at`;
the rule dr.mirroring (rules/evaluate_mirroring.py) turns consecutive rows into healthy and
unhealthy stretches of time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    insert,
    select,
)

from orchestrator.model.link_probe import ProbeRow
from orchestrator.model.schema import replication_probes


def record_probe(
    connection: Connection,
    *,
    system: str,
    link: str,
    engine: str,
    from_site: str,
    to_site: str,
    probed_at: float,
    result: Mapping[str, Any],
) -> None:
    """Insert one probe's result (a dr_replication `dr_result`)."""
    lag_bytes = result.get("lag_bytes")
    connection.execute(
        insert(replication_probes).values(
            system=system,
            link=link,
            engine=engine,
            from_site=from_site,
            to_site=to_site,
            probed_at=probed_at,
            state=str(result.get("state", "unreachable")),
            lag_seconds=result.get("lag_seconds"),
            lag_bytes=int(lag_bytes) if lag_bytes is not None else None,
            io_running=result.get("io_running"),
            sql_running=result.get("sql_running"),
            error=result.get("error"),
            detail=dict(result.get("detail") or {}),
        )
    )


def _columns() -> tuple[Any, ...]:
    """The columns a ProbeRow holds, in its order (the JSON detail is not read: a year of
    probes every 5 minutes is 105 120 rows per link, read at every scrape)."""
    table = replication_probes
    return (
        table.c.system,
        table.c.link,
        table.c.engine,
        table.c.probed_at,
        table.c.state,
        table.c.lag_seconds,
        table.c.lag_bytes,
        table.c.error,
    )


def load_probes(connection: Connection, since: float | None = None) -> list[ProbeRow]:
    """Return every probe (from `since` on when given, plus the last one before it, which
    still stands at `since`), oldest first."""
    table = replication_probes
    query = select(*_columns()).order_by(table.c.probed_at, table.c.id)
    rows = []
    if since is not None:
        query = query.where(table.c.probed_at >= since)
        rows += _last_before(connection, since)
    rows += [ProbeRow(*row) for row in connection.execute(query)]
    return sorted(rows, key=lambda row: row.probed_at)


def _last_before(connection: Connection, since: float) -> list[ProbeRow]:
    table = replication_probes
    keys = connection.execute(
        select(table.c.system, table.c.link).where(table.c.probed_at < since).distinct()
    )
    found = []
    for system, link in keys:
        row = connection.execute(
            select(*_columns())
            .where(and_(table.c.system == system, table.c.link == link, table.c.probed_at < since))
            .order_by(table.c.probed_at.desc(), table.c.id.desc())
            .limit(1)
        ).first()
        if row is not None:
            found.append(ProbeRow(*row))
    return found
