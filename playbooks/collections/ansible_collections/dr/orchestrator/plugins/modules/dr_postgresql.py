#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: dump, restore, fingerprint and destroy a PostgreSQL database (dr-orchestrator)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: dr_postgresql
short_description: Dump, restore, fingerprint and destroy a PostgreSQL database
version_added: 0.1.0
description:
  - C(dump) runs pg_dump -Fc into I(dest) from a snapshot exported by a REPEATABLE READ
    session, which fingerprints every table inside that same snapshot while the dump runs.
    The fingerprint is also written next to the dump (I(fingerprint_file)), so a restore can
    check itself on the host before it replaces anything.
  - C(restore) always restores I(src) with pg_restore into a new scratch database first and
    fingerprints it; a difference from I(fingerprint_file) fails it with I(database) left
    untouched. With I(mode=scratch) the scratch database is then dropped; with
    I(mode=replace) (a failover) it is renamed to I(database) (an existing database of that
    name is renamed away and dropped).
  - C(fingerprint) reads the live I(database) in one REPEATABLE READ transaction. Per table
    (schema C(public) by bare name, others as schema.table) the row count and the digest of
    its rows in primary-key order.
  - C(destroy) (a drill's disaster) ends every other session on the live I(database), drops
    it and checks it is gone; a missing database is not an error.
  - The password, if any, comes from the PGPASSWORD environment variable the task sets; it is
    never a module argument. I(password_env) only names the controller variable it came from.
options:
  dr_environment:
    description:
      - The task's C(environment), put there by the collection's action plugin, never by
        hand. Ansible would set it on the command line, where C(ps) shows every password in
        it; the module sets it in its own environment before anything runs. Not logged.
    type: dict
    default: {}
  action:
    description: What to do.
    type: str
    required: true
    choices: [dump, restore, fingerprint, destroy]
  dataset:
    description: Dataset name; it names the result, C(<action>:<dataset>).
    type: str
    required: true
  database:
    description: The live database (read by C(dump) and C(fingerprint), replaced by
      C(restore) with I(mode=replace), dropped by C(destroy)).
    type: str
    required: true
  host:
    description: Server address, as the client tools see it from the host.
    type: str
    default: 127.0.0.1
  port:
    description: Server port.
    type: int
    default: 5432
  user:
    description: Login user; empty, the client's default.
    type: str
    default: ""
  password_env:
    description: Name of the controller's environment variable the password was read from;
      when set, PGPASSWORD must reach the module or it fails before connecting.
    type: str
    default: ""
  bin_dir:
    description: Directory of psql, pg_dump and pg_restore; empty, found on PATH.
    type: str
    default: ""
  src:
    description: The dump to restore; required by C(restore).
    type: path
  dest:
    description: File the dump is written to; required by C(dump).
    type: path
  fingerprint_file:
    description: JSON fingerprint beside the dump. C(dump) writes it; C(restore) compares
      the restored database with it and, when it is missing, restores unchecked
      (C(checked_on_host=false)).
    type: path
  mode:
    description: For C(restore) - C(replace) puts the checked database in place of
      I(database) (a failover); C(scratch) drops it after the check (verification).
    type: str
    choices: [replace, scratch]
    default: replace
  downstream:
    description: C(restore) and C(destroy) are refused (nothing written) when the server
      feeds replicas - WAL senders or replication slots (PostgreSQL), registered replicas or a
      binary log whose replicas cannot be listed (MariaDB) - unless C(allow) (module_utils
      dr_downstream).
    type: str
    choices: [refuse, allow]
    default: refuse
  scratch_database:
    description: For C(restore) - the name of the scratch database to restore into first
      (drctl names it and journals it, so a killed run's scratch database is dropped by the
      next run); empty for a new C(<database>_dr_<hex>).
    type: str
    default: ""
  invariants:
    description: Named SQL queries that must return no rows; the result gives, per name,
      how many rows the query returned.
    type: dict
    default: {}
  algorithm:
    description: hashlib algorithm of the table digests.
    type: str
    default: sha256
attributes:
  check_mode:
    description: Connects and reads only. C(dump) fails if the database is missing,
      C(restore) if the dump is not in the spool; both report a change. C(destroy) reports
      a change only if the database exists. C(fingerprint) does what a real run does.
    support: full
  diff_mode:
    description: No diff is produced.
    support: none
requirements:
  - psql, pg_dump and pg_restore (PostgreSQL client) on the host
author:
  - dr-orchestrator maintainers
"""

EXAMPLES = r"""
- name: Dump the core-banking database and fingerprint the same snapshot
  dr.orchestrator.dr_postgresql:
    action: dump
    dataset: ledger
    database: corebank
    user: drctl
    password_env: DR_PG_PASSWORD
    dest: /var/spool/dr/backup-core-banking/ledger/data/corebank.pgdump
    fingerprint_file: /var/spool/dr/backup-core-banking/ledger/data/corebank.fingerprint.json
  environment:
    PGPASSWORD: "{{ lookup('ansible.builtin.env', 'DR_PG_PASSWORD') }}"

- name: Verify a dump - restore into a scratch database, compare, drop it
  dr.orchestrator.dr_postgresql:
    action: restore
    mode: scratch
    dataset: ledger
    database: corebank
    src: /var/spool/dr/verify/ledger/data/corebank.pgdump
    fingerprint_file: /var/spool/dr/verify/ledger/data/corebank.fingerprint.json
    invariants:
      no_negative_accounts: SELECT id FROM accounts WHERE balance_cents < -100000000

- name: Would the drill's disaster drop anything? (nothing is dropped in check mode)
  dr.orchestrator.dr_postgresql:
    action: destroy
    dataset: ledger
    database: corebank_drill
  check_mode: true
"""

RETURN = r"""
msg:
  description: What a real run would do.
  returned: check mode, for dump, restore and destroy
  type: str
  sample: would drop database corebank
dr_result:
  description: What was done and the database's fingerprint, for dr-orchestrator.
  returned: success, except dump, restore and destroy in check mode
  type: dict
  contains:
    name:
      description: C(<action>:<dataset>).
      type: str
      returned: always
      sample: restore:ledger
    exists:
      description: Whether the database exists afterwards; false for C(destroy), and for
        C(fingerprint) when there is no such database.
      type: bool
      returned: always
      sample: true
    fingerprint:
      description: C(kind) C(postgresql), C(algorithm), and C(objects) with, per table,
        C(rows) and C(digest). C(objects) is empty when there is no such database.
      type: dict
      returned: dump, restore and fingerprint
      sample:
        kind: postgresql
        algorithm: sha256
        objects:
          postings: {rows: 30000, digest: 4be1...}
    invariants:
      description: Per invariant name, the number of rows its query returned (0 is good).
      type: dict
      returned: dump, restore and fingerprint
      sample: {balance_matches_postings: 0}
    mode:
      description: The restore's I(mode).
      type: str
      returned: restore
      sample: replace
    checked_on_host:
      description: Whether the restore was compared with I(fingerprint_file) on the host.
      type: bool
      returned: restore
      sample: true
    destroyed:
      description: Whether C(destroy) dropped a database (false when there was none).
      type: bool
      returned: destroy
      sample: true
    engine:
      description: C(postgresql).
      type: str
      returned: destroy
      sample: postgresql
    kind:
      description: Always C(database).
      type: str
      returned: destroy
      sample: database
    target:
      description: The database C(destroy) dropped.
      type: str
      returned: destroy
      sample: corebank
    sessions_ended:
      description: Other sessions on the database C(destroy) ended before dropping it.
      type: int
      returned: destroy, when the database existed
      sample: 2
"""

from ansible_collections.dr.orchestrator.plugins.module_utils.dr_dbengines import POSTGRESQL
from ansible_collections.dr.orchestrator.plugins.module_utils.dr_dbmodule import run_database_module


def main():
    run_database_module(POSTGRESQL)


if __name__ == "__main__":
    main()
