#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: dump, restore and fingerprint a SQLite database (dr-orchestrator)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: dr_sqlite
short_description: Dump, restore and fingerprint a SQLite database
version_added: 0.1.0
description:
  - C(dump) takes a consistent online copy of I(src) into I(dest) with SQLite's backup API
    (the database stays in use; I(src) is opened read-only).
  - C(restore) copies I(src) to C(<dest>.restoring), syncs it, removes stale C(-wal),
    C(-shm) and C(-journal) files of I(dest) and renames the copy into place.
  - C(fingerprint) reads I(path) and touches nothing.
  - Every action returns the logical fingerprint (per table, the row count and the digest of its
    rows in rowid order) and the result of each query in I(invariants).
  - In check mode C(dump) and C(restore) check their source exists and report a change
    without writing anything; C(fingerprint) runs as usual.
options:
  action:
    description: What to do.
    type: str
    required: true
    choices: [dump, restore, fingerprint]
  dataset:
    description: Dataset name; it names the result, C(<action>:<dataset>).
    type: str
    required: true
  src:
    description: Database file to copy from; required by C(dump) and C(restore).
    type: path
  dest:
    description: Database file to write (C(dump)) or to replace (C(restore)); required by
      both.
    type: path
  path:
    description: Database file to fingerprint; required by C(fingerprint).
    type: path
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
    description: C(dump) and C(restore) write nothing and report a change; C(fingerprint)
      only reads.
    support: full
  diff_mode:
    description: No diff is produced.
    support: none
author:
  - dr-orchestrator maintainers
"""

EXAMPLES = r"""
- name: Take a consistent online copy of the ledger into the spool
  dr.orchestrator.dr_sqlite:
    action: dump
    dataset: ledger
    src: /srv/app/ledger/ledger.db
    dest: /var/spool/dr/backup-core-banking/ledger/data/ledger.db
    invariants:
      balance_matches_postings: >-
        SELECT a.id FROM accounts a LEFT JOIN postings p ON p.account_id = a.id
        GROUP BY a.id HAVING a.balance_cents != COALESCE(SUM(p.amount_cents), 0)

- name: Fingerprint the live ledger
  dr.orchestrator.dr_sqlite:
    action: fingerprint
    dataset: ledger
    path: /srv/app/ledger/ledger.db
"""

RETURN = r"""
msg:
  description: What a real run would do.
  returned: check mode, for dump and restore
  type: str
  sample: would replace /srv/app/ledger/ledger.db with /var/spool/dr/restore/ledger/data/ledger.db
dr_result:
  description: The database's fingerprint and invariant results, for dr-orchestrator.
  returned: success, except dump and restore in check mode
  type: dict
  contains:
    name:
      description: C(<action>:<dataset>).
      type: str
      returned: always
      sample: dump:ledger
    exists:
      description: Whether the database exists; false only for C(fingerprint) of a missing
        file.
      type: bool
      returned: always
      sample: true
    fingerprint:
      description: C(kind) C(sqlite), C(algorithm), and C(objects) with, per table, C(rows)
        and C(digest). C(objects) is empty for a missing file.
      type: dict
      returned: always
      sample:
        kind: sqlite
        algorithm: sha256
        objects:
          postings: {rows: 30000, digest: 4be1...}
    invariants:
      description: Per invariant name, the number of rows its query returned (0 is good).
      type: dict
      returned: always
      sample: {balance_matches_postings: 0}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dr.orchestrator.plugins.module_utils.dr_steps import (
    StepFailed,
    sqlite_step,
)


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
        required_if=[
            ("action", "dump", ["src", "dest"]),
            ("action", "restore", ["src", "dest"]),
            ("action", "fingerprint", ["path"]),
        ],
        supports_check_mode=True,
    )
    try:
        outcome = sqlite_step(module.params, module.check_mode)
    except StepFailed as error:
        module.fail_json(msg=str(error))
    module.exit_json(**outcome)


if __name__ == "__main__":
    main()
