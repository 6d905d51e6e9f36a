#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: read the replication state of a PostgreSQL standby or a MariaDB replica."""

from __future__ import annotations

DOCUMENTATION = r"""
module: dr_replication
short_description: Read the replication state and lag of a PostgreSQL standby or MariaDB replica
version_added: 0.2.0
description:
  - Read only. Connects to the receiving end of one replication link with the server's own
    command-line client and reports whether it replicates and how far behind it is, for
    dr-orchestrator's mirroring SLI (260号 第十一条 「相互镜像」).
  - PostgreSQL (a streaming standby) - C(pg_is_in_recovery()), C(pg_stat_wal_receiver.status),
    C(pg_last_wal_receive_lsn()), C(pg_last_wal_replay_lsn()) and
    C(pg_last_xact_replay_timestamp()). I(state) C(streaming) when the WAL receiver streams.
    The lag in bytes is received minus replayed WAL; the lag in seconds is 0 when everything
    received is replayed. Else the replayed position is polled (every 30 ms, at most 2 s, not
    while replay is paused) until it reaches the position received at the first reading; if
    it does after t seconds the lag is at most t, and the smaller of t and the fallback is
    reported. The fallback, when replay does not catch up in time, is now minus the commit
    time of the last replayed transaction (on a quiet primary hours old, so not used alone
    for a standby that is only replaying a checkpoint or other background WAL record).
  - MariaDB (a replica) - C(SHOW SLAVE STATUS) of the default connection. I(state)
    C(streaming) when both the IO and the SQL thread run; the lag in seconds is
    C(Seconds_Behind_Master); the lag in bytes is read minus executed source log position when
    both are in the same source log file.
  - With I(role=primary) (PostgreSQL only) the module reads the sending end instead -
    C(pg_stat_replication) on the primary, the standbys matching I(application_name) (all
    when empty). I(state) C(streaming) when one of them streams; the lag in bytes is the
    primary's current WAL position minus the standby's replayed position (what a failover
    now would lose, received or not); the lag in seconds is C(replay_lag) (0 when nothing is
    behind). The result is named C(replication:<link>@primary).
  - The lag in seconds is null whenever the server itself cannot say (receiver or a thread not
    running, nothing replayed yet); a null lag is never healthy.
  - A server that cannot be queried (refused, authentication, timeout) is a result, not a task
    failure - I(state) C(unreachable) with the client's message - so the other links of the
    run are still read.
  - The password, if any, comes from the PGPASSWORD (PostgreSQL) or MYSQL_PWD (MariaDB)
    environment variable the task sets; it is never a module argument.
options:
  dr_environment:
    description:
      - The task's C(environment), put there by the collection's action plugin, never by
        hand. Ansible would set it on the command line, where C(ps) shows every password in
        it; the module sets it in its own environment before anything runs. Not logged.
    type: dict
    default: {}
  link:
    description: Link name; it names the result, C(replication:<link>).
    type: str
    required: true
  engine:
    description: Which server the receiving end is.
    type: str
    required: true
    choices: [postgresql, mariadb]
  role:
    description: Which end of the link the server is - C(standby) (the receiving end) or
      C(primary) (PostgreSQL only, the sending end).
    type: str
    choices: [standby, primary]
    default: standby
  application_name:
    description: With I(role=primary), the standby's C(application_name) in
      C(pg_stat_replication); empty, every standby of the primary.
    type: str
    default: ""
  host:
    description: Server address, as the client sees it from the host.
    type: str
    default: 127.0.0.1
  port:
    description: Server port; 0 for the engine's default (5432, 3306).
    type: int
    default: 0
  user:
    description: Login user; empty, the client's default. PostgreSQL needs C(pg_monitor) (or
      superuser) to see the WAL receiver; MariaDB needs C(REPLICATION CLIENT) /
      C(SLAVE MONITOR).
    type: str
    default: ""
  password_env:
    description: Name of the controller's environment variable the password was read from;
      when set, the password variable must reach the module or it fails before connecting.
    type: str
    default: ""
  bin_dir:
    description: Directory of psql or mariadb; empty, found on PATH.
    type: str
    default: ""
attributes:
  check_mode:
    description: The module only reads; check mode does exactly what a real run does.
    support: full
  diff_mode:
    description: No diff is produced.
    support: none
requirements:
  - psql (PostgreSQL client) or mariadb (MariaDB client) on the host
author:
  - dr-orchestrator maintainers
"""

