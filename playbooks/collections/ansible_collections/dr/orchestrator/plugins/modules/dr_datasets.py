#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: one action over many datasets of any engines, in one run (dr-orchestrator)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: dr_datasets
short_description: Back up, restore, fingerprint or destroy many datasets in one run
version_added: 0.2.0
description:
  - Runs I(action) on every dataset of I(datasets), of any engines (C(files), C(sqlite),
    C(postgresql), C(mariadb)), in one module execution on the host. Each dataset gets
    exactly what its engine's own module does (M(dr.orchestrator.dr_files),
    M(dr.orchestrator.dr_sqlite), M(dr.orchestrator.dr_postgresql),
    M(dr.orchestrator.dr_mariadb), M(dr.orchestrator.dr_wipe),
    M(dr.orchestrator.dr_artifacts)) with the paths the roles
    C(dr.orchestrator.engine_<engine>) give it; the role C(dr.orchestrator.datasets) calls
    this module once per host.
  - C(backup) dumps each dataset into C(<spool>/data) and hashes every artifact where it was
    made (a C(files) dump hashes while it copies). Each dataset is backed up on its own - one
    that fails has its spool removed and reports C(failed:<name>) with the reason, and the
    others go on; the module then warns but does not fail.
  - C(restore), C(fingerprint) and C(destroy) run in order; the first dataset that fails
    fails the module (its message names the dataset) and the datasets after it are not
    touched. C(destroy) removes a C(files) or C(sqlite) dataset's live path (and a SQLite
    database's journals) or drops a database, and proves it gone - a drill's disaster.
  - Passwords never are module arguments. The task environment holds each under
    C(DR_DATASETS_PASSWORD_<password_env>); the module takes them out of its environment before
    anything runs and gives each database client only its own dataset's password
    (PGPASSWORD, MYSQL_PWD) for that dataset's step.
options:
  dr_environment:
    description:
      - The task's C(environment), put there by the collection's action plugin, never by
        hand. Ansible would set it on the command line, where C(ps) shows every password in
        it; the module sets it in its own environment before anything runs. Not logged.
    type: dict
    default: {}
  action:
    description: What to do to every dataset.
    type: str
    required: true
    choices: [backup, restore, fingerprint, destroy]
  datasets:
    description:
      - The datasets, each as the role C(dr.orchestrator.engine_<engine>) takes it (see
        C(ansible-doc -t role dr.orchestrator.engine_<engine>)). The engine's dump is
        C(<spool>/data) (C(files)), C(<spool>/data/<live_path basename>) (C(sqlite)),
        C(<spool>/data/<database>.pgdump) or C(.sql) beside C(<database>.fingerprint.json).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Dataset name; it names its results (C(<action>:<name>)).
        type: str
        required: true
      engine:
        description: The dataset's engine.
        type: str
        required: true
        choices: [files, sqlite, postgresql, mariadb]
      spool:
        description: The dataset's spool directory on the host; required by C(backup) and
          C(restore).
        type: path
      live_path:
        description: The live tree or database file (C(files), C(sqlite)); required by them.
        type: path
      target_path:
        description: C(restore) puts the restored tree or file here instead of I(live_path).
        type: path
      database:
        description: The live database (C(postgresql), C(mariadb)); required by them.
        type: str
      target_database:
        description: C(restore) puts the restored database here instead of I(database).
        type: str
      downstream:
        description: C(restore) and C(destroy) are refused (nothing written) when the server
          feeds replicas - WAL senders or replication slots (PostgreSQL), registered replicas or a
          binary log whose replicas cannot be listed (MariaDB) - unless C(allow) (module_utils
          dr_downstream).
        type: str
        choices: [refuse, allow]
        default: refuse
      scratch_database:
        description: C(restore) first restores into this database (empty, a new one).
        type: str
        default: ""
      port:
        description: Server port, unless I(postgresql) or I(mariadb) sets one for the host.
        type: int
      user:
        description: Login user; unset, the client's default.
        type: str
      password_env:
        description: Name of the controller variable holding the password; the task
          environment must then hold C(DR_DATASETS_PASSWORD_<password_env>).
        type: str
      invariants:
        description: Named SQL queries that must return no rows.
        type: dict
        default: {}
  algorithm:
    description: hashlib algorithm of digests and fingerprints.
    type: str
    default: sha256
  restore_mode:
    description: For C(restore) of a database, C(replace) (a failover) or C(scratch)
      (verification; nothing stays).
    type: str
    choices: [replace, scratch]
    default: replace
  spool_root:
    description:
      - The run's spool directory (the datasets' spools are in it). C(backup) removes it
        before the first dataset (what an earlier, interrupted run left); C(restore) removes
        it once every dataset is restored. Either way it is proven gone (result
        C(wipe:spool), as M(dr.orchestrator.dr_wipe) with I(purpose=spool) returns it) and
        the module fails if it is not. Unset or empty, nothing is removed.
    type: path
  schema:
    description:
      - For C(fingerprint), also return, for each C(postgresql) or C(mariadb) dataset that
        exists, C(schema) in its C(dr_result) - the digest, per kind of object, of its schema
        objects read from the catalogs (relations, columns, indexes, views, functions,
        sequences, constraints, triggers, types, privileges...; never OIDs or statistics; see
        module_utils/dr_schema.py). A drill compares it for production before and after.
      - Off, the fingerprint is the row fingerprint alone, as backups and restores compare it.
    type: bool
    default: false
  postgresql:
    description: How this host reaches its PostgreSQL server (C(host), C(port), C(bin_dir));
      C(port) 0 or unset, each dataset's own port.
    type: dict
    default: {}
  mariadb:
    description: How this host reaches its MariaDB server (C(host), C(port), C(bin_dir));
      C(port) 0 or unset, each dataset's own port.
    type: dict
    default: {}
