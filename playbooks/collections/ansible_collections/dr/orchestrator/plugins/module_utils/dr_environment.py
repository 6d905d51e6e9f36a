# -*- coding: utf-8 -*-
"""The task environment of a dr.orchestrator module, received in its arguments.

Ansible sets a task's `environment:` by prefixing the module's command line
(`/bin/sh -c 'PGPASSWORD=… /usr/bin/python3'`), so every password in it is readable in `ps` on
the controller (the ssh argv) and on the host (the shell's argv) for the whole task. The
collection's action plugin (plugins/plugin_utils/dr_environment.py) takes the task's
environment off the command line and hands it over as the no_log option I(dr_environment),
which travels in the module payload (on stdin when pipelining) and is masked in every result;
the module puts it into its own environment first thing, where the database clients it starts
inherit it as before.
"""

from __future__ import annotations

import os

OPTION = "dr_environment"


def environment_option():
    """Return the argument spec entry of the task environment (no_log: it holds passwords)."""
    return dict(type="dict", default={}, no_log=True)


def apply_task_environment(module):
    """Given a started AnsibleModule, put the task environment it received into os.environ."""
    for name, value in (module.params.get(OPTION) or {}).items():
        os.environ[str(name)] = str(value)
