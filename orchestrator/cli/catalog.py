"""`drctl catalog upgrade`: bring the catalog's schema to this drctl's newest revision and,
on a PostgreSQL catalog, the task queue's schema in the same database to this drctl's
procrastinate (docs/deploy.md, "The queue's schema")."""

from __future__ import annotations

from orchestrator.cli.call import Call
from orchestrator.errors import ExitCode
from orchestrator.model.catalog import Catalog, sqlite_file
from orchestrator.model.migrate import current_revision, head_revision, upgrade_catalog
from orchestrator.runtime import check_state_dir


def upgrade(call: Call) -> int:
    config = call.site().config
    if call.args.dry_run:
        return _dry_run(call)
    check_state_dir(config, create=True)  # a file there: exit 2, as for every command
    catalog = Catalog(config.catalog_url)
    try:
        before, after = upgrade_catalog(catalog)
    finally:
        catalog.close()
    queue = _upgrade_queue(config.catalog_url)
    text = (
        f"catalog {catalog.safe_url}: schema {after}, already current"
        if before == after
        else f"catalog {catalog.safe_url}: schema {before or 'none'} → {after}"
    )
    text += "" if queue is None else f"; task queue schema {queue}"
    document = {"catalog": catalog.safe_url, "from": before, "to": after, "queue": queue}
    call.out.emit(document, text)
    return ExitCode.OK


def _upgrade_queue(url: str) -> str | None:
    """On a PostgreSQL catalog apply the task queue's schema unless it is there; return
    `applied` or `current` (None: SQLite, no queue). An outdated one raises
    CatalogSchemaMismatch naming procrastinate's migrations."""
    from orchestrator.actions.task_queue import apply_queue_schema, queue_conninfo

    conninfo = queue_conninfo(url)
    if conninfo is None:
        return None
    return "applied" if apply_queue_schema(conninfo) else "current"


def _queue_state(url: str) -> str | None:
    from orchestrator.actions.task_queue import queue_conninfo, queue_schema_state

    conninfo = queue_conninfo(url)
    return None if conninfo is None else queue_schema_state(conninfo)


def _dry_run(call: Call) -> int:
    config = call.site().config
    url, head = config.catalog_url, head_revision()
    if (file := sqlite_file(url)) is not None and not file.exists():
        before = None
    else:
        catalog = Catalog(url)
        try:
            before = current_revision(catalog)
        finally:
            catalog.close()
    queue = _queue_state(url)  # an outdated queue schema raises, naming its migrations
    text = (
        f"catalog: schema {head}, already current"
        if before == head
        else f"catalog: would upgrade schema {before or 'none'} → {head}"
    )
    if queue is not None:
        text += "; task queue schema " + ("current" if queue == "current" else "would be made")
    text += "; nothing changed" if before != head or queue == "absent" else "; nothing to do"
    call.out.emit({"dry_run": True, "from": before, "to": head, "queue": queue}, text)
    return ExitCode.OK
