"""`drctl replication probe`: read the state and lag of every replication link (第十一条
「相互镜像」) and record it in the mirroring ledger (model/replication.py).

Each link is read on the host of its receiving site (`to_site`) by the module
dr.orchestrator.dr_replication, over the same Ansible connection backups use; one playbook
run per site. Read only: nothing is written to any database. A site whose host cannot be
reached records its links as `unreachable` (mirroring not shown healthy) and the probe goes
on with the other sites.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from orchestrator.config import LoadedConfig
from orchestrator.errors import InfrastructureError, InputError
from orchestrator.integrations.ansible import run_playbook
from orchestrator.model.replication import record_probe
from orchestrator.model.replication_settings import ReplicationLink
from orchestrator.model.settings import System
from orchestrator.runtime import Runtime
from orchestrator.timefmt import sortable_id

logger = logging.getLogger(__name__)
PLAYBOOK = "replication_probe.yml"


@dataclass(frozen=True)
class LinkProbe:
    """What one probe found on one link, judged against the system's lag objective."""

    system: str
    link: ReplicationLink
    probed_at: float
    result: Mapping[str, Any]
    lag_objective_seconds: float

    @property
    def state(self) -> str:
        return str(self.result.get("state", "unreachable"))

    @property
    def lag_seconds(self) -> float | None:
        value = self.result.get("lag_seconds")
        return float(value) if value is not None else None

    @property
    def healthy(self) -> bool:
        lag = self.lag_seconds
        return self.state == "streaming" and lag is not None and lag <= self.lag_objective_seconds


@dataclass
class ProbeOutcome:
    probes: list[LinkProbe] = field(default_factory=list)
    unreachable_sites: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return all(probe.healthy for probe in self.probes)


def probed_systems(config: LoadedConfig, system: str | None) -> list[System]:
    """Return the systems with a replication section (only `system` when given). Raise
    InputError naming --system when it is unknown or has no replication configured, or the
    config file when no system has one (nothing to probe)."""
    systems = [s for s in config.model.systems if s.replication is not None]
    if system is None:
        if not systems:
            raise InputError(
                str(config.path),
                [
                    "systems[*].replication: no system configures replication links; "
                    "nothing to probe"
                ],
            )
        return systems
    chosen = [s for s in systems if s.name == system]
    if not chosen:
        raise InputError(
            "--system",
            [f"{system!r}: no such system with a `replication` section in the config"],
        )
    return chosen


def link_item(link: ReplicationLink, *, primary: bool = False) -> dict[str, Any]:
    """Return the playbook item of a link (what replication_probe.yml passes on): its
    standby end, or with primary its primary end."""
    item: dict[str, Any] = {"name": link.name, "engine": link.engine}
    values: dict[str, Any] = {"user": link.user, "password_env": link.password_env}
    if primary:
        item["role"] = "primary"
        values |= {"host": link.primary_host, "port": link.primary_port}
        values["application_name"] = link.application_name
    else:
        values |= {"host": link.host, "port": link.port}
    item.update({key: value for key, value in values.items() if value is not None})
    return item


def merge_primary(standby: Mapping[str, Any], primary: Mapping[str, Any]) -> dict[str, Any]:
    """Given a link's standby result and its primary's, return the link's result: the
    standby's, with the primary's byte lag (what a failover now would lose, received or not)
    when the primary sees it streaming, and `stopped` when the standby says it streams but
    the primary sees no standby streaming. The primary's result is kept in the detail."""
    merged = dict(standby)
    merged["detail"] = {**dict(standby.get("detail") or {}), "primary": dict(primary)}
    if primary.get("state") == "streaming" and primary.get("lag_bytes") is not None:
        merged["lag_bytes"] = primary["lag_bytes"]
    if standby.get("state") == "streaming" and primary.get("state") == "stopped":
        merged["state"], merged["lag_seconds"] = "stopped", None
    return merged


