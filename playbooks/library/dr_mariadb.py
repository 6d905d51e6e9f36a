#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: dump, restore and fingerprint a MariaDB database (dr-orchestrator)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: dr_mariadb
short_description: Dump, restore and fingerprint a MariaDB database
description:
  - C(dump) runs mariadb-dump --single-transaction into I(dest); a second session opens its
    consistent snapshot at the same moment (under a brief FLUSH TABLES WITH READ LOCK) and
    fingerprints every table in it.
    The fingerprint is also written next to the dump (I(fingerprint_file)), so a restore can
    check itself on the host before it replaces anything.
  - C(restore) always loads I(src) into a new scratch database first, fingerprints it and
    compares it with I(fingerprint_file). With I(mode=scratch) the scratch database is then
    dropped; with I(mode=replace) (a failover), only if equal, I(database) is dropped and
    recreated, loaded again and compared again (MariaDB cannot rename a database).
  - C(fingerprint) reads the live I(database) in one consistent-snapshot transaction.
  - The password, if any, comes from the MYSQL_PWD environment variable the task sets; it is
    never a module argument. I(password_env) only names the controller variable it came from.
options:
  action: {type: str, required: true, choices: [dump, restore, fingerprint]}
  dataset: {type: str, required: true}
  database: {type: str, required: true}
  host: {type: str, default: 127.0.0.1}
  port: {type: int, default: 3306}
  user: {type: str, default: ""}
  password_env: {type: str, default: ""}
  bin_dir: {type: str, default: ""}
  src: {type: path}
  dest: {type: path}
  fingerprint_file: {type: path}
  mode: {type: str, default: replace, choices: [replace, scratch]}
  invariants: {type: dict, default: {}}
  algorithm: {type: str, default: sha256}
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.dr_mysql import (
    MariaTarget,
    create_database,
    database_exists,
    drop_database,
    dump,
    fingerprint,
    load,
    scratch_name,
)
from ansible.module_utils.dr_sqlsession import SqlError, compare_fingerprints


def write_json(path, value):
    temporary = path + ".partial"
    with open(temporary, "w") as handle:
        json.dump(value, handle, sort_keys=True, separators=(",", ":"))
    os.replace(temporary, path)


def restore(target, params):
    expected = None
    if params["fingerprint_file"] and os.path.isfile(params["fingerprint_file"]):
        with open(params["fingerprint_file"]) as handle:
            expected = json.load(handle)
    scratch = scratch_name(params["database"])
    create_database(target, scratch)
    try:
        load(target, params["src"], scratch)
        result, counts = fingerprint(target, scratch, params["algorithm"], params["invariants"])
        differences = compare_fingerprints(expected, result) if expected is not None else []
        if differences:
            raise SqlError("restored database %s does not match the fingerprint taken at "
                           "backup time, %s left untouched: %s"
                           % (scratch, params["database"], "; ".join(differences)))
        if params["mode"] == "replace":
            drop_database(target, params["database"])
            create_database(target, params["database"])
            load(target, params["src"], params["database"])
            result, counts = fingerprint(target, params["database"], params["algorithm"],
                                         params["invariants"])
            differences = compare_fingerprints(expected or result, result)
            if differences:
                raise SqlError("database %s after loading differs from the fingerprint taken "
                               "at backup time: %s" % (params["database"], "; ".join(differences)))
    finally:
        if scratch is not None:
            drop_database(target, scratch)
    return result, counts, expected is not None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            action=dict(type="str", required=True, choices=["dump", "restore", "fingerprint"]),
            dataset=dict(type="str", required=True),
            database=dict(type="str", required=True),
            host=dict(type="str", default="127.0.0.1"),
            port=dict(type="int", default=3306),
            user=dict(type="str", default=""),
            password_env=dict(type="str", default=""),
            bin_dir=dict(type="str", default=""),
            src=dict(type="path"),
            dest=dict(type="path"),
            fingerprint_file=dict(type="path"),
            mode=dict(type="str", default="replace", choices=["replace", "scratch"]),
            invariants=dict(type="dict", default={}),
            algorithm=dict(type="str", default="sha256"),
        ),
        supports_check_mode=False,
    )
    params = module.params
    action = params["action"]
    target = MariaTarget(params["host"], params["port"], params["user"], params["bin_dir"],
                      params["password_env"])
    extra = {}
    try:
        target.check_password()
        if action == "dump":
            result, counts = dump(target, params["database"], params["dest"],
                                  params["algorithm"], params["invariants"])
            if params["fingerprint_file"]:
                write_json(params["fingerprint_file"], result)
        elif action == "restore":
            if not params["src"] or not os.path.isfile(params["src"]):
                module.fail_json(msg="restore of %s: dump %s is not in the spool"
                                 % (params["dataset"], params["src"]))
            result, counts, checked = restore(target, params)
            extra = {"mode": params["mode"], "checked_on_host": checked}
        else:
            if not database_exists(target, params["database"]):
                module.exit_json(changed=False, dr_result={
                    "name": "fingerprint:%s" % params["dataset"], "exists": False,
                    "fingerprint": {"kind": "mariadb", "objects": {}}, "invariants": {}})
            result, counts = fingerprint(target, params["database"], params["algorithm"],
                                         params["invariants"])
    except (SqlError, OSError, ValueError) as error:
        module.fail_json(msg="%s of %s (database %s on %s:%s) failed: %s" % (
            action, params["dataset"], params["database"], params["host"], params["port"], error))
    dr_result = {"name": "%s:%s" % (action, params["dataset"]), "exists": True,
                 "fingerprint": result, "invariants": counts}
    dr_result.update(extra)
    module.exit_json(changed=action != "fingerprint", dr_result=dr_result)


if __name__ == "__main__":
    main()
