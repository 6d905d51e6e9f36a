# -*- coding: utf-8 -*-
"""Action plugin of the dr.orchestrator modules that take passwords: the task's environment
reaches the module in its (no_log) arguments, never on a command line.

Ansible puts a task's `environment:` in front of the module's command
(`ssh … '/bin/sh -c '"'"'PGPASSWORD=… /usr/bin/python3'"'"''`), where any user of the controller
or the host reads it with `ps` while the task runs. Here the environment is templated as
Ansible would, the command line gets none of it, and the module gets it as its
I(dr_environment) option (plugins/module_utils/dr_environment.py), sent in the module payload
(stdin when pipelining) and masked as a no_log value in results and events.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase
from ansible.plugins.action.normal import ActionModule as NormalAction

OPTION = "dr_environment"


class ActionModule(NormalAction):
    """The normal action, with the task environment moved into the module's arguments."""

    def _compute_environment_string(self, raw_environment_out=None):
        # Ansible's own result is the `NAME=value` prefix of the command: never use it.
        ActionBase._compute_environment_string(self, raw_environment_out)
        return ""

    def _execute_module(self, module_name=None, module_args=None, *args, **kwargs):
        environment = {}
        ActionBase._compute_environment_string(self, environment)
        module_args = dict(self._task.args if module_args is None else module_args)
        if environment:
            module_args[OPTION] = {str(k): str(v) for k, v in environment.items()}
        return super()._execute_module(module_name, module_args, *args, **kwargs)
