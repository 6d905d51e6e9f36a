"""What the Python side knows about each engine: its parameters for the playbook roles.

How to dump, restore and fingerprint lives in the dr.orchestrator collection
(playbooks/collections/ansible_collections/dr/orchestrator/): the module dr_datasets, which
drctl's playbooks run through the role datasets, checks the item made here against its
argument spec (the keys the roles dr.orchestrator.engine_<engine> take) and derives each
engine's paths from it.
"""

from __future__ import annotations

import posixpath
import secrets
from typing import Any

from orchestrator.model.settings import Dataset, Site

# Engines whose dataset is a path on the host; the others are databases on a server.
FILE_ENGINES = ("files", "sqlite")


def make_playbook_item(site: Site, dataset: Dataset, spool_root: str) -> dict[str, Any]:
    """Given a site, a dataset and the spool root on the site's host, return the item the
    engine roles take (one element of `dr_datasets`; only the keys its engine role accepts)."""
    item: dict[str, Any] = {
        "name": dataset.name,
        "engine": dataset.engine,
        "spool": posixpath.join(spool_root, dataset.name),
        "invariants": dict(dataset.invariants),
    }
    if dataset.engine in FILE_ENGINES:
        item["live_path"] = posixpath.join(site.data_root, dataset.path or "")
        return item
    for key in ("database", "port", "user", "password_env"):
        value = getattr(dataset, key)
        if value is not None:
            item[key] = value
    return item


def spool_root(site: Site, purpose: str, system: str) -> str:
    """Return the spool directory on a site's host for one purpose (backup, restore, verify)."""
    return posixpath.join(site.spool, f"{purpose}-{system}")


DATABASE_ENGINES = ("postgresql", "mariadb")


def scratch_database_name(database: str) -> str:
    """Return a new name for the scratch database a restore of database makes beside it
    (`<database>_dr_<8 hex>`, as the engine modules name it themselves)."""
    return f"{database[:40]}_dr_{secrets.token_hex(4)}"
