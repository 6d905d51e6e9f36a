"""`drctl catalog upgrade`: bring the catalog's schema to this drctl's newest revision."""

from __future__ import annotations

from pathlib import Path

from orchestrator.cli.call import Call
from orchestrator.errors import ExitCode
from orchestrator.model.catalog import Catalog
from orchestrator.model.migrate import current_revision, head_revision, upgrade_catalog


def upgrade(call: Call) -> int:
    config = call.site().config
    if call.args.dry_run:
        return _dry_run(call)
    config.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    catalog = Catalog(config.catalog_url)
    try:
        before, after = upgrade_catalog(catalog)
    finally:
        catalog.close()
    text = (
        f"catalog {catalog.safe_url}: schema {after}, already current"
        if before == after
        else f"catalog {catalog.safe_url}: schema {before or 'none'} → {after}"
    )
    call.out.emit({"catalog": catalog.safe_url, "from": before, "to": after}, text)
    return ExitCode.OK


def _dry_run(call: Call) -> int:
    config = call.site().config
    url, head = config.catalog_url, head_revision()
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        before = None
    else:
        catalog = Catalog(url)
        try:
            before = current_revision(catalog)
        finally:
            catalog.close()
    text = (
        f"catalog: schema {head}, already current; nothing to do"
        if before == head
        else f"catalog: would upgrade schema {before or 'none'} → {head}; nothing changed"
    )
    call.out.emit({"dry_run": True, "from": before, "to": head}, text)
    return ExitCode.OK
