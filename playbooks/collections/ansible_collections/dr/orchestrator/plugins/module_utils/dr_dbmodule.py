# -*- coding: utf-8 -*-
"""What the database modules (dr_postgresql, dr_mariadb) share: arguments, actions, results.

Standard library only, besides AnsibleModule. A module describes its engine in a
DatabaseEngine (its kind, default port, target class and the engine functions of
dr_pgsql/dr_mysql) and calls run_database_module(engine); everything else is the same:

- dump: the engine's dump; the fingerprint is also written to I(fingerprint_file).
- restore: into a new scratch database first, fingerprinted and compared with
  I(fingerprint_file); with mode=scratch the scratch database is dropped; with mode=replace
  the engine puts it in place (renamed, or the target reloaded and checked again) only when it
  matched. A mismatch is a result, not a task failure: dr_result says matched false, lists
  the differences and whether anything was put in place, so the orchestrator can tell a
  failed check (exit 1) from a host or server that failed (exit 3).
- fingerprint: the live database in one snapshot (exists false when there is none); with
  params["schema"] (dr_datasets' I(schema)) also the digest of its schema objects (dr_schema).
- destroy: the live database dropped on purpose (a drill's disaster), then proven absent.

Check mode connects and reads only (preview): it fails where a real run would fail before
writing (no password, server unreachable, dump missing, database missing for a dump) and
reports changed as a real run would, with a message saying what that run would do.
"""

from __future__ import annotations

import json
import os
from collections import namedtuple

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dr.orchestrator.plugins.module_utils.dr_downstream import (
    refuse_downstream,
)
from ansible_collections.dr.orchestrator.plugins.module_utils.dr_environment import (
    apply_task_environment,
    environment_option,
)
from ansible_collections.dr.orchestrator.plugins.module_utils.dr_schema import schema_digest
from ansible_collections.dr.orchestrator.plugins.module_utils.dr_sqlsession import (
    SqlError,
    compare_fingerprints,
)
from ansible_collections.dr.orchestrator.plugins.module_utils.dr_steps import StepFailed

ACTIONS = ["dump", "restore", "fingerprint", "destroy"]

# kind: "postgresql" | "mariadb"; target: the SqlTarget subclass; the functions take the
# target first: dump(t, db, dest, algorithm, invariants), fingerprint(t, db, algorithm,
# invariants), database_exists(t, db), create_database(t, db), drop_database(t, db),
# load(t, src, db), scratch_name(db), destroy(t, db) -> dict of what was done, and
# put_in_place(t, src, scratch, db) -> True when the checked scratch database itself became
# db, False when db was loaded anew (and so must be checked again).
DatabaseEngine = namedtuple(
    "DatabaseEngine",
    [
        "kind",
        "default_port",
        "target",
        "dump",
        "fingerprint",
        "database_exists",
        "create_database",
        "drop_database",
        "load",
        "scratch_name",
        "put_in_place",
        "destroy",
    ],
)


def argument_spec(default_port):
    return dict(
        action=dict(type="str", required=True, choices=ACTIONS),
        dataset=dict(type="str", required=True),
        database=dict(type="str", required=True),
        host=dict(type="str", default="127.0.0.1"),
        port=dict(type="int", default=default_port),
        user=dict(type="str", default=""),
        password_env=dict(type="str", default=""),
        bin_dir=dict(type="str", default=""),
        src=dict(type="path"),
        dest=dict(type="path"),
        fingerprint_file=dict(type="path"),
        mode=dict(type="str", default="replace", choices=["replace", "scratch"]),
        scratch_database=dict(type="str", default=""),
        invariants=dict(type="dict", default={}),
        algorithm=dict(type="str", default="sha256"),
        downstream=dict(type="str", default="refuse", choices=["refuse", "allow"]),
        dr_environment=environment_option(),
    )


def write_json(path, value):
    temporary = path + ".partial"
    with open(temporary, "w") as handle:
        json.dump(value, handle, sort_keys=True, separators=(",", ":"))
    os.replace(temporary, path)


def read_json(path):
    """Return the JSON value in path, or None when path is unset or not a file."""
    if not path or not os.path.isfile(path):
        return None
    with open(path) as handle:
        return json.load(handle)


def restore(engine, target, params):
    """Restore params["src"] as described in the module docstring; return (fingerprint,
    invariant counts, whether it was checked against the backup's fingerprint, the
    differences found, whether the restored database was put in place)."""
    expected = read_json(params["fingerprint_file"])
    database = params["database"]
    algorithm, invariants = params["algorithm"], params["invariants"]
    # drctl names the scratch database (and journals it, to drop it after a crash); else new.
    scratch = params["scratch_database"] or engine.scratch_name(database)
    engine.create_database(target, scratch)
    try:
        engine.load(target, params["src"], scratch)
        result, counts = engine.fingerprint(target, scratch, algorithm, invariants)
        differences = compare_fingerprints(expected, result) if expected is not None else []
        placed = False
        if params["mode"] == "replace" and not differences:
            placed = True
            if engine.put_in_place(target, params["src"], scratch, database):
                scratch = None
            else:
                result, counts = engine.fingerprint(target, database, algorithm, invariants)
                differences = compare_fingerprints(expected or result, result)
    finally:
        if scratch is not None:
            engine.drop_database(target, scratch)
    return result, counts, expected is not None, differences, placed


