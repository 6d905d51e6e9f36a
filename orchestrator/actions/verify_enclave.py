"""The verification enclave (A14): where validity checks restore, and its wipe.

The enclave is the site named `verification` (role `vault`), or else the only `vault` site;
its host is in the inventory group `verification`. A check refuses a site that is not a vault,
since a restore overwrites the site's dataset paths. After every check (passed, failed or
aborted) playbooks/wipe.yml removes what was restored and the wipe is recorded.
"""

from __future__ import annotations

import posixpath
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from orchestrator.actions.host_places import HostPlaces
from orchestrator.actions.scratch import close_area, open_area
from orchestrator.actions.site_locations import site_locations
from orchestrator.errors import InputError
from orchestrator.integrations.ansible import run_playbook
from orchestrator.model.engines import spool_root
from orchestrator.model.settings import Config, Dataset, Site
from orchestrator.runtime import Runtime
from orchestrator.timefmt import iso_utc

ENCLAVE_NAME = "verification"
PURPOSE = "verify"


def enclave_site(config: Config, source: str) -> Site:
    """Return the verification enclave: the site named `verification`, else the only site of
    role `vault`. Raise InputError if there is none, or if it is not a vault (a restore there
    would overwrite live data)."""
    named = [s for s in config.sites if s.name == ENCLAVE_NAME]
    vaults = [s for s in config.sites if s.role == "vault"]
    site = named[0] if named else vaults[0] if len(vaults) == 1 else None
    if site is None:
        raise InputError(
            source,
            [
                "sites: expected a site named 'verification' with role "
                "'vault' (the verification enclave, A14)"
            ],
        )
    if site.role != "vault":
        raise InputError(
            source,
            [
                f"sites.{site.name}.role: expected 'vault' for the "
                f"verification enclave, got {site.role!r}"
            ],
        )
    return site


def check_enclave_apart(runtime: Runtime, enclave: Site) -> None:
    """Raise InputError (exit 2, nothing restored) when a directory a check restores into or
    wipes in the enclave (`<data_root>/<system>`, its spool) is, contains or lies inside the
    data_root of another site on the same machine (located by resolved address,
    actions/site_locations.py): the check would restore over that site's live files and its
    wipe remove them."""
    config = runtime.config.model
    located = site_locations(config, runtime.config.inventory)
    mine = located[enclave.name].machine
    places = HostPlaces(runtime.host_files(enclave.host))
    problems = []
    for system in config.systems:
        paths, _ = enclave_paths(runtime, enclave, [system.name])
        for site in config.sites:
            if site.name == enclave.name or not mine & located[site.name].machine:
                continue
            for path in paths:
                if how := places.clash(path, site.data_root):
                    problems.append(
                        f"sites.{enclave.name}: the verification enclave restores into and wipes "
                        f"{path} ({system.name}), which overlaps site {site.name!r}'s data_root "
                        f"{site.data_root} on the same machine ({how}): refused, nothing restored"
                    )
    if problems:
        raise InputError(str(runtime.config.path), problems)


def enclave_paths(
    runtime: Runtime, enclave: Site, systems: Iterable[str]
) -> tuple[list[str], list[str]]:
    """Return (paths, databases) a check of the given systems may restore into in the enclave:
    the directories to wipe, and the database datasets (restored into scratch databases,
    dropped by their module and journalled by restore.py)."""
    config = runtime.config.model
    paths: list[str] = []
    databases: list[str] = []
    for system_name in sorted(set(systems)):
        system = config.system(system_name)
        for dataset in system.datasets:
            if dataset.path:
                paths.append(posixpath.join(enclave.data_root, system_name))
            else:
                databases.append(f"{system_name}/{dataset.name}")
        paths.append(spool_root(enclave, PURPOSE, system_name))
    return sorted(set(paths)), databases


def enclave_target(enclave: Site, system: str, dataset: Dataset) -> str:
    """Where a check restores a files or sqlite dataset: `<data_root>/<system>/<path>` in the
    enclave, so that systems whose datasets share a relative path never restore into one
    place (a check restores several systems at once, verify_sample.py)."""
    return posixpath.join(enclave.data_root, system, str(dataset.path))


def wipe_enclave(
    runtime: Runtime, enclave: Site, systems: Iterable[str], events: list[Path]
) -> dict[str, Any]:
    """Remove everything a check restored into the enclave for the given systems' datasets;
    return the wipe record."""
    paths, databases = enclave_paths(runtime, enclave, systems)
    started = time.time()
    run = run_playbook(
        "wipe.yml",
        inventory=runtime.config.inventory,
        extravars={
            "dr_host": enclave.host,
            "dr_paths": paths,
            "dr_purpose": "verification-enclave",
        },
        ident=f"verify-wipe-{enclave.name}-{time.time_ns()}",
        work_dir=runtime.work_dir,
        limit=enclave.host,
    )
    events.append(run.events_path)
    record: dict[str, Any] = {
        "site": enclave.name,
        "host": enclave.host,
        "paths": paths,
        "started_at": iso_utc(started),
        "finished_at": iso_utc(time.time()),
        "result": "wiped" if run.ok else "failed",
    }
    if run.ok:
        detail = run.result(enclave.host, "wipe:verification-enclave")
        record["removed"] = list(detail.get("removed", []))
        record["remaining"] = list(detail.get("remaining", []))
    else:
        record["error"] = "; ".join(run.failures or [run.status])
    if databases:
        record["databases_not_covered"] = databases
    return record


def journal_enclave(
    runtime: Runtime, enclave: Site, systems: Iterable[str], *, job: str
) -> list[int]:
    """Journal the enclave's directories a check of the given systems restores into before
    anything is restored (actions/scratch.py), so a check killed with its data there is wiped
    by the next run; return the journal's area ids for wipe_journalled."""
    return [
        open_area(runtime, "host_path", enclave.host, path, job=job)
        for path in enclave_paths(runtime, enclave, systems)[0]
    ]


def wipe_journalled(
    runtime: Runtime, enclave: Site, systems: Iterable[str], events: list[Path], areas: list[int]
) -> dict[str, Any]:
    """Wipe the enclave for the given systems (wipe_enclave) and forget its journalled areas
    only once the wipe is recorded as done; return the wipe record."""
    wipe = wipe_enclave(runtime, enclave, systems, events)
    if wipe.get("result") == "wiped":
        for area in areas:
            close_area(runtime, area)
    return wipe
