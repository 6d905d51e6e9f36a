# -*- coding: utf-8 -*-
"""MariaDB on the host: dump, restore and fingerprint through the mariadb client tools.

Shared by dr_mariadb. Standard library only.

Fingerprint: per base table, the row count and the digest of the lines
`SELECT JSON_ARRAY(<columns>) FROM t ORDER BY <primary key>` (binary and spatial columns as
HEX, session time zone UTC), read inside one `START TRANSACTION WITH CONSISTENT SNAPSHOT`.
JSON keeps NULL apart from the string 'NULL', which the client's tab format does not. Rows are
streamed to this module and hashed as they arrive (no GROUP_CONCAT limit, no whole table in
memory). A table without a primary key is ordered by its JSON row (binary collation).

At backup time the fingerprint's snapshot is lined up with mariadb-dump's: a third session
holds FLUSH TABLES WITH READ LOCK (no commit can happen) while the fingerprint session opens
its snapshot and mariadb-dump --single-transaction opens its own; the lock is released as soon
as the dump's transaction is seen in information_schema.INNODB_TRX. Writes wait for that
short moment only, never for the dump itself.
"""

from __future__ import annotations

import binascii
import os
import time

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

MARKER = "#dr-end"
SNAPSHOT_WAIT_SECONDS = 60
BINARY_TYPES = {
    "binary",
    "varbinary",
    "tinyblob",
    "blob",
    "mediumblob",
    "longblob",
    "bit",
    "geometry",
    "point",
    "linestring",
    "polygon",
    "multipoint",
    "multilinestring",
    "multipolygon",
    "geometrycollection",
}
COLUMNS_QUERY = """
SELECT HEX(c.TABLE_NAME), HEX(c.COLUMN_NAME), c.DATA_TYPE,
       COALESCE(k.ORDINAL_POSITION, 0)
  FROM information_schema.COLUMNS c
  JOIN information_schema.TABLES t
    ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
   AND t.TABLE_TYPE = 'BASE TABLE'
  LEFT JOIN information_schema.KEY_COLUMN_USAGE k
    ON k.TABLE_SCHEMA = c.TABLE_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME
   AND k.COLUMN_NAME = c.COLUMN_NAME AND k.CONSTRAINT_NAME = 'PRIMARY'
 WHERE c.TABLE_SCHEMA = DATABASE()
 ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION;
"""


def quote_ident(name):
    return "`" + name.replace("`", "``") + "`"


def select_marker():
    return "SELECT '%s';\n" % MARKER


class MariaTarget(SqlTarget):
    """Where and how to reach a MariaDB server from this host."""

    PASSWORD_VARIABLE = "MYSQL_PWD"
    MARKER = MARKER

    def env(self):
        return dict(os.environ)

    def server_args(self):
        args = ["--protocol=TCP", "--host=%s" % self.host, "--port=%d" % self.port]
        return args + (["--user=%s" % self.user] if self.user else [])

    def client_argv(self, database=None):
        argv = [
            find_tool("mariadb", self.bin_dir),
            "--no-defaults",
            "--batch",
            "--skip-column-names",
            "--unbuffered",
            "--init-command=SET time_zone='+00:00'",
            "--connect-timeout=%d" % CONNECT_TIMEOUT_SECONDS,
        ]
        return argv + self.server_args() + ([database] if database else [])

    def session(self, database=None):
        where = "mariadb %s@%s:%d/%s" % (self.user, self.host, self.port, database or "")
        return SqlSession(self.client_argv(database), self.env(), where)

    def marker_statement(self):
        return select_marker()

    def snapshot_session(self, database):
        session = self.session(database)
        session.send(
            "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ;\n"
            "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY;\n"
        )
        return session


