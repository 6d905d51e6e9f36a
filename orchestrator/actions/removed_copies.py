"""A copy retention removed while a reader was reading it: not judged, never a failure.

`drctl retention` marks a copy `deleted` in the catalog before it removes the copy's files
(actions/retention_delete.py). A reader that opened the copy while it was still `present` (a
validity check, a re-check, `verify --all`, `copy-offsite` reading its source, a restore
choosing its point) and then finds one of its files or its manifest missing re-reads the copy's
row here, in a fresh transaction, before it judges: a copy that is `deleted` by then was
removed by retention meanwhile, and the reader records nothing bad for it (no bad mark, no
integrity failure, no incident) and says so. A missing file of a copy still `present` (or
`bad`) stays a failure, exactly as before.

A reader given that very point (a switchover restoring the point it cleared) cannot fall back
to another: it stops with RemovedWhileRead, an infrastructure error (exit 3, the drill
`aborted`: no verdict), never a failed check (exit 1) it did not make.
"""

from __future__ import annotations

import logging

from orchestrator.errors import InfrastructureError
from orchestrator.model import catalog as cat
from orchestrator.runtime import Runtime

logger = logging.getLogger(__name__)
REMOVED = "removed by retention while it was checked (not judged)"


class RemovedWhileRead(InfrastructureError):
    """A given point's copy that retention removed while it was read: nothing was judged,
    and the job cannot go on with the point it was given (exit 3, nothing recorded bad)."""

    def __init__(self, where: str) -> None:
        self.where = where
        super().__init__(
            f"{where}: {REMOVED}; the point it was given is gone from this store, nothing was "
            "restored from it: run it again (a switchover then clears a point still present)"
        )


def removed_by_retention(runtime: Runtime, recovery_point_id: str, store: str) -> bool:
    """Given a copy (point id, store) a reader found a file or the manifest of missing,
    return whether the catalog, read now in a fresh transaction, records that copy deleted."""
    with runtime.catalog.begin() as connection:
        status = cat.copy_status(connection, recovery_point_id, store)
    return status == "deleted"


def removed_note(reader: str, label: str, store: str) -> str:
    """Return (and log) the line a reader states for a copy retention removed as it read it."""
    note = f"{label} in {store}: {REMOVED}"
    logger.warning("%s: %s", reader, note)
    return note
