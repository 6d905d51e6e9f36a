# -*- coding: utf-8 -*-
"""PostgreSQL on the host: dump, restore and fingerprint through psql/pg_dump/pg_restore.

Shared by dr_postgresql and dr_pg_ledger. Standard library only.

Fingerprint: per table (schema `public` by bare name, others as schema.table), the row count
and the digest of `COPY (SELECT * FROM t ORDER BY <primary key>) TO STDOUT` lines, read in a
REPEATABLE READ transaction with fixed output settings (UTC, ISO dates, hex bytea, shortest
exact floats). Text primary-key columns are ordered COLLATE "C", so the order does not depend
on the cluster's locale; a table without a primary key is ordered by its whole row as text.

At backup time the fingerprint is taken inside the same snapshot as the dump: the session
exports its snapshot (pg_export_snapshot), pg_dump runs with --snapshot, and the session
streams the tables while the dump runs. Both therefore see exactly the same data.
"""

from __future__ import annotations

import json
import os
import secrets

from ansible_collections.dr.orchestrator.plugins.module_utils.dr_sqlsession import (
    CONNECT_TIMEOUT_SECONDS,
    BackgroundTool,
    SqlError,
    SqlSession,
    SqlTarget,
    find_tool,
    hash_rows,
    make_parent_directory,
    run_tool,
)
from ansible_collections.dr.orchestrator.plugins.module_utils.dr_sqlsession import (
    scratch_name as any_case_scratch_name,
)

# A COPY text line can never start with a backslash followed by '.', because COPY doubles
# every backslash in the data; so this marker cannot be mistaken for a row.
MARKER = "\\.dr-end"
MAINTENANCE_DATABASE = "postgres"
SESSION_SETTINGS = (
    "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres';\n"
    "SET extra_float_digits = 1; SET bytea_output = 'hex'; SET client_encoding = 'UTF8';\n"
)
TABLES_QUERY = """
SELECT coalesce(json_agg(json_build_array(
         CASE WHEN n.nspname = 'public' THEN c.relname ELSE n.nspname || '.' || c.relname END,
         quote_ident(n.nspname) || '.' || quote_ident(c.relname),
         (SELECT string_agg(quote_ident(a.attname)
                            || CASE WHEN a.attcollation <> 0 THEN ' COLLATE "C"' ELSE '' END,
                            ', ' ORDER BY k.ord)
            FROM pg_index i
            CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
           WHERE i.indrelid = c.oid AND i.indisprimary))
       ORDER BY n.nspname, c.relname), '[]')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%';
"""


class PgTarget(SqlTarget):
    """Where and how to reach a PostgreSQL server from this host."""

    PASSWORD_VARIABLE = "PGPASSWORD"
    MARKER = MARKER

    def env(self):
        env = dict(os.environ)
        env["PGCONNECT_TIMEOUT"] = str(CONNECT_TIMEOUT_SECONDS)
        env.pop("PGOPTIONS", None)
        return env

    def connection_args(self, database):
        args = ["-h", self.host, "-p", str(self.port), "-d", database]
        return args + (["-U", self.user] if self.user else [])

    def server_args(self):
        return ["-h", self.host, "-p", str(self.port)] + (["-U", self.user] if self.user else [])

    def tool(self, name):
        return find_tool(name, self.bin_dir)

    def psql_argv(self, database):
        return [
            self.tool("psql"),
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
        ] + self.connection_args(database)

    def session(self, database=None):
        """Return a psql session on database (the maintenance database when None)."""
        database = database or MAINTENANCE_DATABASE
        where = "psql %s@%s:%d/%s" % (self.user, self.host, self.port, database)
        return SqlSession(self.psql_argv(database), self.env(), where)

    def marker_statement(self):
        return echo_marker()

    def snapshot_session(self, database):
        session = self.session(database)
        session.send(SESSION_SETTINGS + "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\n")
        return session


def echo_marker():
    return "\\echo '%s'\n" % MARKER.replace("\\", "\\\\")


