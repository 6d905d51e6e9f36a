"""Structural checks of dr.yml: what would make a copy not off-site or a rule meaningless.

Each check returns problems, one line each, prefixed with the path inside dr.yml, so the loader
can report them all at once (exit 2, nothing written). They run after the schema has passed.

Assumptions (docs/operators.md, "What check-config refuses"):

* Off-site (260号 第七条 「备份数据要实行异地保存」) means a store at another site **in another
  city** than the system's production site; both cities must therefore be declared. 260号 gives no
  distance (requirements A8); a different city is the least a same-building or same-campus copy
  cannot fake.
* Two stores "are the same" when one's location contains the other's: the same directory or a
  directory below it for `file://` and `sftp://`, the same bucket and an equal or nested prefix
  (on the same endpoint) for `s3://`. A `file://` location is compared as the directory it is
  on this machine, not as text: symlinks resolved, and a directory reached twice (a bind mount,
  a second mount of one share) is one directory. SFTP hosts and S3 endpoints are compared by
  name (an alias of the same server is not detected).
"""

from __future__ import annotations

import os
import posixpath
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

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


def offsite_problems(config: Any, store_url: Callable[[str], str]) -> list[str]:
    """Given the config model and a function returning a store's absolute URL, return problems
    where a system's off-site store is not off-site: the same store or location as its primary
    store, or a store in the production site's city (or with no city declared to tell)."""
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
        if stores_overlap(store_url(primary.name), store_url(offsite.name), primary, offsite):
            problems.append(
                f"{where}: store {offsite.name!r} ({store_url(offsite.name)}) is the same "
                f"location as the primary store {primary.name!r} ({store_url(primary.name)}) "
                f"or inside it; {OFFSITE_CLAUSE} needs a separate store"
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


def stores_overlap(first_url: str, second_url: str, first: Any, second: Any) -> bool:
    """Given two stores' absolute URLs and definitions, return whether one's location is the
    other's or lies inside it (so a copy into one lands in the other)."""
    first_key, second_key = _location(first_url, first), _location(second_url, second)
    if first_key[0] != second_key[0]:
        return False
    if _nested(first_key[1], second_key[1]) or _nested(second_key[1], first_key[1]):
        return True
    if first_key[0] == ("file",):
        return _same_tree(first_key[1], second_key[1]) or _same_tree(second_key[1], first_key[1])
    return False


def _identity(path: str) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def _same_tree(outer: str, inner: str) -> bool:
    """Return whether inner, or a directory above it, is outer's directory reached by another
    path (a bind mount, a second mount): compared by device and inode, where both exist."""
    wanted = _identity(outer)
    if wanted is None:
        return False
    path = inner
    while True:
        if _identity(path) == wanted:
            return True
        parent = posixpath.dirname(path)
        if parent == path:
            return False
        path = parent


def _location(url: str, store: Any) -> tuple[tuple[str, ...], str]:
    """Return (where: scheme and server, path) of a store URL, normalised for comparison."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "s3":
        endpoint = (getattr(store, "endpoint_url", None) or "aws").rstrip("/").lower()
        return (scheme, endpoint, parts.netloc), _normal_path(parts.path)
    if scheme == "sftp":
        host = (parts.hostname or "").lower()
        return (scheme, host, str(parts.port or 22)), _normal_path(parts.path)
    return (scheme,), _normal_path(os.path.realpath(_normal_path(parts.netloc + parts.path)))


def _normal_path(path: str) -> str:
    normal = posixpath.normpath("/" + path.strip())
    return normal.rstrip("/") or "/"


def _nested(outer: str, inner: str) -> bool:
    return inner == outer or inner.startswith(outer.rstrip("/") + "/")


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
