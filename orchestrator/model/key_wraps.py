"""The key wraps drctl wrote beside points, per store (table key_wraps): recorded by a key
rotation and by a copy that carries them, read by a restore and by `verify --all`, which count a
recorded wrap absent from its store as a missing file of the point (docs/keys.md)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from orchestrator.model.schema import key_wraps


def record_wraps(
    connection: Connection, point: str, store: str, kek_ids: Iterable[str], at: float
) -> None:
    """Record that the wraps of point under kek_ids are in store (once each: a wrap recorded
    already, or meanwhile by another process, is left as it is)."""
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    for kek_id in sorted(set(kek_ids)):
        row = {"recovery_point_id": point, "store": store, "kek_id": kek_id, "recorded_at": at}
        connection.execute(insert(key_wraps).values(**row).on_conflict_do_nothing())


def wrapped_under(connection: Connection, point: str, store: str) -> set[str]:
    """Return the KEK ids under which drctl wrote point's data key beside it in store."""
    rows = connection.execute(
        select(key_wraps.c.kek_id).where(
            key_wraps.c.recovery_point_id == point, key_wraps.c.store == store
        )
    )
    return {row.kek_id for row in rows}


def wraps_in_store(connection: Connection, store: str) -> dict[str, set[str]]:
    """Return, for every point with a recorded wrap in store, the KEK ids it is wrapped under."""
    found: dict[str, set[str]] = {}
    rows = connection.execute(
        select(key_wraps.c.recovery_point_id, key_wraps.c.kek_id).where(key_wraps.c.store == store)
    )
    for row in rows:
        found.setdefault(row.recovery_point_id, set()).add(row.kek_id)
    return found
