"""Where each drill action may run, by what it does to a site's live data.

| effect      | actions                                   | may run at                           |
|-------------|-------------------------------------------|--------------------------------------|
| reads       | backup, copy_offsite, compare_sites,      | any site (what the daily jobs do)    |
|             | reprotect                                 |                                      |
| isolated    | test_failover, test_failback, wipe        | any site: drill-scoped targets only  |
| replaces    | failover, failback                        | sandbox sites; real sites only in a  |
|             |                                           | `switchover` scenario, into the      |
|             |                                           | system's disaster-recovery site      |
| synthetic   | workload (seed or write postings)         | sandbox sites only                   |
| destroys    | disaster (datasets and stores)            | sandbox sites only                   |

A site is a sandbox only when dr.yml says so (`sites[].sandbox: true`, set by the embedded
sandbox) and it reaches no live data of a site that is not one; everything else is treated as
holding real data. It reaches another site's data when its host is that site's (a dataset has
one database name at every site: on a shared host, the sandbox's databases are the real
site's), and — when the caller located the sites (integrations/site_locations.py: resolved
addresses, not names) — when both reach one database server, or both are one machine with
overlapping `data_root`s (on this controller, also as resolved here: links, mounts). A
disaster removes the `file://` stores it names: each must be a
sandbox site's and apart from every store of a site that is not one (model/store_overlap.py:
the same directory or one inside the other, symbolic links resolved) and from such a site's
`data_root` (paths compared as on one machine, `..` and `//` folded, and placed through this
machine's mount table, orchestrator/mounts.py: a store root under a real
site's data_root is refused even when the two are different machines, the safe side).
A switchover replaces only its own system's data: a dataset whose
live name (engine and database, whatever port each gives; or a path, one place or nested) at
the site it takes over is also another system's live dataset there is refused.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestrator.addresses import CONTROLLER
from orchestrator.host_paths import normal, overlap
from orchestrator.model.settings import Config, Dataset
from orchestrator.mounts import local_mounts, same_place
from orchestrator.store_overlap import make_place, same_store_reason

if TYPE_CHECKING:
    from orchestrator.model.scenario import Scenario, Step

EFFECTS = {
    "backup": "reads",
    "copy_offsite": "reads",
    "compare_sites": "reads",
    "reprotect": "reads",
    "test_failover": "isolated",
    "test_failback": "isolated",
    "wipe": "isolated",
    "failover": "replaces",
    "failback": "replaces",
    "workload": "synthetic",
    "disaster": "destroys",
}
TEST_FAILOVER_HINT = (
    "on real sites a drill is a test failover (actions test_failover, test_failback, wipe: "
    "restores into drill-scoped targets, see drills/site-failover.yml)"
)
SWITCHOVER_HINT = (
    "a real, destructive switchover is its own scenario kind (kind: switchover) and runs only "
    "with a recorded plan (drctl plan switchover --record), --confirm <system> and a verified "
    "recovery point from the last 24 h"
)
STORE_HINT = (
    "give the sandbox site a store of its own, a directory apart from every real site's stores "
    "and data_root, or drop the store from destroy_stores"
)


def _effect_targets(step: Step, config: Config) -> list[tuple[str, str]]:
    """Return [(site, what the step does there)] for a step that writes live data."""
    effect = EFFECTS[step.action]
    if effect == "synthetic" and step.site:
        return [(step.site, f"seeds or writes synthetic postings into the live {step.dataset}")]
    if effect == "replaces" and step.to_site:
        return [(step.to_site, "replaces the live datasets with a recovery point")]
    if effect != "destroys" or not step.site:
        return []
    targets = [(step.site, "destroys the live datasets")]
    stores = {store.name: store for store in config.stores}
    for name in step.destroy_stores:
        if name in stores:
            targets.append((stores[name].site, f"destroys store {name!r}"))
    return targets


@dataclass(frozen=True)
class SiteLocation:
    """Where a site's live data is: its machine's addresses, its data_root, and the database
    servers its host reaches ('engine address:port')."""

    machine: frozenset[str]
    data_root: str
    databases: frozenset[str]


def _reaches(mine: SiteLocation, theirs: SiteLocation) -> str | None:
    """Return how a site at `mine` reaches live data at `theirs`, or None."""
    servers = sorted(mine.databases & theirs.databases)
    if servers:
        return f"reach the same database server ({servers[0]})"
    machines = sorted(mine.machine & theirs.machine)
    if machines and _one_place(machines, mine.data_root, theirs.data_root):
        return f"are one machine ({machines[0]}) with overlapping data_root {mine.data_root!r}"
    return None


def _one_place(machines: list[str], one: str, other: str) -> bool:
    """Return whether two data_roots on one machine overlap: as named; and, when that machine
    is this controller, whose files are here to look at, as resolved (links followed) and as
    placed through its mount table (a bind mount). Another machine's are compared by name."""
    if overlap(one, other):
        return True
    if CONTROLLER not in machines:
        return False
    first, second = os.path.realpath(one), os.path.realpath(other)
    return overlap(first, second) or same_place(first, second, local_mounts()) is not None


