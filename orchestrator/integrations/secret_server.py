"""The server side of the secret channel: who may ask (a process of the same user that
descends from this one, checked with SO_PEERCRED and /proc) and what it gets, one JSON line:
`{"value": "…"}` or `{"error": "…"}`."""

from __future__ import annotations

import json
import logging
import os
import socket
import socketserver
import struct
from collections.abc import Mapping
from pathlib import Path

logger = logging.getLogger(__name__)

REQUEST_MAX_BYTES = 4096
PEER_CREDENTIALS = struct.Struct("3i")  # struct ucred: pid, uid, gid


def process_parent(pid: int) -> int | None:
    """Return the parent pid of pid from /proc, or None when it cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
    fields = stat.rpartition(")")[2].split()
    return int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else None


def descends_from(pid: int, ancestor: int) -> bool:
    """Return True when pid is ancestor or one of its descendants."""
    seen = 0
    current: int | None = pid
    while current is not None and current > 1 and seen < 256:
        if current == ancestor:
            return True
        current = process_parent(current)
        seen += 1
    return False


class _Handler(socketserver.StreamRequestHandler):
    server: SecretServer

    def handle(self) -> None:
        pid, uid, _gid = PEER_CREDENTIALS.unpack(
            self.connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, PEER_CREDENTIALS.size)
        )
        name = self.rfile.readline(REQUEST_MAX_BYTES).decode("utf-8", "replace").strip()
        answer = self.server.answer(name, pid, uid)
        self.wfile.write(json.dumps(answer).encode("utf-8") + b"\n")


class SecretServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str, secrets: Mapping[str, str | None]) -> None:
        super().__init__(path, _Handler)
        self.secrets = dict(secrets)
        self.owner_pid = os.getpid()
        self.owner_uid = os.getuid()

    def answer(self, name: str, pid: int, uid: int) -> dict[str, str]:
        if uid != self.owner_uid or not descends_from(pid, self.owner_pid):
            logger.warning("secret channel: refused %r to pid %d (uid %d)", name, pid, uid)
            return {"error": "refused: not a process drctl started"}
        if name not in self.secrets:
            return {"error": f"{name} is not a secret this playbook run may read"}
        value = self.secrets[name]
        if value is None:
            return {"error": f"environment variable {name} is not set where drctl runs"}
        return {"value": value}
