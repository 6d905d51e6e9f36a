#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: remove paths and prove they are gone (disasters, enclave wipes, spools)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: dr_wipe
short_description: Remove files or trees and prove they are gone
version_added: 0.1.0
description:
  - Removes each path in I(paths) (a file, a symbolic link or a whole tree) and then checks
    that none of them exists any more; fails naming what is left otherwise.
  - Used for a drill's disaster (the live data of a site), for a verification enclave's wipe
    and for spools of earlier, interrupted runs. A path that does not exist is not an error.
  - In check mode nothing is removed; C(changed) says whether any path exists and so would
    be removed, and C(would_remove) lists them.
options:
  paths:
    description: Absolute paths to remove; a symbolic link is removed, never followed.
    type: list
    elements: path
    required: true
  purpose:
    description: Why the paths are removed (for example C(disaster), C(spool),
      C(verification-enclave)); it names the result, C(wipe:<purpose>).
    type: str
    required: true
  name:
    description: Name of the result instead of C(wipe:<purpose>), for example
      C(destroy:<dataset>).
    type: str
  report:
    description: Extra keys copied into the result (for example engine, kind and target).
    type: dict
    default: {}
attributes:
  check_mode:
    description: Removes nothing; reports whether anything would be removed.
    support: full
  diff_mode:
    description: No diff is produced.
    support: none
author:
  - dr-orchestrator maintainers
"""

EXAMPLES = r"""
- name: Remove the spool of an interrupted backup
  dr.orchestrator.dr_wipe:
    paths: [/var/spool/dr/backup-core-banking]
    purpose: spool

- name: A drill's disaster - remove the live tree of one dataset and report it per dataset
  dr.orchestrator.dr_wipe:
    paths: [/srv/dr-sandbox/production/data/config]
    purpose: disaster
    name: destroy:config
    report:
      engine: files
      kind: path
      target: /srv/dr-sandbox/production/data/config
"""

RETURN = r"""
would_remove:
  description: The paths that exist and a real run would remove.
  returned: check mode
  type: list
  elements: str
  sample: [/var/spool/dr/backup-core-banking]
dr_result:
  description: What was removed, for dr-orchestrator (the keys of I(report) are added).
  returned: success, not in check mode
  type: dict
  contains:
    name:
      description: C(wipe:<purpose>), or I(name).
      type: str
      returned: always
      sample: wipe:spool
    removed:
      description: The paths that existed and were removed.
      type: list
      elements: str
      returned: always
      sample: [/var/spool/dr/backup-core-banking]
    remaining:
      description: Paths still present afterwards; always empty, or the module fails.
      type: list
      elements: str
      returned: always
      sample: []
    destroyed:
      description: Whether anything was removed.
      type: bool
      returned: always
      sample: true
    exists:
      description: Whether any of the paths exists afterwards; always false.
      type: bool
      returned: always
      sample: false
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dr.orchestrator.plugins.module_utils.dr_steps import (
    StepFailed,
    wipe_step,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            paths=dict(type="list", elements="path", required=True),
            purpose=dict(type="str", required=True),
            name=dict(type="str"),
            report=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    try:
        outcome = wipe_step(module.params, module.check_mode)
    except StepFailed as error:
        module.fail_json(msg=str(error))
    module.exit_json(**outcome)


if __name__ == "__main__":
    main()