def _shared_host(
    site: str, config: Config, locations: Mapping[str, SiteLocation] | None
) -> str | None:
    """Return why a sandbox site is not one: it shares its host (and so that host's database
    servers, where a dataset has its live name) with a site that is not a sandbox, or, as
    located, reaches that site's database server or data_root under another name."""
    host = config.site(site).host
    real = [other for other in config.sites if not other.sandbox]
    for other in real:
        if other.host == host:
            return (
                f"a sandbox site, but its host {host!r} is also the host of site "
                f"{other.name!r}, which is not a sandbox site: its databases there are that "
                "site's live ones"
            )
    mine = (locations or {}).get(site)
    for other in real:
        theirs = (locations or {}).get(other.name)
        how = None if mine is None or theirs is None else _reaches(mine, theirs)
        if how is not None:
            return (
                f"a sandbox site, but its host {host!r} and site {other.name!r}'s host "
                f"{other.host!r} {how}, and {other.name!r} is not a sandbox site: its live "
                "data is reached from here"
            )
    return None


def _switchover_target(index: int, step: Step, scenario: Scenario, config: Config) -> list[str]:
    """Return a problem when a switchover's failover restores anywhere but the system's
    disaster-recovery site: the site that takes over is the only one whose live data it may
    replace (restoring into the production site would put an older point over the serving
    database, every posting since lost)."""
    system = next((s for s in config.systems if s.name == scenario.system), None)
    if system is None or step.to_site == system.disaster_recovery_site:
        return []
    what = (
        "its production site, whose live data it would replace with an older recovery point"
        if step.to_site == system.production_site
        else "another site"
    )
    return [
        f"steps[{index}].to_site: a switchover makes system {system.name!r}'s "
        f"disaster-recovery site {system.disaster_recovery_site!r} take over and replaces only "
        f"that site's live data; {step.to_site!r} is {what}: refused, nothing was touched"
    ]


def _live_name(dataset: Dataset) -> str:
    """Return what names a dataset's live data at a site: engine and database, or path."""
    if dataset.path:
        return f"path {normal(dataset.path)}"
    return f"{dataset.engine} database {dataset.database!r}"


def _one_live_dataset(mine: Dataset, theirs: Dataset) -> bool:
    """Return whether two datasets are one live dataset at a site: one engine and database
    name, whatever port each gives (the roles connect to the host's `dr_<engine>_port` when
    it sets one, and a port left out is the default: the safe side is one server), or paths
    that are one place or one inside the other (`..` and `//` folded)."""
    if mine.path and theirs.path:
        return overlap(mine.path, theirs.path)
    return not (mine.path or theirs.path) and _live_name(mine) == _live_name(theirs)


