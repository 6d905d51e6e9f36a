"""Structural checks of dr.yml: what would make a copy not off-site or a rule meaningless.

Each check returns problems, one line each, prefixed with the path inside dr.yml, so the loader
can report them all at once (exit 2, nothing written). They run after the schema has passed.

Assumptions (docs/operators.md, "What check-config refuses"):

* Off-site (260号 第七条 「备份数据要实行异地保存」) means a store at another site **in another
  city** than the system's production site; both cities must therefore be declared. 260号 gives no
  distance (requirements A8); a different city is the least a same-building or same-campus copy
  cannot fake.
* Two stores "are the same" when one's location contains the other's on the same server
  (orchestrator/store_overlap.py): the same directory or a directory below it for `file://`
  (as directories on this machine: symlinks resolved, a bind mount found by device and inode
  or through the mount table)
  and `sftp://`, the same bucket and an equal or nested prefix for `s3://`. SFTP hosts and S3
  endpoints are compared by the machine they reach from the controller, with their port, not
  by name (`localhost` is `127.0.0.1`, a DNS alias is its target); a name the controller
  cannot resolve is compared by name. Assumption: the controller resolves names as the sites
  do.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from orchestrator.addresses import Resolver, machines_of
from orchestrator.store_overlap import same_store_reason

OFFSITE_CLAUSE = "260号 第七条 「备份数据要实行异地保存」"
BIDIRECTIONAL_CLAUSE = "260号 第十一条 「支持双向恢复」"


def find_duplicates(names: Iterable[str]) -> list[str]:
    """Given names, return those that occur more than once, sorted."""
    return sorted(name for name, count in Counter(names).items() if count > 1)


def duplicate_problems(config: Any) -> list[str]:
    """Given the config model, return a problem for every site, store or system named twice and
    every dataset path a system lists twice (validation would read one definition, the runtime
    could use the other)."""
    problems = [
        f"{field}: {kind} name {name!r} is defined more than once (names must be unique)"
        for field, kind, items in (
            ("sites", "site", config.sites),
            ("stores", "store", config.stores),
            ("systems", "system", config.systems),
        )
        for name in find_duplicates(item.name for item in items)
    ]
    for index, system in enumerate(config.systems):
        targets = [_dataset_target(dataset) for dataset in system.datasets]
        for target in find_duplicates(target for target in targets if target):
            problems.append(
                f"systems[{index}].datasets: {target} is backed up by more than one dataset"
            )
    return problems


def _dataset_target(dataset: Any) -> str | None:
    if dataset.path:
        return f"path {posixpath.normpath(dataset.path)!r}"
    if dataset.database:
        return f"database {dataset.database!r} (port {dataset.port or 'default'})"
    return None


def site_problems(config: Any) -> list[str]:
    """Given the config model, return problems where a system's disaster-recovery site is its
    production site or a site of the wrong role."""
    roles = {site.name: site.role for site in config.sites}
    problems = []
    for index, system in enumerate(config.systems):
        where = f"systems[{index}]"
        if system.disaster_recovery_site == system.production_site:
            problems.append(
                f"{where}.disaster_recovery_site: {system.disaster_recovery_site!r} is also the "
                f"production site; {BIDIRECTIONAL_CLAUSE} needs a separate centre"
            )
        elif roles.get(system.disaster_recovery_site) == "production":
            problems.append(
                f"{where}.disaster_recovery_site: site {system.disaster_recovery_site!r} has role "
                "production; expected a site of role disaster_recovery"
            )
    return problems


def offsite_problems(
    config: Any, store_url: Callable[[str], str], machines: Resolver = machines_of
) -> list[str]:
    """Given the config model, a function returning a store's absolute URL and one returning the
    machines a host name reaches, return problems where a system's off-site store is not
    off-site: the same store or location as its primary store, or a store in the production
    site's city (or with no city declared to tell)."""
    sites = {site.name: site for site in config.sites}
    stores = {store.name: store for store in config.stores}
    problems = []
    for index, system in enumerate(config.systems):
        where = f"systems[{index}].offsite_store"
        primary, offsite = stores.get(system.primary_store), stores.get(system.offsite_store)
        production = sites.get(system.production_site)
        if primary is None or offsite is None or production is None:
            continue  # unknown names are reported by the reference check
        if primary.name == offsite.name:
            problems.append(
                f"{where}: {offsite.name!r} is also the primary store; {OFFSITE_CLAUSE} needs a "
                "second store at another site"
            )
            continue
        urls = store_url(primary.name), store_url(offsite.name)
        reason = same_store_reason(*urls, primary, offsite, machines)
        if reason:
            problems.append(
                f"{where}: store {offsite.name!r} ({urls[1]}) is the same location as the "
                f"primary store {primary.name!r} ({urls[0]}) or inside it ({reason}); "
                f"{OFFSITE_CLAUSE} needs a separate store"
            )
        problems += _city_problems(where, system, production, sites.get(offsite.site), offsite)
    return problems


def _city_problems(where: str, system: Any, production: Any, remote: Any, store: Any) -> list[str]:
    if remote is None or remote.name == production.name:
        return []  # the production-site case is reported by the reference check
    missing = [
        f"sites.{site.name}.city"
        for site in (production, remote)
        if not (site.city and site.city.strip())
    ]
    if missing:
        return [
            f"{where}: cannot show store {store.name!r} is off-site: {', '.join(missing)} "
            f"not declared; {OFFSITE_CLAUSE} needs the production and off-site cities"
        ]
    if _same_city(production.city, remote.city):
        return [
            f"{where}: store {store.name!r} is at site {remote.name!r} in "
            f"{remote.city.strip()}, the same city as the production site "
            f"{production.name!r}; {OFFSITE_CLAUSE} needs another city"
        ]
    return []


def _same_city(first: str, second: str) -> bool:
    return "".join(first.split()).casefold() == "".join(second.split()).casefold()


def verification_problems(config: Any) -> list[str]:
    """Given the config model, return problems that make the validity-check rules meaningless:
    no share of the sample read from the off-site copy."""
    share = config.verification.offsite_share
    if share <= 0:
        return [
            f"verification.offsite_share: {share:g} reads nothing from the off-site copy; "
            "requirement A4 restores part of every sample from it: expected more than 0"
        ]
    return []


def structural_problems(config: Any, store_url: Callable[[str], str]) -> list[str]:
    """Given the config model and a store-URL resolver, return every structural problem but
    duplicate names (the schema's own cross-check reports those first)."""
    problems: Sequence[str] = (
        site_problems(config) + offsite_problems(config, store_url) + verification_problems(config)
    )
    return list(problems)