EXAMPLES = r"""
- name: How far behind is the core-banking standby at the DR centre?
  dr.orchestrator.dr_replication:
    link: ledger-pg
    engine: postgresql
    port: 5432
    user: dr_monitor
    password_env: DR_PG_MONITOR_PASSWORD
  environment:
    PGPASSWORD: "{{ lookup('dr.orchestrator.dr_secret', 'DR_PG_MONITOR_PASSWORD') }}"

- name: Does the primary see its standby streaming, and how many bytes is it behind?
  dr.orchestrator.dr_replication:
    link: ledger-pg
    engine: postgresql
    role: primary
    application_name: dr_standby
    user: dr_monitor
    password_env: DR_PG_MONITOR_PASSWORD
  environment:
    PGPASSWORD: "{{ lookup('dr.orchestrator.dr_secret', 'DR_PG_MONITOR_PASSWORD') }}"

- name: Are both threads of the MariaDB replica running?
  dr.orchestrator.dr_replication:
    link: cards-mariadb
    engine: mariadb
    port: 3306
    user: dr_monitor
  check_mode: true
"""

RETURN = r"""
dr_result:
  description: The replication state of the link's receiving end.
  returned: always
  type: dict
  contains:
    name:
      description: C(replication:<link>), or C(replication:<link>@primary) with
        I(role=primary).
      type: str
      returned: always
      sample: replication:ledger-pg
    engine:
      description: The I(engine).
      type: str
      returned: always
      sample: postgresql
    state:
      description: C(streaming), C(stopped) (receiver or a thread not running; on a primary,
        no matching standby streams), C(not_replica) (the server is no standby/replica),
        C(not_primary) (I(role=primary) on a server in recovery) or C(unreachable) (it could
        not be queried).
      type: str
      returned: always
      sample: streaming
    lag_seconds:
      description: How far replay is behind, in seconds; null when the server cannot say.
      type: float
      returned: always
      sample: 0.4
    lag_bytes:
      description: Received (read) but not yet replayed (executed) log, in bytes; null when
        unknown.
      type: int
      returned: always
      sample: 8192
    io_running:
      description: PostgreSQL - the WAL receiver streams; MariaDB - C(Slave_IO_Running) is Yes.
      type: bool
      returned: always
      sample: true
    sql_running:
      description: PostgreSQL - replay is not paused; MariaDB - C(Slave_SQL_Running) is Yes.
      type: bool
      returned: always
      sample: true
    detail:
      description: The raw figures read (LSNs, log files and positions, errors of the threads;
        PostgreSQL C(caught_up_after) when replay was polled - seconds to catch up, or null).
      type: dict
      returned: always
      sample: {receiver_status: streaming, receive_lsn: 0/3000148, replay_lsn: 0/3000148}
    error:
      description: The client's message when I(state) is C(unreachable).
      type: str
      returned: when state is unreachable
      sample: "psql: error: connection to server at 127.0.0.1, port 5433 failed"
"""

import json
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dr.orchestrator.plugins.module_utils.dr_environment import (
    apply_task_environment,
    environment_option,
)
from ansible_collections.dr.orchestrator.plugins.module_utils.dr_mysql import MariaTarget
from ansible_collections.dr.orchestrator.plugins.module_utils.dr_pgsql import PgTarget
from ansible_collections.dr.orchestrator.plugins.module_utils.dr_sqlsession import (
    SqlError,
    run_tool,
)

