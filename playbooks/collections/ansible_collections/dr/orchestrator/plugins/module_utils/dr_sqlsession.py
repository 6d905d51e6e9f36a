# -*- coding: utf-8 -*-
"""A long-lived SQL client session (psql or mariadb) driven over pipes (dr-orchestrator).

Shared by dr_postgresql, dr_mariadb and dr_pg_ledger. Runs under the host's own Python 3,
standard library only: the database is reached through its own command-line client, so no
driver has to be installed on the host. Passwords reach the client only through the
environment the task sets (PGPASSWORD, MYSQL_PWD); they are never arguments.

A session keeps one connection (and so one transaction, one snapshot) open while the caller
sends statements and reads their output line by line up to a marker line the caller echoes.
Rows are hashed as they stream: nothing is held whole in memory.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
import tempfile

CONNECT_TIMEOUT_SECONDS = 15


class SqlError(Exception):
    """A client command or statement failed; the message carries the client's own error."""


def find_tool(name, bin_dir=""):
    """Given a client tool name and an optional directory, return its path or raise SqlError."""
    if bin_dir:
        candidate = os.path.join(bin_dir, name)
        if os.access(candidate, os.X_OK):
            return candidate
        raise SqlError("%s not found in %s (dr_*_bin_dir)" % (name, bin_dir))
    found = shutil.which(name)
    if not found:
        raise SqlError("%s not found on PATH of the host" % name)
    return found


def new_hash(algorithm):
    return hashlib.sha256() if algorithm == "sha256" else hashlib.new(algorithm)


