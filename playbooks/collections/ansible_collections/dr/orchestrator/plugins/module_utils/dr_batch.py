# -*- coding: utf-8 -*-
"""One action over a list of datasets of any engines, in one module execution (dr_datasets).

Standard library only. Each dataset item is what drctl hands to the playbooks (one element
of dr_datasets; see orchestrator/model/engines.py); from it this derives the parameters the
engine's own module takes (dr_files, dr_sqlite, dr_postgresql, dr_mariadb, dr_wipe,
dr_artifacts) - the same paths the engine roles derive - and runs that module's step
(dr_steps, dr_dbmodule) on it, so one interpreter does the work of one task per dataset.

- backup: each dataset on its own. The dump, then the digests of every artifact (a files
  dump hands over the entries it hashed while copying). A dataset that fails has its spool
  removed and reports failed:<dataset> (task, error); the others go on.
- restore, fingerprint, destroy: in order; the first dataset that fails fails the module,
  naming it, and the datasets after it are not touched (as a failed task stops a host).

Passwords: the task environment holds each password under DR_DATASETS_PASSWORD_<name>, where
<name> is the controller variable the dataset's password_env names. They are taken out of
this process's environment before anything runs, and each database client gets only its own
dataset's password, in the client's own variable (PGPASSWORD, MYSQL_PWD), for the time of
that dataset's step; a dataset without password_env sees what the host's environment holds,
as with its engine role.
"""

from __future__ import annotations

import os
import posixpath

from ansible_collections.dr.orchestrator.plugins.module_utils.dr_dbengines import (
    MARIADB,
    POSTGRESQL,
)
from ansible_collections.dr.orchestrator.plugins.module_utils.dr_dbmodule import database_step
from ansible_collections.dr.orchestrator.plugins.module_utils.dr_hashing import CHUNK_BYTES
from ansible_collections.dr.orchestrator.plugins.module_utils.dr_steps import (
    StepFailed,
    artifacts_step,
    files_step,
    sqlite_step,
    wipe_step,
)

ACTIONS = ["backup", "restore", "fingerprint", "destroy"]
ENGINES = ["files", "sqlite", "postgresql", "mariadb"]
DATABASES = {"postgresql": (POSTGRESQL, ".pgdump"), "mariadb": (MARIADB, ".sql")}
SECRET_PREFIX = "DR_DATASETS_PASSWORD_"


def take_secrets(environ=None):
    """Remove every DR_DATASETS_PASSWORD_<name> from the environment; return {name: value}."""
    environ = os.environ if environ is None else environ
    names = [key for key in environ if key.startswith(SECRET_PREFIX)]
    return {key[len(SECRET_PREFIX) :]: environ.pop(key) for key in names}


def spool_data(item, *parts):
    return posixpath.join(item["spool"], "data", *parts)


def path_params(item, action, algorithm):
    """The dr_files / dr_sqlite parameters of a dataset's action (dump for backup)."""
    live = item["live_path"]
    name = posixpath.basename(live) if item["engine"] == "sqlite" else ""
    params = {
        "action": "dump" if action == "backup" else action,
        "dataset": item["name"],
        "src": None,
        "dest": None,
        "path": None,
        "invariants": item.get("invariants") or {},
        "algorithm": algorithm,
    }
    spooled = spool_data(item, name) if name else spool_data(item)  # no trailing slash
    if action == "backup":
        params.update(src=live, dest=spooled)
    elif action == "restore":
        params.update(src=spooled, dest=item.get("target_path") or live)
    else:
        params["path"] = live
    return params


def database_params(item, action, options):
    """The dr_postgresql / dr_mariadb parameters of a dataset's action (dump for backup)."""
    engine, suffix = DATABASES[item["engine"]]
    server = options.get(item["engine"]) or {}
    database = item["database"]
    params = {
        "action": "dump" if action == "backup" else action,
        "dataset": item["name"],
        "database": database,
        "host": server.get("host") or "127.0.0.1",
        "port": int(server.get("port") or item.get("port") or engine.default_port),
        "user": item.get("user") or "",
        "password_env": item.get("password_env") or "",
        "bin_dir": server.get("bin_dir") or "",
        "src": None,
        "dest": None,
        "fingerprint_file": None,
        "mode": options["restore_mode"],
        "scratch_database": item.get("scratch_database") or "",
        "invariants": item.get("invariants") or {},
        "algorithm": options["algorithm"],
        "schema": action == "fingerprint" and bool(options.get("schema")),
        "downstream": item.get("downstream") or "refuse",
    }
    if action in ("backup", "restore"):
        dump = spool_data(item, database + suffix)
        params["fingerprint_file"] = spool_data(item, database + ".fingerprint.json")
        params["dest" if action == "backup" else "src"] = dump
    if action == "restore":
        params["database"] = item.get("target_database") or database
    return engine, params


