#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: the sandbox's "core banking" ledger workload (accounts and postings)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: dr_ledger
short_description: Seed or write postings to the sandbox core-banking ledger (SQLite)
version_added: 0.1.0
description:
  - The sandbox's synthetic "core banking" workload. Never point it at real data; C(seed)
    replaces whatever is at I(path).
  - C(seed) removes I(path) (and its journals) and creates a ledger with I(accounts) accounts
    and I(postings) postings drawn from I(seed); the same seed gives the same ledger. It also
    writes I(files).
  - C(post) writes I(postings) more postings, each updating its account's balance in the same
    transaction, so a balance always equals the sum of its postings.
  - Returns the posting count and the newest posting id after the action.
  - In check mode nothing is written; C(post) fails as a real run would when there is no
    ledger, and both report a change.
options:
  action:
    description: C(seed) a new ledger or C(post) to an existing one.
    type: str
    required: true
    choices: [seed, post]
  path:
    description: The ledger's SQLite file.
    type: path
    required: true
  accounts:
    description: Number of accounts C(seed) creates.
    type: int
    default: 3000
  postings:
    description: Number of postings to write.
    type: int
    default: 30000
  seed:
    description: Random seed of C(seed); C(post) draws from an unseeded generator.
    type: int
    default: 1
  files:
    description: Configuration and program files C(seed) lays down, each a dict with C(dest)
      (absolute path) and C(content).
    type: list
    elements: dict
    default: []
attributes:
  check_mode:
    description: Writes nothing; reports the change a real run makes.
    support: full
  diff_mode:
    description: No diff is produced.
    support: none
author:
  - dr-orchestrator maintainers
"""

EXAMPLES = r"""
- name: Seed the sandbox ledger
  dr.orchestrator.dr_ledger:
    action: seed
    path: /srv/dr-sandbox/production/data/ledger/ledger.db
    postings: 30000
    seed: 42

- name: Write 500 more postings
  dr.orchestrator.dr_ledger:
    action: post
    path: /srv/dr-sandbox/production/data/ledger/ledger.db
    postings: 500
"""

RETURN = r"""
msg:
  description: What a real run would do.
  returned: check mode
  type: str
  sample: would write 500 postings to /srv/dr-sandbox/production/data/ledger/ledger.db
dr_result:
  description: The ledger after the action, for dr-orchestrator.
  returned: success, not in check mode
  type: dict
  contains:
    name:
      description: Always C(ledger).
      type: str
      returned: always
      sample: ledger
    postings:
      description: Number of postings in the ledger.
      type: int
      returned: always
      sample: 30500
    newest_posting_id:
      description: Id of the newest posting.
      type: int
      returned: always
      sample: 30500
"""

import os
import random
import sqlite3
from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule

SCHEMA = """
CREATE TABLE accounts (id INTEGER PRIMARY KEY, holder TEXT NOT NULL, branch TEXT NOT NULL,
                       balance_cents INTEGER NOT NULL DEFAULT 0);
CREATE TABLE postings (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id),
                       amount_cents INTEGER NOT NULL, memo TEXT NOT NULL, posted_at TEXT NOT NULL);
CREATE INDEX postings_account ON postings(account_id);
"""


def account_sums(rows):
    """Return {account id: the sum of its postings' amounts} of posting rows."""
    sums = {}
    for account, amount, _, _ in rows:
        sums[account] = sums.get(account, 0) + amount
    return sums


def write_postings(connection, generator, count, account_count):
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    rows = []
    for _ in range(count):
        account = generator.randint(1, account_count)
        amount = generator.randint(-50000, 100000)
        rows.append(
            (account, amount, generator.choice(["deposit", "transfer", "fee", "interest"]), now)
        )
    with connection:
        connection.executemany(
            "INSERT INTO postings (account_id, amount_cents, memo, posted_at) VALUES (?, ?, ?, ?)",
            rows,
        )
        # One UPDATE per account touched, by the sum of its postings: the same balances as one
        # per posting, in the same transaction, at a tenth of the statements when seeding.
        connection.executemany(
            "UPDATE accounts SET balance_cents = balance_cents + ? WHERE id = ?",
            [(amount, account) for account, amount in sorted(account_sums(rows).items())],
        )


def main():
    module = AnsibleModule(
        argument_spec=dict(
            action=dict(type="str", required=True, choices=["seed", "post"]),
            path=dict(type="path", required=True),
            accounts=dict(type="int", default=3000),
            postings=dict(type="int", default=30000),
            seed=dict(type="int", default=1),
            files=dict(type="list", elements="dict", default=[]),
        ),
        supports_check_mode=True,
    )
    params = module.params
    path = params["path"]
    if params["action"] == "post" and not os.path.isfile(path):
        module.fail_json(msg="ledger %s does not exist" % path)
    if module.check_mode:
        if params["action"] == "seed":
            msg = "would create %s with %d accounts and %d postings" % (
                path,
                params["accounts"],
                params["postings"],
            )
        else:
            msg = "would write %d postings to %s" % (params["postings"], path)
        module.exit_json(changed=True, msg=msg)
    try:
        if params["action"] == "seed":
            os.makedirs(os.path.dirname(path), exist_ok=True)
            for suffix in ("", "-wal", "-shm", "-journal"):
                if os.path.exists(path + suffix):
                    os.unlink(path + suffix)
            connection = sqlite3.connect(path)
            connection.executescript(SCHEMA)
            generator = random.Random(params["seed"])
            with connection:
                connection.executemany(
                    "INSERT INTO accounts (id, holder, branch) VALUES (?, ?, ?)",
                    [
                        (index, "holder-%05d" % index, "branch-%02d" % (index % 40))
                        for index in range(1, params["accounts"] + 1)
                    ],
                )
            write_postings(connection, generator, params["postings"], params["accounts"])
            for item in params["files"]:
                os.makedirs(os.path.dirname(item["dest"]), exist_ok=True)
                with open(item["dest"], "w") as handle:
                    handle.write(item["content"])
        else:
            connection = sqlite3.connect(path)
            accounts = connection.execute("SELECT COUNT(*) FROM accounts").fetchone()[0]
            generator = random.Random()
            write_postings(connection, generator, params["postings"], accounts)
        postings, newest = connection.execute("SELECT COUNT(*), MAX(id) FROM postings").fetchone()
        connection.close()
    except sqlite3.Error as error:
        module.fail_json(msg="ledger %s failed: %s" % (params["action"], error))
    module.exit_json(
        changed=True,
        dr_result={"name": "ledger", "postings": postings, "newest_posting_id": newest},
    )


if __name__ == "__main__":
    main()