class SqlSession(object):
    """One client process with an open connection; statements in, lines out."""

    def __init__(self, argv, env, what):
        self.what = what
        self.stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, env=env
        )

    def send(self, text):
        """Send statements to the client; raise SqlError if it has already exited."""
        try:
            self.process.stdin.write(text.encode("utf-8"))
            self.process.stdin.flush()
        except (BrokenPipeError, OSError) as error:
            raise SqlError(self.failure("connection closed while sending")) from error

    def lines(self, marker):
        """Yield output lines (bytes, newline included) until the marker line; raise SqlError
        when the client exits first (a failed statement stops it)."""
        end = marker.encode("utf-8") + b"\n"
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise SqlError(self.failure("client exited before the statement finished"))
            if line == end:
                return
            yield line

    def collect(self, marker):
        """Return the output lines up to the marker, decoded, without newlines."""
        return [line.decode("utf-8").rstrip("\n") for line in self.lines(marker)]

    def failure(self, context):
        code = self.process.poll()
        if code is None:
            try:
                code = self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                code = None
        return "%s: %s (exit %s): %s" % (self.what, context, code, self.error_text())

    def error_text(self):
        self.stderr.seek(0)
        text = self.stderr.read().decode("utf-8", "replace").strip()
        return text[-2000:] or "(no message)"

    def finish(self, closing=""):
        """Send the closing statements, end the input and wait; raise SqlError on a failure."""
        try:
            if closing:
                self.process.stdin.write(closing.encode("utf-8"))
            self.process.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        code = self.process.wait()
        if code != 0:
            raise SqlError("%s exited %d: %s" % (self.what, code, self.error_text()))
        self.stderr.close()

    def abort(self):
        """Stop the client without committing anything (the server rolls back)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.stderr.close()


class SqlTarget(object):
    """Where and how to reach a database server from this host; what every engine shares.

    A subclass sets PASSWORD_VARIABLE (the client's own password variable) and MARKER, and
    defines session(database), marker_statement() and snapshot_session(database).
    """

    PASSWORD_VARIABLE = ""
    MARKER = ""

    def __init__(self, host, port, user, bin_dir="", password_env=""):
        self.host = host
        self.port = int(port)
        self.user = user
        self.bin_dir = bin_dir or ""
        self.password_env = password_env or ""

    def check_password(self):
        """Raise SqlError when the dataset names a password variable but none reached us."""
        if self.password_env and not os.environ.get(self.PASSWORD_VARIABLE):
            raise SqlError(
                "environment variable %s (the dataset's password_env) is not set on "
                "the controller, so no password reached the host" % self.password_env
            )

    def session(self, database=None):
        raise NotImplementedError

    def snapshot_session(self, database):
        raise NotImplementedError

    def marker_statement(self):
        raise NotImplementedError

    def query(self, sql, database=None):
        """Run sql in its own session; return the output lines."""
        session = self.session(database)
        try:
            session.send(sql + "\n" + self.marker_statement())
            lines = session.collect(self.MARKER)
            session.finish()
        except SqlError:
            session.abort()
            raise
        return lines

    def invariants_in_session(self, session, invariants):
        """Run each named query; return {name: number of violating rows}."""
        counts = {}
        for name, query in sorted(invariants.items()):
            session.send(
                "SELECT COUNT(*) FROM (%s) AS dr_invariant;\n%s"
                % (query.strip().rstrip(";"), self.marker_statement())
            )
            lines = session.collect(self.MARKER)
            counts[name] = int(lines[0]) if lines else 0
        return counts

    def read_snapshot(self, database, fingerprint_in_session, algorithm, invariants):
        """Return (fingerprint, invariant counts) of a live database, read in one snapshot by
        fingerprint_in_session(session, algorithm)."""
        session = self.snapshot_session(database)
        try:
            result = fingerprint_in_session(session, algorithm)
            counts = self.invariants_in_session(session, invariants)
            session.finish("COMMIT;\n")
        except SqlError:
            session.abort()
            raise
        return result, counts


def scratch_name(database):
    """Return a new database name for a restore that does not touch database yet."""
    return "%s_dr_%s" % (database[:40], secrets.token_hex(4))


def make_parent_directory(path):
    """Create the directory path will be written in, if it is missing."""
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory)


class BackgroundTool(object):
    """A client tool (pg_dump, mariadb-dump) running beside an open session; stderr kept."""

    def __init__(self, argv, env, what):
        self.what = what
        self.errors = tempfile.TemporaryFile()
        self.done = False
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self.errors,
            env=env,
        )

    def running(self):
        return self.process.poll() is None

    def finish(self):
        """Wait for the tool to end; raise SqlError with its stderr if it failed."""
        code = self.process.wait()
        text = self.close()
        if code != 0:
            raise SqlError("%s exited %d: %s" % (self.what, code, text))

    def stop(self):
        """Kill the tool if it still runs; return what it wrote to stderr ("" if nothing, or
        if it had already finished)."""
        if self.done:
            return ""
        if self.running():
            self.process.kill()
        self.process.wait()
        return self.close()

    def close(self):
        self.done = True
        self.errors.seek(0)
        text = self.errors.read().decode("utf-8", "replace").strip()[-2000:]
        self.errors.close()
        return text


def hash_rows(lines, algorithm):
    """Given an iterator of row lines (bytes), return (row count, hex digest of the lines)."""
    digest = new_hash(algorithm)
    rows = 0
    for line in lines:
        digest.update(line)
        rows += 1
    return rows, digest.hexdigest()


def run_tool(argv, env, what, stdin_path=None, timeout=None):
    """Run a client tool to completion; raise SqlError with its stderr if it fails."""
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    try:
        result = subprocess.run(
            argv,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            timeout=timeout,
        )
    finally:
        if stdin_path:
            stdin.close()
    if result.returncode != 0:
        raise SqlError(
            "%s exited %d: %s"
            % (what, result.returncode, result.stderr.decode("utf-8", "replace").strip()[-2000:])
        )
    return result.stdout.decode("utf-8", "replace")


def compare_fingerprints(expected, actual):
    """Return one line per table whose row count or digest differs (empty when equal)."""
    want = expected.get("objects", {})
    got = actual.get("objects", {})
    differences = []
    for name in sorted(set(want) | set(got)):
        if want.get(name) != got.get(name):
            differences.append("%s: expected %s, got %s" % (name, want.get(name), got.get(name)))
    return differences