def _other_systems_data(index: int, scenario: Scenario, site: str, config: Config) -> list[str]:
    """Return a problem for each dataset of the switched system that is also another system's
    live dataset at the site it takes over (its production or its disaster-recovery data:
    one site, one server, one name; or a path inside the other's): the switchover would
    replace it, and --confirm named only the switched system."""
    mine = next((s for s in config.systems if s.name == scenario.system), None)
    if mine is None:
        return []
    problems = []
    for other in config.systems:
        if other.name == mine.name or site not in (
            other.production_site,
            other.disaster_recovery_site,
        ):
            continue
        role = "production" if site == other.production_site else "disaster-recovery"
        problems += [
            f"steps[{index}].to_site: the switchover of {mine.name!r} would replace "
            f"{_live_name(dataset)} at site {site!r} ({dataset.name}), which is also "
            f"system {other.name!r}'s live {role} dataset {theirs.name!r} "
            f"({_live_name(theirs)}) there: refused, nothing was touched"
            for dataset in mine.datasets
            for theirs in other.datasets
            if _one_live_dataset(dataset, theirs)
        ]
    return problems


def _destroyed_store_problems(
    index: int, step: Step, config: Config, urls: Mapping[str, str]
) -> list[str]:
    """Return a problem for each file:// store of a sandbox site that the disaster step would
    remove although it is a real site's store under another name or holds, or lies in, a real
    site's data_root (a store of a site that is not a sandbox is refused with its site)."""
    real = {site.name: site for site in config.sites if not site.sandbox}
    stores = {store.name: store for store in config.stores}
    problems = []
    for name in step.destroy_stores:
        store = stores.get(name)
        url = urls.get(name, store.url if store else "")
        if store is None or store.site in real or not url.startswith("file://"):
            continue
        why = [
            f"the same location as store {other.name!r} of site {other.site!r} ({reason})"
            for other in config.stores
            if other.site in real
            and (reason := same_store_reason(url, urls.get(other.name, other.url), store, other))
        ]
        root, mounts = make_place(url, store).path, local_mounts()
        why += [
            f"overlapping site {site.name!r}'s data_root {site.data_root!r}"
            for site in real.values()
            if overlap(root, site.data_root)
            or same_place(root, os.path.realpath(site.data_root), mounts)
        ]
        problems += [
            f"steps[{index}].destroy_stores: store {name!r} ({url}) is {reason}, and that site "
            f"is not a sandbox site: refused, nothing was touched; {STORE_HINT}"
            for reason in why
        ]
    return problems


def check_safety(
    scenario: Scenario,
    config: Config,
    locations: Mapping[str, SiteLocation] | None = None,
    urls: Mapping[str, str] | None = None,
) -> list[str]:
    """Return one problem per step that would seed, write, replace or destroy live data at a
    site not marked sandbox, or at a sandbox site that reaches a real site's live data (same
    host; or, with the sites' locations, same database server or machine and data_root) — a
    `switchover` may replace; nothing else may. Each names the step's path, the site and its
    dr.yml path, and what to do instead. `urls`: the stores' absolute URLs (dr.yml's, made
    absolute; without it dr.yml's as written)."""
    index_of = {site.name: index for index, site in enumerate(config.sites)}
    sandbox = {site.name for site in config.sites if site.sandbox}
    problems = []
    for index, step in enumerate(scenario.steps):
        effect = EFFECTS[step.action]
        if effect == "replaces" and scenario.kind == "switchover":
            problems += _switchover_target(index, step, scenario, config)
            problems += _other_systems_data(index, scenario, step.to_site or "", config)
            continue
        if effect == "destroys":
            problems += _destroyed_store_problems(index, step, config, urls or {})
        for site, what in _effect_targets(step, config):
            if site not in index_of:
                continue
            why = (
                _shared_host(site, config, locations)
                if site in sandbox
                else f"not a sandbox site (dr.yml sites[{index_of[site]}].sandbox is not true)"
            )
            if why is None:
                continue
            hint = SWITCHOVER_HINT if effect == "replaces" else TEST_FAILOVER_HINT
            problems.append(
                f"steps[{index}].action: {step.action} (step {step.name}) {what} at site "
                f"{site!r}, which is {why}: refused, nothing was touched; {hint}"
            )
    return problems
