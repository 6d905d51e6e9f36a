"""What dr.yml may say about mirroring (第十一条 「相互镜像」) and restore-time objectives
(R140): the `replication` section of a system, as pydantic v2 models.

A link is one replication stream of one database from one site to another (PostgreSQL
streaming replication or MariaDB replication). It is probed read-only on the host of the
receiving site (`to_site`), over the same Ansible connection backups use, by the module
dr.orchestrator.dr_replication.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from orchestrator.model.config_model import ConfigModel

if TYPE_CHECKING:
    from orchestrator.model.settings import Config

NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,62}$"


_Model = ConfigModel


class ReplicationLink(_Model):
    """One replication stream: a standby (PostgreSQL) or replica (MariaDB) at `to_site`
    receiving from a primary at `from_site`."""

    name: str = Field(pattern=NAME_PATTERN, description="Link id (metric label `link`)")
    engine: Literal["postgresql", "mariadb"] = Field(description="Replication kind")
    from_site: str = Field(description="Site of the primary")
    to_site: str = Field(description="Site of the standby/replica; its host runs the probe")
    host: str | None = Field(
        default=None,
        description="Standby/replica server address as its site host sees it (default: the "
        "host's dr_postgresql_host / dr_mariadb_host inventory variable, else 127.0.0.1)",
    )
    port: int | None = Field(
        default=None,
        description="Standby/replica port (default: the host's dr_postgresql_port / "
        "dr_mariadb_port inventory variable, else 5432 / 3306)",
    )
    user: str | None = Field(default=None, description="Login user of the probe (read-only)")
    password_env: str | None = Field(
        default=None, description="Environment variable holding that user's password"
    )
    probe_primary: bool = Field(
        default=False,
        description="PostgreSQL: also read pg_stat_replication on the primary (on from_site's "
        "host, same user): the bytes the standby has not replayed counted from the primary's "
        "current WAL position, and whether the primary sees the standby streaming",
    )
    primary_host: str | None = Field(
        default=None, description="Primary server address as from_site's host sees it"
    )
    primary_port: int | None = Field(default=None, description="Primary server port")
    application_name: str | None = Field(
        default=None,
        description="The standby's application_name in pg_stat_replication (default: any "
        "standby of the primary)",
    )

    @model_validator(mode="after")
    def _check_sites(self) -> ReplicationLink:
        if self.from_site == self.to_site:
            raise ValueError(
                f"link {self.name}: from_site and to_site are both {self.from_site!r}; "
                "mirroring (第十一条 「相互镜像」) is between two centres"
            )
        if self.probe_primary and self.engine != "postgresql":
            raise ValueError(f"link {self.name}: probe_primary is for PostgreSQL links only")
        return self


class Replication(_Model):
    """How a system's centres mirror each other and the bank's objective for it."""

    lag_objective_seconds: float = Field(
        gt=0, description="Replay lag a healthy link stays within (the bank's objective)"
    )
    min_healthy_ratio: float = Field(
        default=0.99,
        gt=0,
        le=1,
        description="Share of the monitored period each link must be healthy (streaming and "
        "within the lag objective) for dr.mirroring to be 符合",
    )
    max_probe_gap_seconds: float = Field(
        default=900,
        gt=0,
        description="A probe's result stands for at most this long; time after it without a "
        "newer probe counts as not shown healthy",
    )
    links: Sequence[ReplicationLink] = Field(min_length=1)


def replication_problems(config: Config) -> list[str]:
    """Return one message per replication link naming an unknown site or a duplicate name."""
    site_names = {site.name for site in config.sites}
    problems = []
    for index, system in enumerate(config.systems):
        if system.replication is None:
            continue
        where = f"systems[{index}].replication"
        names = [link.name for link in system.replication.links]
        for duplicate in sorted({n for n in names if names.count(n) > 1}):
            problems.append(f"{where}.links: duplicate link name {duplicate!r}")
        for number, link in enumerate(system.replication.links):
            for field in ("from_site", "to_site"):
                if getattr(link, field) not in site_names:
                    problems.append(
                        f"{where}.links[{number}].{field}: unknown site {getattr(link, field)!r}"
                    )
    return problems
