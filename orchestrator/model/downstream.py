"""Writes into a database server that feeds replicas: refused unless asked for.

A restore (or a drill's disaster) writes into a site's database server; on a server that is
itself a replication source — a streaming standby or logical subscriber reads it, or MariaDB
replicas read its binary log (reverse or bidirectional mirroring between the centres) — the
write flows on to every replica, which can be production. The host refuses such a write
before anything is written (module_utils/dr_downstream.py, in dr_datasets) unless the
playbook item says `downstream: allow`, which drctl sets only

- at a system's production site that is not a sandbox: what a drill writes there are its
  drill-scoped failback targets (the documented price of the failback proof), and what that
  server feeds is production's own mirror; or
- when the operator asked for exactly that (`drill run --allow-replica-writes`).

The host's refusal comes back as a task failure that starts with REFUSED; it is turned into
an InputError (usage: nothing was written) here.
"""

from __future__ import annotations

from collections.abc import Sequence

from orchestrator.errors import InputError
from orchestrator.model.settings import Config

REFUSED = "refused (replication downstream)"  # dr_downstream.REFUSED, on the host
ALLOW_HINT = (
    "the write would flow on to every replica of that server; stop the replication, or run "
    "the drill with --allow-replica-writes if the replicas may receive it (docs/operators.md)"
)


def downstream_setting(config: Config, system: str, site: str, allowed: bool) -> str:
    """Given the config, a system, the site written into and whether the operator allowed
    writes that replicate, return the playbook items' `downstream` value."""
    production = config.system(system).production_site
    real_production = site == production and not config.site(site).sandbox
    return "allow" if allowed or real_production else "refuse"


def raise_if_refused(failures: Sequence[str], source: str) -> None:
    """Raise InputError naming each refused write when the host refused any (else return)."""
    refused = [failure for failure in failures if REFUSED in failure]
    if refused:
        raise InputError(source, [*refused, ALLOW_HINT])
