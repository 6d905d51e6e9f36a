"""Deleting one copy for `drctl retention`: the catalog row first, then the files.

A copy is marked `deleted` (with its reason, approver and deleted_at) and that is committed
BEFORE any of its files is removed. A reader that opened the copy while it was `present` and
then finds a file missing re-reads the row and sees the copy was removed by retention: it
judges nothing (actions/removed_copies.py), where it used to mark a good point bad.

When the removal fails (a store fault), or the process is killed between the commit and the
removal, the row stays `deleted`: the copy no longer counts anywhere (rules, plans, copy-offsite,
restores), and the files left in the store are leftovers. Putting the row back to `present`
would count a copy whose removal may have got half-way (its manifest gone first). The next
retention pass removes leftovers (`sweep_leftovers`): a point listed in a store whose copy row
there is `deleted` (within the last 35 days) and none of whose files was written after that
deletion was recorded (a newer file is a new copy being written, e.g. by copy-offsite, and is
kept). A removal that failed is reported by the run (`drctl retention` exits 3) and retried by
the next one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, exists, or_, select, update

from orchestrator.errors import OrchestratorError
from orchestrator.integrations.stores.base import MANIFEST_NAME, Store, point_prefix
from orchestrator.model import catalog as cat
from orchestrator.model import schema
from orchestrator.rules.rotation import HARD_FLOOR_SECONDS
from orchestrator.runtime import Runtime

logger = logging.getLogger(__name__)
DELETED = "deleted"  # row marked, files removed
LEFT = "files left"  # row marked, files not removed (a store fault): the next pass removes them
SKIPPED = "skipped"  # nothing done
# Leftovers are looked for among copies deleted this recently (not the whole history, which
# at a bank's scale is millions of rows): a removal that keeps failing is named by every pass
# that tries it (exit 3) long before it ages out.
LEFTOVER_SWEEP_SECONDS = 35 * 86400


@dataclass(frozen=True)
class Deletion:
    """One copy of one recovery point to delete from one store, and why."""

    recovery_point_id: str
    system: str
    dataset: str
    store: str
    business_date: date
    catalog_written_at: float
    store_written_at: float
    reason: str


def delete_copy(runtime: Runtime, deletion: Deletion, approver: str | None) -> str:
    """Given a copy rotation chose, re-read its store write time, mark its row deleted
    (committed), then remove its files; return DELETED, LEFT (the removal failed; the row
    stays deleted) or SKIPPED (rewritten within 7×24 h, unreadable, or no longer present)."""
    store = runtime.store(deletion.store)
    point = (deletion.system, deletion.dataset, deletion.recovery_point_id)
    label = f"{'/'.join(point)} from {deletion.store}"
    key = f"{point_prefix(*point)}/{MANIFEST_NAME}"
    try:
        fresh = store.written_at(key)
    except (OSError, OrchestratorError) as error:
        logger.warning(
            "retention: %s vanished or unreadable before deletion (%s); skipped", key, error
        )
        return SKIPPED
    if cat.now() - max(fresh, deletion.catalog_written_at) < HARD_FLOOR_SECONDS:
        logger.warning(
            "retention: %s:%s was rewritten within 7×24 h; not deleted", deletion.store, key
        )
        return SKIPPED
    if not _mark_deleted(runtime, deletion, approver):
        logger.warning(
            "retention: %s is no longer present, its point no longer complete, or it has no "
            "verified copy at another site any more (changed since the plan); not deleted",
            label,
        )
        return SKIPPED
    try:
        store.delete_point(*point)
    except (OSError, OrchestratorError) as error:
        logger.error(
            "retention: %s is recorded deleted but its files could not be removed (%s); "
            "the next retention pass removes them",
            label,
            error,
        )
        return LEFT
    logger.info("retention: deleted %s (%s)", label, deletion.reason)
    return DELETED


def _mark_deleted(runtime: Runtime, deletion: Deletion, approver: str | None) -> bool:
    """Mark the copy deleted if rotation may still take it, in the same statement: the copy
    is present, its point still complete, and a copy at the production site still has a
    present, verified copy at another site. The plan was made from an earlier read, and a check
    running meanwhile may have marked the point bad (its other copy corrupt: this one may be
    its only good one) or rotation's off-site copy may be gone. Return whether it was marked
    (committed)."""
    table, other, points = schema.copies, schema.copies.alias("other"), schema.recovery_points
    production = runtime.config.model.system(deletion.system).production_site
    still_complete = exists().where(
        points.c.id == deletion.recovery_point_id, points.c.status == "complete"
    )
    copied_off_site = exists().where(
        other.c.recovery_point_id == deletion.recovery_point_id,
        other.c.status == "present",
        other.c.verified_at.is_not(None),
        other.c.site != production,
    )
    with runtime.catalog.begin() as connection:
        marked = connection.execute(
            update(table)
            .where(
                and_(
                    table.c.recovery_point_id == deletion.recovery_point_id,
                    table.c.store == deletion.store,
                    table.c.status == "present",
                    still_complete,
                    or_(table.c.site != production, copied_off_site),
                )
            )
            .values(
                status="deleted",
                delete_reason=deletion.reason,
                approver=approver,
                deleted_at=cat.now(),
            )
        )
    return bool(marked.rowcount)


def sweep_leftovers(runtime: Runtime, dry_run: bool) -> list[str]:
    """Remove (unless dry_run) the files left in the stores of copies the catalog records
    deleted (a failed removal, or a process killed after the commit); return one line per
    leftover found, saying what was done. A store that cannot be opened or listed is skipped
    (logged): its leftovers wait for the next pass."""
    table = schema.copies
    since = cat.now() - LEFTOVER_SWEEP_SECONDS
    query = select(table.c.store, table.c.recovery_point_id, table.c.deleted_at).where(
        table.c.status == "deleted", table.c.deleted_at >= since
    )
    with runtime.catalog.begin() as connection:
        deleted = {
            (store, point): float(deleted_at or 0.0)
            for store, point, deleted_at in connection.execute(query)
        }
    lines: list[str] = []
    for name in sorted({store for store, _point in deleted}):
        try:
            store = runtime.store(name)
            listed = list(store.list_points())
        except (StopIteration, NotImplementedError, OSError, OrchestratorError) as error:
            logger.warning("retention: store %s not swept for leftovers (%s)", name, error)
            continue
        for system, dataset, point in listed:
            deleted_at = deleted.get((name, point))
            if deleted_at is not None:
                lines.append(_sweep(store, (system, dataset, point), deleted_at, dry_run))
    return lines


def _sweep(store: Store, point: tuple[str, str, str], deleted_at: float, dry_run: bool) -> str:
    """Remove one leftover unless a file of it is newer than its deletion; return the line."""
    prefix = point_prefix(*point)
    label = f"leftover of deleted copy {'/'.join(point)} in {store.name}"
    try:
        newest = max((store.written_at(key) for key in store.list_keys(prefix)), default=0.0)
        if newest >= deleted_at:
            return f"{label}: a file was written after its deletion was recorded, kept"
        if dry_run:
            return f"{label}: would be removed"
        store.delete_point(*point)
    except (OSError, OrchestratorError) as error:
        logger.error("retention: %s: not removed (%s)", label, error)
        return f"{label}: not removed ({error}); the next pass retries"
    logger.info("retention: removed %s", label)
    return f"{label}: removed"
