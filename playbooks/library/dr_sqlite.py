#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: dump, restore and fingerprint a SQLite database (dr-orchestrator)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: dr_sqlite
short_description: Dump, restore and fingerprint a SQLite database
description:
  - C(dump) takes a consistent online copy with SQLite's backup API into I(dest).
  - C(restore) puts I(src) in place of I(dest) atomically (temp file and rename).
  - C(fingerprint) reads I(path). Every action returns the logical fingerprint (per table row
    count and content digest in rowid order) and the result of the named invariant queries.
options:
  action: {type: str, required: true, choices: [dump, restore, fingerprint]}
  dataset: {type: str, required: true}
  src: {type: path}
  dest: {type: path}
  path: {type: path}
  invariants: {type: dict, default: {}}
  algorithm: {type: str, default: sha256}
"""

import os
import shutil
import sqlite3

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.dr_hashing import sqlite_fingerprint, sqlite_invariants


def dump(src, dest):
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    source = sqlite3.connect("file:%s?mode=ro" % src, uri=True)
    target = sqlite3.connect(dest)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def restore(src, dest):
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    temporary = dest + ".restoring"
    shutil.copyfile(src, temporary)
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    for suffix in ("-wal", "-shm", "-journal"):
        if os.path.exists(dest + suffix):
            os.unlink(dest + suffix)
    os.replace(temporary, dest)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            action=dict(type="str", required=True, choices=["dump", "restore", "fingerprint"]),
            dataset=dict(type="str", required=True),
            src=dict(type="path"),
            dest=dict(type="path"),
            path=dict(type="path"),
            invariants=dict(type="dict", default={}),
            algorithm=dict(type="str", default="sha256"),
        ),
        supports_check_mode=False,
    )
    params = module.params
    action = params["action"]
    try:
        if action == "dump":
            if not os.path.isfile(params["src"]):
                module.fail_json(msg="database %s does not exist" % params["src"])
            dump(params["src"], params["dest"])
            target = params["dest"]
        elif action == "restore":
            restore(params["src"], params["dest"])
            target = params["dest"]
        else:
            target = params["path"]
            if not os.path.isfile(target):
                module.exit_json(
                    changed=False,
                    dr_result={
                        "name": "fingerprint:%s" % params["dataset"],
                        "exists": False,
                        "fingerprint": {"kind": "sqlite", "objects": {}},
                        "invariants": {},
                    },
                )
        fingerprint = sqlite_fingerprint(target, params["algorithm"])
        invariants = sqlite_invariants(target, params["invariants"])
    except (sqlite3.Error, OSError) as error:
        module.fail_json(msg="%s of %s failed: %s" % (action, params["dataset"], error))
    module.exit_json(
        changed=action != "fingerprint",
        dr_result={
            "name": "%s:%s" % (action, params["dataset"]),
            "exists": True,
            "fingerprint": fingerprint,
            "invariants": invariants,
            "server_version": "SQLite %s" % sqlite3.sqlite_version,
        },
    )


if __name__ == "__main__":
    main()
