# -*- coding: utf-8 -*-
"""Lookup plugin dr_secret: a secret handed over by the drctl process that runs the playbook."""

from __future__ import annotations

DOCUMENTATION = r"""
name: dr_secret
short_description: Read a secret from the drctl process running this playbook
description:
  - Returns the value of an environment variable of the drctl process that started this
    playbook, asked for over the private Unix socket named by C(DR_SECRET_SOCKET). drctl keeps
    secrets out of the playbook's environment, because ansible-runner records that environment
    on disk; only the variables drctl declared for this run (a dataset's C(password_env)) are
    served, and only to processes drctl started.
  - Without C(DR_SECRET_SOCKET) (a playbook run by hand with ansible-playbook) the variable is
    read from the controller's own environment, as C(ansible.builtin.env) would.
  - Fails, naming the variable, when it is not set.
options:
  _terms:
    description: Names of the variables to read.
    required: true
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Dump with the dataset's password in the task environment only
  dr.orchestrator.dr_postgresql:
    action: dump
  environment:
    PGPASSWORD: "{{ lookup('dr.orchestrator.dr_secret', engine_postgresql_dataset.password_env) }}"
"""

RETURN = r"""
_raw:
  description: The value of each variable, in order.
  type: list
  elements: str
"""

import json
import os
import socket

from ansible.errors import AnsibleError
from ansible.plugins.lookup import LookupBase

SOCKET_VARIABLE = "DR_SECRET_SOCKET"
TIMEOUT_SECONDS = 30


def ask(path, name):
    """Return the value drctl serves for name on the socket at path; raise AnsibleError."""
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(TIMEOUT_SECONDS)
    try:
        client.connect(path)
        client.sendall(name.encode("utf-8") + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = client.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError as error:
        raise AnsibleError(
            "dr_secret: cannot reach drctl's secret channel %s: %s" % (path, error)
        ) from error
    finally:
        client.close()
    try:
        answer = json.loads(data.decode("utf-8"))
    except ValueError:
        raise AnsibleError(
            "dr_secret: no answer from drctl's secret channel for %s" % name
        ) from None
    if "value" not in answer:
        raise AnsibleError("dr_secret: %s" % answer.get("error", "no value for %s" % name))
    return answer["value"]


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        path = os.environ.get(SOCKET_VARIABLE)
        values = []
        for name in terms:
            if path:
                values.append(ask(path, name))
            elif name in os.environ:
                values.append(os.environ[name])
            else:
                raise AnsibleError("dr_secret: environment variable %s is not set" % name)
        return values