attributes:
  check_mode:
    description: Each dataset as its engine's module does it in check mode - C(backup),
      C(restore) and C(destroy) read only and say what a real run would do; C(fingerprint)
      runs as usual.
    support: full
  diff_mode:
    description: No diff is produced.
    support: none
requirements:
  - the client tools of the database engines used (psql, pg_dump, pg_restore; mariadb,
    mariadb-dump)
author:
  - dr-orchestrator maintainers
"""

EXAMPLES = r"""
- name: Back up a ledger database and a configuration tree in one run
  dr.orchestrator.dr_datasets:
    action: backup
    datasets:
      - {name: config, engine: files, live_path: /srv/app/config,
         spool: /var/spool/dr/backup-core-banking/config}
      - {name: ledger, engine: postgresql, database: corebank, user: drctl,
         password_env: DR_PG_PASSWORD, spool: /var/spool/dr/backup-core-banking/ledger}
  environment:
    DR_DATASETS_PASSWORD_DR_PG_PASSWORD: "{{ lookup('dr.orchestrator.dr_secret', 'DR_PG_PASSWORD') }}"

- name: Fingerprint the live datasets (read only)
  dr.orchestrator.dr_datasets:
    action: fingerprint
    datasets:
      - {name: config, engine: files, live_path: /srv/app/config}
"""

RETURN = r"""
results:
  description: One entry per outcome, in dataset order - per dataset one, two for a
    successful C(backup) (its dump, then its artifacts).
  returned: always
  type: list
  elements: dict
  contains:
    changed:
      description: Whether this step changed something (or would, in check mode).
      type: bool
      returned: always
      sample: true
    dr_result:
      description: The engine module's own C(dr_result) - C(wipe:spool) of I(spool_root),
        C(dump:<name>) and
        C(artifacts:<name>) of a backup, C(failed:<name>) (with C(task) and C(error)) of a
        backup that failed, C(restore:<name>), C(fingerprint:<name>), C(destroy:<name>).
      type: dict
      returned: success, except a step's preview in check mode
      sample: {name: fingerprint:config, exists: true, invariants: {}}
    msg:
      description: What a real run would do (check mode), or why a backup failed.
      type: str
      returned: check mode, and a failed backup
      sample: would copy the 12 files of /srv/app/config into /var/spool/dr/b/config/data
failed_datasets:
  description: The datasets whose backup failed (their spools are removed).
  returned: always
  type: list
  elements: str
  sample: [ledger]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dr.orchestrator.plugins.module_utils.dr_batch import (
    ACTIONS,
    ENGINES,
    check_items,
    run_datasets,
    take_secrets,
)
from ansible_collections.dr.orchestrator.plugins.module_utils.dr_environment import (
    apply_task_environment,
    environment_option,
)

DATASET = dict(
    name=dict(type="str", required=True),
    engine=dict(type="str", required=True, choices=ENGINES),
    spool=dict(type="path"),
    live_path=dict(type="path"),
    target_path=dict(type="path"),
    database=dict(type="str"),
    target_database=dict(type="str"),
    scratch_database=dict(type="str", default=""),
    port=dict(type="int"),
    user=dict(type="str"),
    password_env=dict(type="str", no_log=False),
    invariants=dict(type="dict", default={}),
    downstream=dict(type="str", default="refuse", choices=["refuse", "allow"]),
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            action=dict(type="str", required=True, choices=ACTIONS),
            datasets=dict(
                type="list",
                elements="dict",
                required=True,
                options=DATASET,
                required_if=[
                    ("engine", "files", ["live_path"]),
                    ("engine", "sqlite", ["live_path"]),
                    ("engine", "postgresql", ["database"]),
                    ("engine", "mariadb", ["database"]),
                ],
            ),
            algorithm=dict(type="str", default="sha256"),
            restore_mode=dict(type="str", default="replace", choices=["replace", "scratch"]),
            spool_root=dict(type="path"),
            schema=dict(type="bool", default=False),
            postgresql=dict(type="dict", default={}),
            mariadb=dict(type="dict", default={}),
            dr_environment=environment_option(),
        ),
        supports_check_mode=True,
    )
    apply_task_environment(module)
    secrets = take_secrets()
    problem = check_items(module.params["action"], module.params["datasets"])
    if problem:
        module.fail_json(msg=problem)
    outcomes, failure = run_datasets(module.params, module.check_mode, secrets)
    changed = any(outcome["changed"] for outcome in outcomes)
    if failure is not None:
        module.fail_json(msg=failure, changed=changed, results=outcomes)
    failed = [outcome for outcome in outcomes if "failed_dataset" in outcome]
    for outcome in failed:
        module.warn("backup of %s failed: %s" % (outcome["failed_dataset"], outcome["msg"]))
    names = [outcome["failed_dataset"] for outcome in failed]
    module.exit_json(changed=changed, results=outcomes, failed_datasets=names)


if __name__ == "__main__":
    main()
