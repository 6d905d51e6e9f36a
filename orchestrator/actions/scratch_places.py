"""Which directory a scratch-area row of kind `host_path` may have removed: one drctl makes.

The sweep of what a killed run left (actions/scratch.py) removes the directory a journal row
names, on the host it names, with everything in it. drctl journals only directories it makes:
a spool directory inside a site's `spool` on that site's host (a backup's, a restore's, a
check's), and a check's `<data_root>/<system>` in the verification enclave (a `vault` site,
actions/verify_enclave.py). A row naming anything else — a live dataset, a site's data_root,
the spool itself, a path on another host — was not written by drctl (an edited catalog, or
a config changed since): it is refused, left journalled and reported on every run until an
operator removes it, and nothing is removed. As for a killed drill's row
(actions/scratch_drill.py), whatever the catalog says, live data is never touched.
"""

from __future__ import annotations

from orchestrator.model.host_paths import inside, normal, overlap
from orchestrator.model.settings import Config


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
