"""Whether the catalog looks lost: `drctl status` warns when it records no recovery point at
all, and `drctl catalog rebuild` (actions/catalog_rebuild.py) puts one back. Apart from the
rebuild so that `status` does not load what a rebuild needs (stores, evidence, signatures)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from orchestrator.model import schema

if TYPE_CHECKING:
    from orchestrator.runtime import Runtime


def catalog_is_empty(runtime: Runtime) -> bool:
    """Return whether the catalog records no recovery point at all (a lost catalog looks so)."""
    with runtime.catalog.begin() as connection:
        first = connection.execute(select(schema.recovery_points.c.id).limit(1)).first()
    return first is None
