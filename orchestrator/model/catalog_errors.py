"""What a catalog error tells the operator: one line naming the catalog (its address without
the password) and what to do, never SQLAlchemy's multi-line message with the statement and
its parameters (docs/cli.md, "Catalog errors").

SQLite `database is locked` (another process holds a write transaction past busy_timeout),
a read-only file, a file that cannot be opened, a full disk, a damaged file, and PostgreSQL
down or refusing are told apart by the driver's own message; anything else keeps that
message's first lines, joined on one line.
"""

from __future__ import annotations

import sys

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from orchestrator.errors import InfrastructureError

# (words of the driver's message, what it means, what to do)
_KNOWN = (
    (
        ("database is locked", "database table is locked", "lock timeout", "deadlock"),
        "locked by another process",
        "another drctl (or a tool holding a write transaction) is writing to it: wait for it "
        "to finish and run the command again",
    ),
    (
        ("readonly database", "read-only", "read only"),
        "read-only",
        "make the catalog (its file and directory, or the PostgreSQL role) writable by the "
        "user running drctl",
    ),
    (
        ("unable to open database file",),
        "cannot be opened",
        "check that the catalog's path (catalog_url in dr.yml) exists and its directory is "
        "readable and writable by the user running drctl",
    ),
    (
        ("database or disk is full", "no space left"),
        "on a full disk",
        "free space on the catalog's disk and run the command again",
    ),
    (
        ("file is not a database", "malformed"),
        "damaged",
        "put back a good copy of the catalog or rebuild it with `drctl catalog rebuild`",
    ),
    (
        (
            "connection refused",
            "could not connect",
            "connection to server",
            "server closed the connection",
            "the database system is",
            "timeout expired",
            "no route to host",
            "name or service not known",
            "password authentication failed",
        ),
        "unreachable",
        "check that the catalog's database server is up and reachable from this node, and "
        "the credentials of catalog_url in dr.yml",
    ),
)
_OTHER = "check the catalog (catalog_url in dr.yml) and run the command again"


class CatalogUnusable(InfrastructureError):
    """The catalog could not be read or written (locked, read-only, unreachable, damaged)."""


def catalog_address(url: str) -> str:
    """Return the catalog's URL with any password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an address that does not parse is still not shown whole
        return url.split("://", 1)[0] + "://(unparsable address)"


def is_catalog_error(error: BaseException) -> bool:
    """Return whether the error came from the catalog's database driver: through SQLAlchemy,
    or psycopg's own connection failure (the shared task queue connects without SQLAlchemy)."""
    if isinstance(error, DBAPIError):
        return True
    psycopg = sys.modules.get("psycopg")
    return psycopg is not None and isinstance(error, psycopg.OperationalError)


def driver_message(error: BaseException, url: str | None = None) -> str:
    """Return the driver's own message of a catalog error on one line (without SQLAlchemy's
    statement and parameters), with the catalog URL's password, if any, hidden."""
    reason = getattr(error, "orig", None) or error
    lines = [line.strip() for line in str(reason).splitlines() if line.strip()]
    text = "; ".join(lines[:3]) or type(reason).__name__
    password = make_url(url).password if url and "://" in url else None
    return text.replace(str(password), "***") if password else text


def catalog_problem(error: BaseException, url: str | None) -> str:
    """Given a catalog error and the catalog's URL (None: not known), return one line naming
    the catalog, what is wrong with it and what to do."""
    reason = driver_message(error, url)
    # "catalog unusable:" first, as before: scripts that look for it still find it.
    where = f"catalog unusable: {catalog_address(url)}" if url else "catalog unusable: the catalog"
    lowered = reason.lower()
    for words, meaning, todo in _KNOWN:
        if any(word in lowered for word in words):
            return f"{where} is {meaning} ({reason}): {todo}"
    return f"{where} is unusable ({reason}): {_OTHER}"
