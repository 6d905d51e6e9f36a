# -*- coding: utf-8 -*-
"""Action plugin of dr_mariadb: its task environment (passwords) reaches the module in its no_log
arguments, never on the command line (plugins/plugin_utils/dr_environment.py)."""

from __future__ import annotations

from ansible_collections.dr.orchestrator.plugins.plugin_utils.dr_environment import (  # noqa: F401
    ActionModule,
)