def fingerprint_in_session(session, algorithm):
    """Given a session inside a transaction, return the fingerprint of every table."""
    session.send(TABLES_QUERY + echo_marker())
    tables = json.loads("".join(session.collect(MARKER)) or "[]")
    objects = {}
    for name, qualified, order in tables:
        order_by = order or 't::text COLLATE "C"'
        session.send(
            "COPY (SELECT * FROM %s AS t ORDER BY %s) TO STDOUT;\n%s"
            % (qualified, order_by, echo_marker())
        )
        rows, digest = hash_rows(session.lines(MARKER), algorithm)
        objects[name] = {"rows": rows, "digest": digest}
    return {"kind": "postgresql", "algorithm": algorithm, "objects": objects}


def fingerprint(target, database, algorithm, invariants):
    """Return (fingerprint, invariant counts) of a live database, in one snapshot."""
    return target.read_snapshot(database, fingerprint_in_session, algorithm, invariants)


def database_exists(target, name):
    return bool(target.query("SELECT 1 FROM pg_database WHERE datname = %s;" % quote_literal(name)))


def quote_literal(text):
    return "'" + text.replace("'", "''") + "'"


def quote_ident(text):
    return '"' + text.replace('"', '""') + '"'


def dump(target, database, dest, algorithm, invariants):
    """pg_dump -Fc database into dest; return (fingerprint, invariants) of the same snapshot."""
    make_parent_directory(dest)
    session = target.snapshot_session(database)
    dumper = None
    try:
        session.send("SELECT pg_export_snapshot();\n" + echo_marker())
        snapshot = session.collect(MARKER)[0].strip()
        argv = [
            target.tool("pg_dump"),
            "-Fc",
            "--no-password",
            "--snapshot=" + snapshot,
            "-f",
            dest,
        ] + target.connection_args(database)
        dumper = BackgroundTool(argv, target.env(), "pg_dump of %s" % database)
        result = fingerprint_in_session(session, algorithm)
        counts = target.invariants_in_session(session, invariants)
        # Keep the exporting transaction open until pg_dump is done with the snapshot.
        dumper.finish()
        session.finish("COMMIT;\n")
    except SqlError:
        session.abort()
        if dumper is not None:
            dumper.stop()
        raise
    return result, counts


def scratch_name(database):
    """Return a new database name for a restore that does not touch database yet."""
    return any_case_scratch_name(database).lower()


def create_database(target, name):
    target.query("CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8';" % quote_ident(name))


def drop_database(target, name):
    target.query("DROP DATABASE IF EXISTS %s WITH (FORCE);" % quote_ident(name))


def pg_restore(target, archive, database):
    argv = (
        [
            target.tool("pg_restore"),
            "--no-password",
            "--exit-on-error",
            "--single-transaction",
            "-d",
            database,
        ]
        + target.server_args()
        + [archive]
    )
    run_tool(argv, target.env(), "pg_restore of %s into %s" % (os.path.basename(archive), database))


def swap_in(target, scratch, database):
    """Make scratch the database called database (the old one, if any, is dropped).

    Sessions still connected to the old database are ended: this is a failover.
    """
    old = None
    if database_exists(target, database):
        old = "%s_dr_old_%s" % (database[:36], secrets.token_hex(4))
        end_other_sessions(target, database)
        target.query("ALTER DATABASE %s RENAME TO %s;" % (quote_ident(database), quote_ident(old)))
    target.query("ALTER DATABASE %s RENAME TO %s;" % (quote_ident(scratch), quote_ident(database)))
    if old:
        drop_database(target, old)


def end_other_sessions(target, database):
    """End every other session connected to database; return how many were ended."""
    lines = target.query(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) "
        "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid();"
        % quote_literal(database)
    )
    return int(lines[0]) if lines else 0


def destroy(target, database):
    """Drop database on purpose (a drill's disaster), ending its other sessions first.

    Return what was done: {"sessions_ended": n}.
    """
    ended = end_other_sessions(target, database)
    drop_database(target, database)
    return {"sessions_ended": ended}
