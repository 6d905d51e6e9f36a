"""Where each site's live data is, by what its inventory host reaches rather than by its name.

A site's data lives on a machine (files and SQLite datasets under its `data_root`) and in the
database servers its host reaches (`dr_postgresql_host`/`_port`, `dr_mariadb_host`/`_port`:
a local socket, a loopback or the unspecified address is that machine's own server; the port
is the one the engine roles connect to — the host's, else each dataset's, else the default —
read as a number; only the engines some dataset uses; a PostgreSQL host may be a
comma-separated list, which psql tries in turn: each entry counts). Two inventory names can be
one machine (`localhost` and `127.0.0.1`, a DNS alias, two entries with one `ansible_host`),
and two machines can reach one database server; model/scenario_safety.py compares these
locations, not host names, before a drill may write at a sandbox site.

The machine of a host reached by ssh is the one ssh connects to: the inventory's
`ansible_host` (else the inventory name) as ssh's own configuration reads it (`ssh -G`, with
the host's `ansible_ssh_args`/`_common_args`/`_extra_args`: a `Host` alias in ~/.ssh/config
or a `-F` file names another `HostName`). A `ProxyJump` host's own loopback is read as this
controller's (the safe side: two such sites are taken to be one machine).

Addresses are resolved on the controller (orchestrator/addresses.py, shared with the off-site
store check in topology.py): a loopback address, this controller's own addresses and Ansible's
`local` connection are all this controller. A name that does not resolve stands for itself.
A database host is resolved from the controller too, which is where a bank's DNS view is the
same (an assumption, docs/drills.md). Only reads.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from orchestrator.addresses import (
    CONTROLLER,
    as_machines,
    is_loopback,
    own_addresses,
    resolve,
)
from orchestrator.config import LoadedConfig
from orchestrator.errors import InfrastructureError
from orchestrator.integrations import execute
from orchestrator.integrations.hosts import read_host_vars
from orchestrator.model.scenario_safety import SiteLocation
from orchestrator.model.settings import Config

DATABASE_PORTS = (("postgresql", 5432), ("mariadb", 3306))
SSH_ARGUMENTS = ("ansible_ssh_args", "ansible_ssh_common_args", "ansible_ssh_extra_args")
SSH_CONFIG_SECONDS = 10


def _port(value: Any) -> str:
    """Return a port as the engine roles read it (Jinja `| int`: `05432` and ` 5432` are
    5432), or as written when it is not a number."""
    try:
        return str(int(str(value).strip()))
    except ValueError:
        return str(value)


def _ports(engine: str, default: int, variables: Mapping[str, Any], config: Config) -> set[str]:
    """Return the ports a host's datasets of an engine connect to, as the roles choose them:
    the host's `dr_<engine>_port`, else each dataset's own port, else the engine's default
    (none when no dataset uses the engine)."""
    own = {
        _port(dataset.port or default)
        for system in config.systems
        for dataset in system.datasets
        if dataset.engine == engine
    }
    given = variables.get(f"dr_{engine}_port")
    return {_port(given)} if own and given not in (None, "") else own


def _entries(engine: str, host: str) -> list[str]:
    """Return a database host setting's entries: libpq (psql -h) takes a comma-separated
    list and tries each in turn, so every entry is reached; MariaDB takes one."""
    return [one.strip() for one in host.split(",")] if engine == "postgresql" else [host]


def _servers(
    engine: str, host: str, machine: frozenset[str], own: frozenset[str]
) -> frozenset[str]:
    """Return the machines a host's database host setting reaches: a socket, an empty entry
    or a loopback address is the host's own machine; every entry of a libpq list counts."""
    where: set[str] = set()
    for entry in _entries(engine, host):
        addresses = resolve(entry) if entry and not entry.startswith("/") else frozenset()
        if all(is_loopback(a) for a in addresses):
            where |= machine  # a socket or a loopback address: the host's own server
        else:
            where |= as_machines(addresses, own)
    return frozenset(where)


def _databases(
    variables: Mapping[str, Any], machine: frozenset[str], own: frozenset[str], config: Config
) -> frozenset[str]:
    """Return the database servers of the engines in use a host reaches, as 'engine
    address:port'."""
    servers: set[str] = set()
    for engine, default_port in DATABASE_PORTS:
        ports = _ports(engine, default_port, variables, config)
        host = str(variables.get(f"dr_{engine}_host") or "")
        where = _servers(engine, host, machine, own)
        servers.update(f"{engine} {address}:{port}" for address in where for port in ports)
    return frozenset(servers)


def ssh_host_name(name: str, variables: Mapping[str, Any]) -> str:
    """Given a host's ssh name and inventory variables, return the host name ssh connects to
    as its configuration reads it (`ssh -G`: nothing is connected), or the name itself when
    ssh cannot say."""
    arguments = [
        word for key in SSH_ARGUMENTS for word in shlex.split(str(variables.get(key) or ""))
    ]
    try:
        done = execute.run(
            ["ssh", "-G", *arguments, "--", name], timeout=SSH_CONFIG_SECONDS, check=False
        )
    except (OSError, InfrastructureError):
        return name
    for line in done.stdout.splitlines():
        key, _, value = line.partition(" ")
        if key == "hostname" and value.strip():
            return value.strip()
    return name


def site_locations(
    config: Config, inventory: Path, sites: Iterable[str] | None = None
) -> dict[str, SiteLocation]:
    """Given the config, its inventory and the sites to locate (default: all), return each
    site's location; raise InputError when a site's host is not in the inventory."""
    own = own_addresses()
    located: dict[str, SiteLocation] = {}
    for site in config.sites:
        if sites is not None and site.name not in sites:
            continue
        variables = read_host_vars(inventory, site.host)
        if variables.get("ansible_connection") == "local":
            machine = frozenset({CONTROLLER})
        else:
            name = ssh_host_name(str(variables.get("ansible_host") or site.host), variables)
            machine = as_machines(resolve(name), own)
        located[site.name] = SiteLocation(
            machine, str(Path(site.data_root)), _databases(variables, machine, own, config)
        )
    return located


def mixed_site_locations(loaded: LoadedConfig) -> dict[str, SiteLocation] | None:
    """Given a loaded config, return its sites' locations when sandbox sites sit beside real
    ones (the only case the drill safety check compares them), else None (nothing read)."""
    sites = loaded.model.sites
    if all(site.sandbox for site in sites) or not any(site.sandbox for site in sites):
        return None
    return site_locations(loaded.model, loaded.inventory)