DEFAULT_PORTS = {"postgresql": 5432, "mariadb": 3306}
PG_QUERY = """
SELECT json_build_object(
  'in_recovery', pg_is_in_recovery(),
  'receiver_status', (SELECT status FROM pg_stat_wal_receiver LIMIT 1),
  'sender', (SELECT sender_host || ':' || sender_port FROM pg_stat_wal_receiver LIMIT 1),
  'replay_paused', CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END,
  'replay_timestamp', extract(epoch FROM pg_last_xact_replay_timestamp()),
  'now', extract(epoch FROM clock_timestamp()),
  'receive_lsn', pg_last_wal_receive_lsn()::text,
  'replay_lsn', pg_last_wal_replay_lsn()::text,
  'lag_bytes', pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()));
"""
PG_REPLAY_QUERY = "SELECT pg_last_wal_replay_lsn()::text;"
CATCH_UP_STEP = 0.03  # seconds between readings of the replayed position
CATCH_UP_BOUND = 2.0  # seconds after which the catch-up poll gives up
PG_PRIMARY_QUERY = """
SELECT json_build_object(
  'in_recovery', pg_is_in_recovery(),
  'senders', (SELECT coalesce(json_agg(json_build_object(
      'application_name', application_name,
      'client', client_addr::text,
      'state', state,
      'replay_lag', extract(epoch FROM replay_lag),
      'lag_bytes', CASE WHEN pg_is_in_recovery() THEN NULL
                        ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) END)), '[]')
    FROM pg_stat_replication));
"""
MARIADB_FIELDS = (
    "Slave_IO_Running",
    "Slave_SQL_Running",
    "Seconds_Behind_Master",
    "Master_Host",
    "Master_Port",
    "Master_Log_File",
    "Read_Master_Log_Pos",
    "Relay_Master_Log_File",
    "Exec_Master_Log_Pos",
    "Last_IO_Error",
    "Last_SQL_Error",
    "Gtid_IO_Pos",
)


def result(state, lag_seconds=None, lag_bytes=None, io=False, sql=False, detail=None):
    return {
        "state": state,
        "lag_seconds": lag_seconds,
        "lag_bytes": lag_bytes,
        "io_running": io,
        "sql_running": sql,
        "detail": detail or {},
    }


def lsn_position(lsn):
    """Return a PostgreSQL LSN text ('16/B374D848') as a byte position."""
    high, low = lsn.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def replay_catch_up(read_replay_lsn, receive_lsn, started, clock=time.monotonic, sleep=time.sleep):
    """Poll the replayed position until it reaches receive_lsn; return the seconds since
    started (the clock before the first reading) it took, or None if not within CATCH_UP_BOUND."""
    goal = lsn_position(receive_lsn)
    while clock() - started < CATCH_UP_BOUND:
        sleep(CATCH_UP_STEP)
        replayed = read_replay_lsn()
        if replayed and lsn_position(replayed) >= goal:
            return clock() - started
    return None


def postgres_lag_seconds(figures, streaming, lag_bytes, caught_up_after):
    """The lag in seconds from the first reading and the catch-up poll (None: not polled or
    replay did not catch up); None when the server cannot say."""
    if not streaming:
        return None
    if lag_bytes == 0:
        return 0.0
    fallback = None
    if figures["replay_timestamp"] is not None:
        fallback = max(0.0, float(figures["now"]) - float(figures["replay_timestamp"]))
    if caught_up_after is None:
        return fallback
    return caught_up_after if fallback is None else min(caught_up_after, fallback)


def postgres_state(target):
    """Return the replication state of a PostgreSQL server (a standby, or not one)."""
    started = time.monotonic()
    figures = json.loads("".join(target.query(PG_QUERY, "postgres")))
    if not figures["in_recovery"]:
        return result("not_replica", detail=figures)
    streaming = figures["receiver_status"] == "streaming"
    lag_bytes = figures["lag_bytes"]
    lag_bytes = max(0, int(float(lag_bytes))) if lag_bytes is not None else None
    caught_up_after = None
    if streaming and lag_bytes and not figures["replay_paused"] and figures["receive_lsn"]:
        caught_up_after = replay_catch_up(
            lambda: "".join(target.query(PG_REPLAY_QUERY, "postgres")).strip(),
            figures["receive_lsn"],
            started,
        )
        figures["caught_up_after"] = caught_up_after
    lag_seconds = postgres_lag_seconds(figures, streaming, lag_bytes, caught_up_after)
    return result(
        "streaming" if streaming else "stopped",
        lag_seconds,
        lag_bytes,
        io=streaming,
        sql=not figures["replay_paused"],
        detail=figures,
    )