def destroy(engine, target, params):
    """Drop the live database and prove it is gone; return the dr_result."""
    database = params["database"]
    existed = engine.database_exists(target, database)
    done = engine.destroy(target, database) if existed else {}
    if engine.database_exists(target, database):
        raise SqlError("database %s still exists after it was dropped" % database)
    dr_result = {
        "name": "destroy:%s" % params["dataset"],
        "engine": engine.kind,
        "kind": "database",
        "target": database,
        "destroyed": existed,
        "exists": False,
    }
    dr_result.update(done)
    return dr_result


def absent_fingerprint(engine, params):
    return {
        "name": "fingerprint:%s" % params["dataset"],
        "exists": False,
        "fingerprint": {"kind": engine.kind, "objects": {}},
        "invariants": {},
    }


def run_action(engine, target, params):
    """Run the action; return its dr_result. Raise StepFailed on bad input."""
    action = params["action"]
    extra = {}
    if action == "dump":
        result, counts = engine.dump(
            target, params["database"], params["dest"], params["algorithm"], params["invariants"]
        )
        if params["fingerprint_file"]:
            write_json(params["fingerprint_file"], result)
    elif action == "restore":
        require_dump(params)
        result, counts, checked, differences, placed = restore(engine, target, params)
        extra = {
            "mode": params["mode"],
            "checked_on_host": checked,
            "matched": not differences,
            "differences": differences,
            "placed": placed,
        }
    elif action == "destroy":
        return destroy(engine, target, params)
    else:
        if not engine.database_exists(target, params["database"]):
            return absent_fingerprint(engine, params)
        result, counts = engine.fingerprint(
            target, params["database"], params["algorithm"], params["invariants"]
        )
        if params.get("schema"):  # dr_datasets only: a drill's reading of production
            extra = {
                "schema": schema_digest(
                    engine.kind, target, params["database"], params["algorithm"]
                )
            }
    dr_result = {
        "name": "%s:%s" % (action, params["dataset"]),
        "exists": True,
        "fingerprint": result,
        "invariants": counts,
    }
    dr_result.update(extra)
    return dr_result


def server_version(target):
    """Return the server's own version string (SELECT version()), recorded in evidence."""
    lines = target.query("SELECT version();")
    return lines[0].strip() if lines else ""


def require_dump(params):
    """Raise StepFailed unless the dump to restore is in the spool."""
    if not params["src"] or not os.path.isfile(params["src"]):
        raise StepFailed(
            "restore of %s: dump %s is not in the spool" % (params["dataset"], params["src"])
        )


def preview(engine, target, params):
    """Check mode of dump, restore and destroy: read only; return (changed, message)."""
    action, database = params["action"], params["database"]
    if action == "restore":
        require_dump(params)
    exists = engine.database_exists(target, database)
    if action == "dump":
        if not exists:
            raise SqlError("database %s does not exist" % database)
        return True, "would dump database %s into %s" % (database, params["dest"])
    if action == "destroy":
        if not exists:
            return False, "database %s does not exist; nothing to drop" % database
        return True, "would drop database %s" % database
    check = "checked against %s" % params["fingerprint_file"]
    if not params["fingerprint_file"]:
        check = "unchecked"
    if params["mode"] == "scratch":
        return True, "would restore %s into a scratch database (%s) and drop it" % (
            params["src"],
            check,
        )
    return True, "would restore %s into a scratch database (%s) and put it in place of %s%s" % (
        params["src"],
        check,
        "the existing database " if exists else "",
        database,
    )


def database_step(engine, params, check_mode):
    """Run one action on one database (params as the module takes them); return what the
    module exits with, or raise StepFailed with the message it fails with."""
    action = params["action"]
    target = engine.target(
        params["host"], params["port"], params["user"], params["bin_dir"], params["password_env"]
    )
    try:
        target.check_password()
        if action in ("restore", "destroy"):  # a write: refused on a server feeding replicas
            refuse_downstream(engine.kind, target, params)
        if check_mode and action != "fingerprint":
            changed, msg = preview(engine, target, params)
            return {"changed": changed, "msg": msg}
        dr_result = run_action(engine, target, params)
        dr_result["server_version"] = server_version(target)
    except (SqlError, OSError, ValueError) as error:
        raise StepFailed(
            "%s of %s (database %s on %s:%s) failed: %s"
            % (action, params["dataset"], params["database"], params["host"], params["port"], error)
        ) from error
    changed = action != "fingerprint" and (action != "destroy" or dr_result["destroyed"])
    return {"changed": changed, "dr_result": dr_result}


def run_database_module(engine):
    """The whole main() of a database module, for one engine."""
    module = AnsibleModule(
        argument_spec=argument_spec(engine.default_port),
        required_if=[("action", "dump", ["dest"]), ("action", "restore", ["src"])],
        supports_check_mode=True,
    )
    apply_task_environment(module)
    try:
        outcome = database_step(engine, module.params, module.check_mode)
    except StepFailed as error:
        module.fail_json(msg=str(error))
    module.exit_json(**outcome)
