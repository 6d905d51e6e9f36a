#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: snapshot, restore and fingerprint a directory tree (dr-orchestrator)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: dr_files
short_description: Snapshot, restore and fingerprint a directory tree
description:
  - C(dump) copies the tree at I(src) into I(dest) (regular files only; links are refused).
  - C(restore) replaces the tree at I(dest) with I(src), swapping directories by rename.
  - C(fingerprint) returns file count, bytes and a digest of the listing of I(path).
options:
  action: {type: str, required: true, choices: [dump, restore, fingerprint]}
  dataset: {type: str, required: true}
  src: {type: path}
  dest: {type: path}
  path: {type: path}
  algorithm: {type: str, default: sha256}
"""

import os
import shutil

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.dr_hashing import list_tree, tree_fingerprint


def copy_tree(src, dest):
    for relative in list_tree(src):
        target = os.path.join(dest, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(src, relative), target)


def restore(src, dest):
    incoming = dest.rstrip("/") + ".restoring"
    outgoing = dest.rstrip("/") + ".replaced"
    for leftover in (incoming, outgoing):
        shutil.rmtree(leftover, ignore_errors=True)
    os.makedirs(incoming)
    copy_tree(src, incoming)
    if os.path.exists(dest):
        os.rename(dest, outgoing)
    os.rename(incoming, dest)
    shutil.rmtree(outgoing, ignore_errors=True)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            action=dict(type="str", required=True, choices=["dump", "restore", "fingerprint"]),
            dataset=dict(type="str", required=True),
            src=dict(type="path"),
            dest=dict(type="path"),
            path=dict(type="path"),
            algorithm=dict(type="str", default="sha256"),
        ),
        supports_check_mode=False,
    )
    params = module.params
    action = params["action"]
    try:
        if action == "dump":
            if not os.path.isdir(params["src"]):
                module.fail_json(msg="directory %s does not exist" % params["src"])
            os.makedirs(params["dest"], exist_ok=True)
            copy_tree(params["src"], params["dest"])
            target = params["dest"]
        elif action == "restore":
            restore(params["src"], params["dest"])
            target = params["dest"]
        else:
            target = params["path"]
            if not os.path.isdir(target):
                module.exit_json(
                    changed=False,
                    dr_result={
                        "name": "fingerprint:%s" % params["dataset"],
                        "exists": False,
                        "fingerprint": {"kind": "files", "objects": {}},
                        "invariants": {},
                    },
                )
        fingerprint = tree_fingerprint(target, params["algorithm"])
    except (OSError, ValueError) as error:
        module.fail_json(msg="%s of %s failed: %s" % (action, params["dataset"], error))
    module.exit_json(
        changed=action != "fingerprint",
        dr_result={
            "name": "%s:%s" % (action, params["dataset"]),
            "exists": True,
            "fingerprint": fingerprint,
            "invariants": {},
        },
    )


if __name__ == "__main__":
    main()
