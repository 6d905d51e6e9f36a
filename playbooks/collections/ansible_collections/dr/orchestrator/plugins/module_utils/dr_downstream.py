# -*- coding: utf-8 -*-
"""Whether a database server feeds replicas: what it is written carries on downstream.

A restore or a drop on a server whose changes replicate elsewhere lands on every replica
too: on a disaster-recovery server that is also a replication source for production
(reverse or bidirectional mirroring: a standby streaming from it, a logical subscriber, a
MariaDB replica of a master-master pair), a drill's restore would be written into
production. dr_dbmodule refuses such a write unless drctl passes downstream=allow.

- PostgreSQL: every WAL sender (`pg_stat_replication`: streaming standbys and logical
  subscribers) and every replication slot (`pg_replication_slots`: a consumer that reads later
  what it missed). Both are readable without privileges (names need pg_read_all_stats).
- MariaDB: nothing when binary logging is off (`@@log_bin`); else `SHOW SLAVE HOSTS` (the
  replicas registered with it, REPLICATION MASTER ADMIN). A server with the binary log on
  whose replicas cannot be listed is treated as feeding one: it cannot be told otherwise.

Standard library only. Reads only.
"""

from __future__ import annotations

from ansible_collections.dr.orchestrator.plugins.module_utils.dr_sqlsession import SqlError
from ansible_collections.dr.orchestrator.plugins.module_utils.dr_steps import StepFailed

REFUSED = "refused (replication downstream)"
PG_DOWNSTREAM = (
    "SELECT 'standby or subscriber ' || coalesce(application_name, '?') || ' from '"
    " || coalesce(host(client_addr), 'a local socket') || ' (' || coalesce(state, '?') || ')'"
    " FROM pg_stat_replication"
    " UNION ALL SELECT 'replication slot ' || slot_name || ' (' || slot_type"
    " || CASE WHEN active THEN ', active' ELSE ', inactive' END || ')'"
    " FROM pg_replication_slots;"
)


def postgresql_downstream(target):
    """Return what a PostgreSQL server feeds: its WAL senders and replication slots."""
    return [line.strip() for line in target.query(PG_DOWNSTREAM) if line.strip()]


def mariadb_downstream(target):
    """Return what a MariaDB server feeds: its registered replicas (binary log on)."""
    lines = [line.strip() for line in target.query("SELECT @@GLOBAL.log_bin;") if line.strip()]
    if not lines or lines[0] in ("0", "OFF"):
        return []
    try:
        hosts = target.query("SHOW SLAVE HOSTS;")
    except SqlError as error:
        return ["binary log on, replicas cannot be listed (%s)" % error]
    found = []
    for line in hosts:
        fields = line.split("\t")
        if len(fields) >= 3:
            found.append("replica server_id %s at %s:%s" % (fields[0], fields[1], fields[2]))
    return found


def refuse_downstream(kind, target, params):
    """Raise StepFailed naming the server and its downstream when a restore or a drop would
    be written into a server that feeds replicas and drctl did not allow it."""
    if params.get("downstream") == "allow":
        return
    probe = postgresql_downstream if kind == "postgresql" else mariadb_downstream
    found = probe(target)
    if found:
        raise StepFailed(
            "%s: %s of %s (database %s) on %s server %s:%s: that server feeds %s, which "
            "would receive the write; nothing was written to it"
            % (
                REFUSED,
                params["action"],
                params["dataset"],
                params["database"],
                kind,
                params["host"],
                params["port"],
                "; ".join(found),
            )
        )
