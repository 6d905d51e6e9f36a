#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: the sandbox's "core banking" ledger workload (accounts and postings)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: dr_ledger
short_description: Seed or write postings to the sandbox core-banking ledger (SQLite)
description:
  - C(seed) creates the ledger with I(accounts) accounts and I(postings) postings from I(seed).
  - C(post) writes I(postings) more postings, each updating its account's balance in the same
    transaction, so a balance always equals the sum of its postings.
  - Returns the posting count and the newest posting id after the action.
options:
  action: {type: str, required: true, choices: [seed, post]}
  path: {type: path, required: true}
  accounts: {type: int, default: 3000}
  postings: {type: int, default: 30000}
  seed: {type: int, default: 1}
  files:
    description: Configuration and program files to lay down with the seed (dest, content).
    type: list
    elements: dict
    default: []
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
        connection.executemany(
            "UPDATE accounts SET balance_cents = balance_cents + ? WHERE id = ?",
            [(amount, account) for account, amount, _, _ in rows],
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
        supports_check_mode=False,
    )
    params = module.params
    path = params["path"]
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
            if not os.path.isfile(path):
                module.fail_json(msg="ledger %s does not exist" % path)
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
