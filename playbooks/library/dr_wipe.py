#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: remove paths and prove they are gone (disasters, enclave wipes, spools)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: dr_wipe
short_description: Remove files or trees and report what was removed and what remains
options:
  paths: {type: list, elements: path, required: true}
  purpose: {type: str, required: true}
  name:
    description: Name of the dr_result (default C(wipe:<purpose>)), e.g. C(destroy:<dataset>).
    type: str
  report:
    description: Extra keys to put in the dr_result (engine, kind, target).
    type: dict
    default: {}
"""

import os
import shutil

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(
            paths=dict(type="list", elements="path", required=True),
            purpose=dict(type="str", required=True),
            name=dict(type="str"),
            report=dict(type="dict", default={}),
        ),
        supports_check_mode=False,
    )
    removed = []
    for path in module.params["paths"]:
        if os.path.islink(path) or os.path.isfile(path):
            os.unlink(path)
            removed.append(path)
        elif os.path.isdir(path):
            shutil.rmtree(path)
            removed.append(path)
    remaining = [path for path in module.params["paths"] if os.path.lexists(path)]
    if remaining:
        module.fail_json(msg="still present after wipe: %s" % ", ".join(remaining))
    module.exit_json(
        changed=bool(removed),
        dr_result=dict(
            module.params["report"],
            name=module.params["name"] or "wipe:%s" % module.params["purpose"],
            removed=removed,
            remaining=remaining,
            destroyed=bool(removed),
            exists=False,
        ),
    )


if __name__ == "__main__":
    main()