def postgres_primary_state(target, application_name):
    """Return how a PostgreSQL primary sees its standbys (those named application_name, or
    all): streaming or not, and the largest lag among them."""
    figures = json.loads("".join(target.query(PG_PRIMARY_QUERY, "postgres")))
    if figures["in_recovery"]:
        return result("not_primary", detail=figures)
    senders = [
        sender
        for sender in figures["senders"]
        if not application_name or sender["application_name"] == application_name
    ]
    streaming = [sender for sender in senders if sender["state"] == "streaming"]
    if not streaming:
        return result("stopped", detail=figures)
    lag_bytes = max(max(0, int(float(s["lag_bytes"] or 0))) for s in streaming)
    lags = [float(s["replay_lag"]) for s in streaming if s["replay_lag"] is not None]
    lag_seconds = max(lags) if lags else (0.0 if lag_bytes == 0 else None)
    return result("streaming", lag_seconds, lag_bytes, io=True, sql=True, detail=figures)


def mariadb_state(target):
    """Return the replication state of a MariaDB server (a replica, or not one)."""
    argv = [arg for arg in target.client_argv() if arg != "--skip-column-names"]
    argv += ["-e", "SHOW SLAVE STATUS"]
    output = run_tool(argv, target.env(), "mariadb %s:%d" % (target.host, target.port), timeout=60)
    lines = output.splitlines()
    if len(lines) < 2:
        return result("not_replica")
    headers, values = lines[0].split("\t"), lines[1].split("\t")
    row = {name: values[index] for index, name in enumerate(headers) if index < len(values)}
    figures = {name: row.get(name) for name in MARIADB_FIELDS}
    io = figures["Slave_IO_Running"] == "Yes"
    sql = figures["Slave_SQL_Running"] == "Yes"
    behind = figures["Seconds_Behind_Master"]
    lag_seconds = float(behind) if behind not in (None, "", "NULL") else None
    lag_bytes = None
    if figures["Master_Log_File"] == figures["Relay_Master_Log_File"]:
        read, executed = figures["Read_Master_Log_Pos"], figures["Exec_Master_Log_Pos"]
        if read and executed and read.isdigit() and executed.isdigit():
            lag_bytes = max(0, int(read) - int(executed))
    state = "streaming" if io and sql else "stopped"
    return result(state, lag_seconds if state == "streaming" else None, lag_bytes, io, sql, figures)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            link=dict(type="str", required=True),
            engine=dict(type="str", required=True, choices=["postgresql", "mariadb"]),
            role=dict(type="str", default="standby", choices=["standby", "primary"]),
            application_name=dict(type="str", default=""),
            host=dict(type="str", default="127.0.0.1"),
            port=dict(type="int", default=0),
            user=dict(type="str", default=""),
            password_env=dict(type="str", default=""),
            bin_dir=dict(type="str", default=""),
            dr_environment=environment_option(),
        ),
        supports_check_mode=True,
    )
    apply_task_environment(module)
    params = module.params
    engine = params["engine"]
    primary = params["role"] == "primary"
    if primary and engine != "postgresql":
        module.fail_json(msg="%s: role primary is for PostgreSQL only" % params["link"])
    target_class = PgTarget if engine == "postgresql" else MariaTarget
    target = target_class(
        params["host"],
        params["port"] or DEFAULT_PORTS[engine],
        params["user"],
        params["bin_dir"],
        params["password_env"],
    )
    try:
        target.check_password()
    except SqlError as error:
        module.fail_json(msg=str(error))
    try:
        if primary:
            state = postgres_primary_state(target, params["application_name"])
        elif engine == "postgresql":
            state = postgres_state(target)
        else:
            state = mariadb_state(target)
    except SqlError as error:
        state = result("unreachable")
        state["error"] = str(error)[-2000:]
    except (ValueError, KeyError) as error:
        module.fail_json(msg="%s: unexpected answer from the server: %s" % (params["link"], error))
    name = "replication:%s%s" % (params["link"], "@primary" if primary else "")
    state.update(name=name, engine=engine)
    module.exit_json(changed=False, dr_result=state)


if __name__ == "__main__":
    main()
