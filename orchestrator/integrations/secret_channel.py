"""Secrets for playbooks that leave no trace on disk: a Unix socket owned by this process.

ansible-runner writes the whole environment of every run into `artifacts/<ident>/command`, and
that file outlives a `kill -9`. So no secret ever goes into the playbook's environment (see
`integrations/ansible.py`, which strips them). Instead, while a playbook runs, this process
serves the secrets it is allowed to hand out on a Unix socket in a private directory (mode
0700), and the controller-side lookup plugin `dr.orchestrator.dr_secret` (the collection's
plugins/lookup) asks for them by name. The only thing the playbook's environment holds is
the socket's path.

Who may ask: a process of the same user that descends from this one (the ansible-playbook we
started, or one of its workers), checked with SO_PEERCRED and /proc. What may be asked: only
the variable names the caller declared (a dataset's `password_env`). The socket and its
directory are removed when the playbook ends; after a crash they hold nothing.

Wire format: the client sends one line, the variable name; the server answers one JSON line,
`{"value": "…"}` or `{"error": "…"}`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Collection, Mapping
from types import TracebackType

from orchestrator.integrations.secret_server import SecretServer

SOCKET_VARIABLE = "DR_SECRET_SOCKET"


class SecretChannel:
    """Serve the named variables of this process's environment to its own playbook runs, for
    the length of a `with` block; `envvars` is what the playbook's environment gets instead."""

    def __init__(self, names: Collection[str], source: Mapping[str, str] | None = None) -> None:
        values = os.environ if source is None else source
        self._secrets = {name: values.get(name) for name in sorted(set(names))}
        self._directory: str | None = None
        self._server: SecretServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def envvars(self) -> dict[str, str]:
        if self._server is None:
            return {}
        return {SOCKET_VARIABLE: str(self._server.server_address)}

    def __enter__(self) -> SecretChannel:
        if not self._secrets:
            return self
        base = os.environ.get("XDG_RUNTIME_DIR") or None
        self._directory = tempfile.mkdtemp(prefix="drctl-secrets-", dir=base)  # mode 0700
        self._server = SecretServer(os.path.join(self._directory, "socket"), self._secrets)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="secret-channel",
            daemon=True,
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        _kind: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
        self._server = None
        self._directory = None