def run_replication_probe(runtime: Runtime, system: str | None = None) -> ProbeOutcome:
    """Probe every link of the chosen systems, record each result; return what was found."""
    by_site: dict[str, list[tuple[System, ReplicationLink]]] = {}
    for chosen in probed_systems(runtime.config, system):
        assert chosen.replication is not None
        for link in chosen.replication.links:
            by_site.setdefault(link.to_site, []).append((chosen, link))
    outcome = ProbeOutcome()
    primaries = _probe_primaries(
        runtime, [link for pairs in by_site.values() for _s, link in pairs]
    )
    for site_name, links in sorted(by_site.items()):
        probed_at = time.time()
        results = _probe_site(runtime, site_name, [link for _s, link in links], outcome)
        for name, primary in primaries.items():
            if name in results:
                results[name] = merge_primary(results[name], primary)
        with runtime.catalog.begin() as connection:
            for owner, link in links:
                result = results[link.name]
                record_probe(
                    connection,
                    system=owner.name,
                    link=link.name,
                    engine=link.engine,
                    from_site=link.from_site,
                    to_site=link.to_site,
                    probed_at=probed_at,
                    result=result,
                )
                assert owner.replication is not None
                probe = LinkProbe(
                    owner.name, link, probed_at, result, owner.replication.lag_objective_seconds
                )
                outcome.probes.append(probe)
                logger.info(
                    "replication %s/%s: %s, lag %s s",
                    owner.name,
                    link.name,
                    probe.state,
                    probe.lag_seconds,
                )
    return outcome


def _probe_primaries(
    runtime: Runtime, links: Sequence[ReplicationLink]
) -> dict[str, Mapping[str, Any]]:
    """Probe the primary end of every link with probe_primary, one run per from_site; return
    {link name: primary result}. An unreachable primary site is noted in each result only:
    the standby's own probe decides whether the link is reachable."""
    by_site: dict[str, list[ReplicationLink]] = {}
    for link in links:
        if link.probe_primary:
            by_site.setdefault(link.from_site, []).append(link)
    found: dict[str, Mapping[str, Any]] = {}
    for site_name, mine in sorted(by_site.items()):
        results = _probe_site(runtime, site_name, mine, ProbeOutcome(), primary=True)
        found.update(results)
    return found


def _probe_site(
    runtime: Runtime,
    site_name: str,
    links: Sequence[ReplicationLink],
    outcome: ProbeOutcome,
    *,
    primary: bool = False,
) -> dict[str, Mapping[str, Any]]:
    """Run the probe playbook on a site's host for the links' standby (or primary) ends;
    return {link name: result}. An unreachable host or a failed run gives every link the
    state `unreachable` with the reason."""
    site = runtime.config.model.site(site_name)
    items = [link_item(link, primary=primary) for link in links]
    suffix = "@primary" if primary else ""
    try:
        run = run_playbook(
            PLAYBOOK,
            inventory=runtime.config.inventory,
            extravars={"dr_host": site.host, "dr_links": items},
            ident=f"replication-{site.name}-{sortable_id()}",
            work_dir=runtime.work_dir,
            limit=site.host,
            timeout=300,
        )
    except InfrastructureError as error:
        outcome.unreachable_sites.append(site.name)
        return {link.name: {"state": "unreachable", "error": str(error)} for link in links}
    if not run.ok:
        reason = "; ".join(run.failures or (run.status,))
        outcome.unreachable_sites.append(site.name)
        return {link.name: {"state": "unreachable", "error": reason} for link in links}
    return {link.name: run.result(site.host, f"replication:{link.name}{suffix}") for link in links}


def probe_pass(runtime: Runtime) -> dict[str, Any] | None:
    """One probe pass of every configured link for `drctl serve`: return a summary (None when
    no system configures replication). Errors are logged, never raised: the service goes on."""
    if not any(system.replication for system in runtime.config.model.systems):
        return None
    try:
        outcome = run_replication_probe(runtime)
    except Exception:  # noqa: BLE001 - the service keeps serving whatever a pass does
        logger.exception("replication probe pass crashed")
        return None
    healthy = sum(1 for probe in outcome.probes if probe.healthy)
    logger.info("replication probe pass: %d/%d link(s) healthy", healthy, len(outcome.probes))
    return {
        "links": len(outcome.probes),
        "healthy": healthy,
        "unreachable_sites": outcome.unreachable_sites,
    }
