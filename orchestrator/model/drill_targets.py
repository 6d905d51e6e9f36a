"""Drill-scoped restore targets: database names and paths derived from the drill id.

A test failover restores into these and never into a live dataset. The names are made here and
nowhere else, and `check_isolated` refuses (exit 2) any target that is not derived from the
drill id or that equals, contains or lies inside a live dataset of the config — so a wrong
config or a bug cannot turn a drill into a write to production.

- databases (postgresql, mariadb): `drill_<drill id>_<leg>_<n>_<dataset>`, lower case, at most
  63 characters (PostgreSQL's identifier limit; MariaDB allows 64);
- paths (files, sqlite): under `<site spool>/drill-<drill id>/<leg>/<dataset>/`.

Legs: `fo` is the failover target at the disaster-recovery site, `fb` the failback target
(the second, isolated target of the bidirectional proof, on the production site's host).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any, Literal

from orchestrator.errors import InputError
from orchestrator.host_paths import inside, normal, overlap
from orchestrator.model.settings import Config, Dataset, Site

Leg = Literal["fo", "fb"]
DATABASE_PREFIX = "drill_"
DATABASE_NAME_LIMIT = 63
DATABASE_ENGINES = ("postgresql", "mariadb")


@dataclass(frozen=True)
class DrillTarget:
    """One drill-scoped restore target on a site's host."""

    drill_id: str
    leg: Leg
    site: str
    host: str
    dataset: str
    engine: str
    kind: Literal["database", "path"]
    target: str  # database name, or absolute path on the host

    def playbook_keys(self) -> dict[str, str]:
        """Return the keys an engine role's restore reads to restore here instead of live."""
        return {"target_database" if self.kind == "database" else "target_path": self.target}

    def as_record(self) -> dict[str, Any]:
        return {
            "leg": self.leg,
            "site": self.site,
            "host": self.host,
            "dataset": self.dataset,
            "engine": self.engine,
            "kind": self.kind,
            "target": self.target,
        }


def drill_token(drill_id: str) -> str:
    """Return the drill id as a database-name fragment: `20261123t020000z_a1b2c3`."""
    token = re.sub(r"[^a-z0-9]+", "_", drill_id.lower()).strip("_")
    if not token:
        raise ValueError(f"drill id {drill_id!r} has no usable characters")
    return token


def drill_root(site: Site, drill_id: str) -> str:
    """Return the directory on a site's host that holds every drill-scoped path of a drill."""
    return posixpath.join(site.spool, f"drill-{drill_id}")


def make_target(site: Site, dataset: Dataset, index: int, drill_id: str, leg: Leg) -> DrillTarget:
    """Return the drill-scoped target of a dataset at a site, for one leg of the drill."""
    if dataset.engine in DATABASE_ENGINES:
        cleaned = re.sub(r"[^a-z0-9]+", "_", dataset.name.lower())
        name = f"{DATABASE_PREFIX}{drill_token(drill_id)}_{leg}_{index}_{cleaned}"
        return DrillTarget(
            drill_id,
            leg,
            site.name,
            site.host,
            dataset.name,
            dataset.engine,
            "database",
            name[:DATABASE_NAME_LIMIT],
        )
    base = posixpath.join(drill_root(site, drill_id), leg, dataset.name)
    leaf = (
        posixpath.basename(dataset.path or dataset.name) if dataset.engine == "sqlite" else "tree"
    )
    return DrillTarget(
        drill_id,
        leg,
        site.name,
        site.host,
        dataset.name,
        dataset.engine,
        "path",
        posixpath.join(base, leaf),
    )


def live_paths(config: Config) -> list[str]:
    """Return every live dataset path of every site in the config."""
    return [
        posixpath.join(site.data_root, dataset.path)
        for site in config.sites
        for system in config.systems
        for dataset in system.datasets
        if dataset.path
    ]


def live_databases(config: Config) -> set[str]:
    """Return every live database name in the config, lower case."""
    return {
        dataset.database.lower()
        for system in config.systems
        for dataset in system.datasets
        if dataset.database
    }


def isolation_problems(target: DrillTarget, config: Config) -> list[str]:
    """Return why a target is not isolated from live data (empty when it is)."""
    if target.kind == "database":
        name = target.target
        prefix = f"{DATABASE_PREFIX}{drill_token(target.drill_id)}_"
        problems = []
        if not name.startswith(prefix[:DATABASE_NAME_LIMIT]):
            problems.append(f"database {name!r} is not derived from drill {target.drill_id}")
        if name.lower() in live_databases(config):
            problems.append(f"database {name!r} is a live database of the config")
        return problems
    site = config.site(target.site)
    root = drill_root(site, target.drill_id)
    problems = []
    if not inside(target.target, root) or normal(target.target) == normal(root):
        problems.append(f"path {target.target!r} is not inside the drill directory {root}")
    for live in live_paths(config):
        if overlap(root, live) or overlap(target.target, live):
            problems.append(
                f"drill directory {root} (site {site.name} spool) overlaps the live dataset "
                f"path {live}: move the spool out of the data"
            )
    for other in config.sites:
        if inside(other.data_root, root):
            problems.append(f"drill directory {root} contains site {other.name}'s data_root")
    return problems


def check_isolated(targets: list[DrillTarget], config: Config, source: str) -> None:
    """Raise InputError (exit 2, nothing touched) if any target is not isolated."""
    problems = [
        f"{t.site}/{t.dataset} ({t.leg}): {problem}"
        for t in targets
        for problem in isolation_problems(t, config)
    ]
    if problems:
        raise InputError(source, sorted(set(problems)))