def table_plans(session):
    """Return [(table, select statement)] for every base table, ordered by name."""
    session.send(COLUMNS_QUERY + select_marker())
    tables = {}
    for line in session.collect(MARKER):
        table_hex, column_hex, data_type, key_position = line.split("\t")
        table = binascii.unhexlify(table_hex).decode("utf-8")
        column = binascii.unhexlify(column_hex).decode("utf-8")
        entry = tables.setdefault(table, {"columns": [], "key": []})
        quoted = quote_ident(column)
        entry["columns"].append("HEX(%s)" % quoted if data_type.lower() in BINARY_TYPES else quoted)
        if int(key_position):
            entry["key"].append((int(key_position), quoted))
    plans = []
    for table in sorted(tables):
        entry = tables[table]
        row = "JSON_ARRAY(%s)" % ", ".join(entry["columns"])
        order = ", ".join(name for _, name in sorted(entry["key"])) or "BINARY dr_row"
        plans.append(
            (table, "SELECT %s AS dr_row FROM %s ORDER BY %s;\n" % (row, quote_ident(table), order))
        )
    return plans


def fingerprint_in_session(session, algorithm):
    objects = {}
    for table, statement in table_plans(session):
        session.send(statement + select_marker())
        rows, digest = hash_rows(session.lines(MARKER), algorithm)
        objects[table] = {"rows": rows, "digest": digest}
    return {"kind": "mariadb", "algorithm": algorithm, "objects": objects}


def fingerprint(target, database, algorithm, invariants):
    """Return (fingerprint, invariant counts) of a live database, in one snapshot."""
    return target.read_snapshot(database, fingerprint_in_session, algorithm, invariants)


def transaction_threads(holder):
    holder.send(
        "SELECT trx_mysql_thread_id FROM information_schema.INNODB_TRX;\n" + select_marker()
    )
    return set(holder.collect(MARKER))


def dump(target, database, dest, algorithm, invariants):
    """mariadb-dump --single-transaction into dest; return (fingerprint, invariants) taken
    in a snapshot of the same moment (see the module docstring)."""
    make_parent_directory(dest)
    holder = target.session(database)
    session = None
    dumper = None
    try:
        holder.send("FLUSH TABLES WITH READ LOCK;\n" + select_marker())
        holder.collect(MARKER)
        session = target.snapshot_session(database)
        session.send(select_marker())
        session.collect(MARKER)
        before = transaction_threads(holder)
        argv = (
            [
                find_tool("mariadb-dump", target.bin_dir),
                "--no-defaults",
                "--single-transaction",
                "--routines",
                "--triggers",
                "--events",
                "--hex-blob",
                "--skip-dump-date",
                "--result-file=" + dest,
            ]
            + target.server_args()
            + [database]
        )
        dumper = BackgroundTool(argv, target.env(), "mariadb-dump of %s" % database)
        deadline = time.monotonic() + SNAPSHOT_WAIT_SECONDS
        # A dump that already finished ran entirely under the lock: same data as well.
        while not transaction_threads(holder) - before and dumper.running():
            if time.monotonic() > deadline:
                raise SqlError(
                    "mariadb-dump did not open its snapshot within %d s" % SNAPSHOT_WAIT_SECONDS
                )
            time.sleep(0.02)
        holder.finish("UNLOCK TABLES;\n")
        holder = None
        result = fingerprint_in_session(session, algorithm)
        counts = target.invariants_in_session(session, invariants)
        session.finish("COMMIT;\n")
        session = None
        dumper.finish()
    except SqlError as error:
        for open_session in (holder, session):
            if open_session is not None:
                open_session.abort()
        text = dumper.stop() if dumper is not None else ""
        if text:
            raise SqlError("%s: %s" % (dumper.what, text)) from error
        raise
    return result, counts


def database_exists(target, name):
    hexed = binascii.hexlify(name.encode("utf-8")).decode("ascii")
    return bool(
        target.query(
            "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = UNHEX('%s');" % hexed
        )
    )


def create_database(target, name):
    target.query("CREATE DATABASE %s CHARACTER SET utf8mb4;" % quote_ident(name))


def drop_database(target, name):
    target.query("DROP DATABASE IF EXISTS %s;" % quote_ident(name))


def load(target, dump_path, database):
    run_tool(
        target.client_argv(database),
        target.env(),
        "loading %s into %s" % (os.path.basename(dump_path), database),
        stdin_path=dump_path,
    )


def destroy(target, database):
    """Drop database on purpose (a drill's disaster); return what was done (nothing more)."""
    drop_database(target, database)
    return {}