def destroy_path_params(item):
    """The dr_wipe parameters of a drill's disaster on a files or sqlite dataset."""
    live = item["live_path"]
    paths = [live]
    if item["engine"] == "sqlite":
        paths += [live + "-wal", live + "-shm", live + "-journal"]
    report = {"engine": item["engine"], "kind": "path", "target": live}
    return {
        "paths": paths,
        "purpose": "disaster",
        "name": "destroy:%s" % item["name"],
        "report": report,
    }


class Password(object):
    """For one step of a dataset that names a password_env: its password, and only its own,
    in its client's variable (none when it did not reach us, so the step fails saying so);
    afterwards the variable is as it was. A dataset without one keeps the inherited value."""

    def __init__(self, variable, password_env, secrets):
        self.variable, self.password_env = variable, password_env
        self.value = secrets.get(password_env) if password_env else None
        self.saved = None

    def __enter__(self):
        self.saved = os.environ.get(self.variable)
        if self.password_env:
            os.environ.pop(self.variable, None)
            if self.value:
                os.environ[self.variable] = self.value

    def __exit__(self, *exc):
        os.environ.pop(self.variable, None)
        if self.saved is not None:
            os.environ[self.variable] = self.saved


def dataset_step(item, action, options, check_mode, secrets):
    """Run one action on one dataset with its engine's step; return the step's outcome."""
    engine = item["engine"]
    if engine in DATABASES:
        database, params = database_params(item, action, options)
        variable = database.target.PASSWORD_VARIABLE
        with Password(variable, params["password_env"], secrets):
            return database_step(database, params, check_mode)
    if action == "destroy":
        return wipe_step(destroy_path_params(item), check_mode)
    params = path_params(item, action, options["algorithm"])
    step = files_step if engine == "files" else sqlite_step
    return step(params, check_mode)


def backup_dataset(item, options, check_mode, secrets):
    """Dump one dataset and hash its artifacts; on any failure remove its spool and return
    failed:<dataset>. Return the outcomes (each a dict with changed and dr_result or msg)."""
    stage = "dump"
    try:
        dump = dataset_step(item, "backup", options, check_mode, secrets)
        if check_mode:
            return [dump]
        stage = "artifacts"
        known = dump["dr_result"] if item["engine"] == "files" else None
        artifacts = artifacts_step(
            {
                "dataset": item["name"],
                "path": spool_data(item),
                "algorithm": options["algorithm"],
                "chunk_bytes": CHUNK_BYTES,
                "known": known,
            }
        )
        return [dump, artifacts]
    except Exception as error:  # noqa: BLE001 - one dataset's failure of any kind stays its own
        message = str(error) if isinstance(error, StepFailed) else repr(error)
    report = {"task": "%s of %s (%s)" % (stage, item["name"], item["engine"]), "error": message}
    wiped = wipe_step(
        {
            "paths": [item["spool"]],
            "purpose": "spool",
            "name": "failed:%s" % item["name"],
            "report": report,
        },
        check_mode,
    )
    return [dict(wiped, failed_dataset=item["name"], msg=message)]


def clear_spool(root, check_mode):
    """Remove the run's spool root and prove it gone (dr_wipe purpose spool)."""
    wipe = {"paths": [root], "purpose": "spool", "name": None, "report": {}}
    return wipe_step(wipe, check_mode)


def run_datasets(params, check_mode, secrets):
    """Run params["action"] over params["datasets"]; return (outcomes, failure message or
    None). A failure other than a backup dataset's stops the run there. Given spool_root, a
    backup removes it first and a restore once every dataset is restored."""
    options = {
        "algorithm": params["algorithm"],
        "restore_mode": params["restore_mode"],
        "postgresql": params["postgresql"],
        "mariadb": params["mariadb"],
        "schema": params.get("schema", False),
    }
    action, root, outcomes = params["action"], params["spool_root"], []
    try:
        if root and action == "backup":
            outcomes.append(clear_spool(root, check_mode))
        if action in ("restore", "destroy"):  # every database read first: one refused, none
            for item in params["datasets"]:  # written (replicas downstream, dr_downstream)
                if item["engine"] in DATABASES:
                    dataset_step(item, action, options, True, secrets)
        for item in params["datasets"]:
            if action == "backup":
                outcomes.extend(backup_dataset(item, options, check_mode, secrets))
            else:
                outcomes.append(dataset_step(item, action, options, check_mode, secrets))
        if root and action == "restore":
            outcomes.append(clear_spool(root, check_mode))
    except StepFailed as error:
        return outcomes, str(error)
    return outcomes, None


def check_items(action, datasets):
    """Return what is wrong with the dataset items before anything runs (or None); the
    argument spec has checked each item's keys and engine already."""
    if action not in ("backup", "restore"):
        return None
    missing = [item["name"] for item in datasets if not item.get("spool")]
    if missing:
        return "%s needs the spool of every dataset; none for: %s" % (action, ", ".join(missing))
    return None
