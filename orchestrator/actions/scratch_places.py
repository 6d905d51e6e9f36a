"""Which directory or database a scratch-area row may have removed: only one drctl makes.

The sweep of what a killed run left (actions/scratch.py) removes the directory a journal row
names, on the host it names, with everything in it. drctl journals only directories it makes:
a spool directory inside a site's `spool` on that site's host (a backup's, a restore's, a
check's), and a check's `<data_root>/<system>` in the verification enclave (a `vault` site,
actions/verify_enclave.py). A row naming anything else — a live dataset, a site's data_root,
the spool itself, a path on another host — was not written by drctl (an edited catalog, or
a config changed since): it is refused, left journalled and reported on every run until an
operator removes it, and nothing is removed. As for a killed drill's row
(actions/scratch_drill.py), whatever the catalog says, live data is never touched.

A `database` row is dropped only when its scratch database has the name drctl gives one
(`<database>_dr_<8 hex>`, model/engines.py) and is no live database of the config: a live
database may happen to end that way (`ledger_dr_20261130`).
"""

from __future__ import annotations

import re

from orchestrator.host_paths import inside, normal, overlap
from orchestrator.model.drill_targets import live_databases
from orchestrator.model.settings import Config

SCRATCH_DATABASE = re.compile(r"_dr_[0-9a-f]{8}$")  # model/engines.py scratch_database_name


def refused_path(config: Config, host: str, location: str) -> str | None:
    """Given the config and a host_path row's host and directory, return why it may not be
    removed, or None when it is a directory drctl makes there."""
    path = normal(location)
    sites = [site for site in config.sites if site.host == host]
    spools = [normal(site.spool) for site in sites]
    enclave = {
        normal(f"{site.data_root}/{system.name}")
        for site in sites
        if site.role == "vault"
        for system in config.systems
    }
    if not path.startswith("/") or not (
        path in enclave or any(inside(path, spool) and path != spool for spool in spools)
    ):
        return (
            f"{location} is not a directory drctl makes on {host} (one inside a site's spool "
            "there, or a check's directory in the verification enclave)"
        )
    real = [site for site in config.sites if site.role != "vault"]
    for site in real:
        if inside(site.data_root, path):
            return f"{location} is or holds site {site.name}'s data_root {site.data_root}"
        for system in config.systems:
            for dataset in system.datasets:
                live = f"{site.data_root}/{dataset.path}"
                if dataset.path and overlap(path, live):
                    return f"{location} is, holds or lies in live dataset {live}"
    return None


def refused_database(config: Config, name: str) -> str | None:
    """Given the config and a database row's scratch database, return why it may not be
    dropped, or None when it is a scratch database drctl names."""
    if not SCRATCH_DATABASE.search(name):
        return f"{name!r} is not a scratch database name drctl makes (<database>_dr_<8 hex>)"
    if name.lower() in live_databases(config):
        return f"{name!r} is a live database of the config"
    return None
