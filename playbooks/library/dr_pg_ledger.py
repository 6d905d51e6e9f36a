#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: the core-banking ledger workload on PostgreSQL (accounts and postings)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: dr_pg_ledger
short_description: Seed or write postings to the core-banking ledger on PostgreSQL
description:
  - The same ledger as the sandbox's SQLite one (dr_ledger), in a PostgreSQL database.
  - C(seed) drops and recreates the tables with I(accounts) accounts and I(postings) postings
    drawn from I(seed) (the same seed gives the same ledger).
  - C(post) writes I(postings) more postings; each batch updates the balances in the same
    transaction, so a balance always equals the sum of its postings.
  - The password comes from PGPASSWORD in the task environment, never from an argument.
  - Returns the posting count and the newest posting id after the action.
options:
  action: {type: str, required: true, choices: [seed, post]}
  database: {type: str, required: true}
  host: {type: str, default: 127.0.0.1}
  port: {type: int, default: 5432}
  user: {type: str, default: ""}
  password_env: {type: str, default: ""}
  bin_dir: {type: str, default: ""}
  accounts: {type: int, default: 3000}
  postings: {type: int, default: 30000}
  seed: {type: int, default: 1}
"""

import random
from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.dr_pgsql import MARKER, PgTarget, echo_marker
from ansible.module_utils.dr_sqlsession import SqlError

SCHEMA = """
DROP TABLE IF EXISTS postings;
DROP TABLE IF EXISTS accounts;
CREATE TABLE accounts (id integer PRIMARY KEY, holder text NOT NULL, branch text NOT NULL,
                       balance_cents bigint NOT NULL DEFAULT 0);
CREATE TABLE postings (id bigserial PRIMARY KEY,
                       account_id integer NOT NULL REFERENCES accounts(id),
                       amount_cents bigint NOT NULL, memo text NOT NULL,
                       posted_at timestamptz NOT NULL);
CREATE INDEX postings_account ON postings(account_id);
"""
MEMOS = ["deposit", "transfer", "fee", "interest"]


def posting_rows(generator, count, account_count):
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f+00")
    for _ in range(count):
        yield "%d\t%d\t%s\t%s\n" % (
            generator.randint(1, account_count),
            generator.randint(-50000, 100000),
            generator.choice(MEMOS),
            now,
        )


def post_script(generator, count, account_count):
    """Return SQL that adds count postings and their balances in one transaction."""
    parts = [
        "BEGIN;\n",
        "CREATE TEMP TABLE incoming (account_id integer, amount_cents bigint, memo text, "
        "posted_at timestamptz) ON COMMIT DROP;\n",
        "COPY incoming FROM STDIN;\n",
    ]
    parts.extend(posting_rows(generator, count, account_count))
    parts.append("\\.\n")
    parts.append(
        "INSERT INTO postings (account_id, amount_cents, memo, posted_at) "
        "SELECT account_id, amount_cents, memo, posted_at FROM incoming;\n"
        "UPDATE accounts a SET balance_cents = a.balance_cents + s.total FROM "
        "(SELECT account_id, sum(amount_cents) AS total FROM incoming "
        "GROUP BY account_id) s WHERE a.id = s.account_id;\n"
        "COMMIT;\n"
    )
    return "".join(parts)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            action=dict(type="str", required=True, choices=["seed", "post"]),
            database=dict(type="str", required=True),
            host=dict(type="str", default="127.0.0.1"),
            port=dict(type="int", default=5432),
            user=dict(type="str", default=""),
            password_env=dict(type="str", default=""),
            bin_dir=dict(type="str", default=""),
            accounts=dict(type="int", default=3000),
            postings=dict(type="int", default=30000),
            seed=dict(type="int", default=1),
        ),
        supports_check_mode=False,
    )
    params = module.params
    target = PgTarget(
        params["host"], params["port"], params["user"], params["bin_dir"], params["password_env"]
    )
    database = params["database"]
    try:
        target.check_password()
        session = target.session(database)
        try:
            if params["action"] == "seed":
                generator = random.Random(params["seed"])
                accounts = params["accounts"]
                rows = "".join(
                    "%d\tholder-%05d\tbranch-%02d\n" % (index, index, index % 40)
                    for index in range(1, accounts + 1)
                )
                session.send(
                    "BEGIN;\n" + SCHEMA + "COPY accounts (id, holder, branch) FROM "
                    "STDIN;\n" + rows + "\\.\nCOMMIT;\n"
                )
            else:
                generator = random.Random()
                session.send("SELECT count(*) FROM accounts;\n" + echo_marker())
                accounts = int(session.collect(MARKER)[0])
            session.send(post_script(generator, params["postings"], accounts))
            session.send("SELECT count(*), coalesce(max(id), 0) FROM postings;\n" + echo_marker())
            postings, newest = session.collect(MARKER)[0].split("|")
            session.finish()
        except SqlError:
            session.abort()
            raise
    except (SqlError, OSError, ValueError, IndexError) as error:
        module.fail_json(
            msg="ledger %s on database %s (%s:%s) failed: %s"
            % (params["action"], database, params["host"], params["port"], error)
        )
    module.exit_json(
        changed=True,
        dr_result={"name": "ledger", "postings": int(postings), "newest_posting_id": int(newest)},
    )


if __name__ == "__main__":
    main()
