"""`drctl catalog upgrade`: bring the catalog's schema to this drctl's newest revision."""

from __future__ import annotations

from orchestrator.cli.call import Call
from orchestrator.errors import ExitCode
from orchestrator.model.catalog import Catalog
from orchestrator.model.migrate import upgrade_catalog


def upgrade(call: Call) -> int:
    config = call.site().config
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
