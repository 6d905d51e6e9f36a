#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: the core-banking ledger workload on PostgreSQL (accounts and postings)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: dr_pg_ledger
short_description: Seed or write postings to the core-banking ledger on PostgreSQL
version_added: 0.1.0
description:
  - The same synthetic ledger as dr_ledger (SQLite), in a PostgreSQL database, for sandbox
    drills. Never point it at real data; C(seed) drops the tables C(accounts) and
    C(postings) of I(database).
  - C(seed) recreates the tables with I(accounts) accounts and I(postings) postings drawn
    from I(seed) (the same seed gives the same ledger).
  - C(post) writes I(postings) more postings; each batch updates the balances in the same
    transaction, so a balance always equals the sum of its postings.
  - The password, if any, comes from the PGPASSWORD environment variable the task sets; it is
    never a module argument. I(password_env) only names the controller variable it came from.
  - Returns the posting count and the newest posting id after the action.
  - In check mode nothing is written; the module connects and reads (C(post) counts the
    accounts), so it fails where a real run would fail to connect, and reports a change.
options:
  dr_environment:
    description:
      - The task's C(environment), put there by the collection's action plugin, never by
        hand. Ansible would set it on the command line, where C(ps) shows every password in
        it; the module sets it in its own environment before anything runs. Not logged.
    type: dict
    default: {}
  action:
    description: C(seed) the ledger or C(post) to it.
    type: str
    required: true
    choices: [seed, post]
  database:
    description: Database holding the ledger.
    type: str
    required: true
  host:
    description: Server address, as psql sees it from the host.
    type: str
    default: 127.0.0.1
  port:
    description: Server port.
    type: int
    default: 5432
  user:
    description: Login user; empty, the libpq default.
    type: str
    default: ""
  password_env:
    description: Name of the controller's environment variable the password was read from;
      when set, PGPASSWORD must reach the module or it fails before connecting.
    type: str
    default: ""
  bin_dir:
    description: Directory of psql; empty, found on PATH.
    type: str
    default: ""
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
attributes:
  check_mode:
    description: Connects and reads only; reports the change a real run makes.
    support: full
  diff_mode:
    description: No diff is produced.
    support: none
requirements:
  - psql (PostgreSQL client) on the host
author:
  - dr-orchestrator maintainers
"""

EXAMPLES = r"""
- name: Seed the sandbox ledger on PostgreSQL
  dr.orchestrator.dr_pg_ledger:
    action: seed
    database: corebank_sandbox
    user: drctl
    password_env: DR_PG_PASSWORD
    seed: 42
  environment:
    PGPASSWORD: "{{ lookup('ansible.builtin.env', 'DR_PG_PASSWORD') }}"
"""

RETURN = r"""
msg:
  description: What a real run would do.
  returned: check mode
  type: str
  sample: would write 500 postings to the 3000 accounts of database corebank_sandbox
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

import random
from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dr.orchestrator.plugins.module_utils.dr_environment import (
    apply_task_environment,
    environment_option,
)
from ansible_collections.dr.orchestrator.plugins.module_utils.dr_pgsql import (
    MARKER,
    PgTarget,
    echo_marker,
)
from ansible_collections.dr.orchestrator.plugins.module_utils.dr_sqlsession import SqlError

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


def preview(target, params):
    """Check mode: connect and read only; return what a real run would do."""
    database = params["database"]
    session = target.session(database)
    try:
        if params["action"] == "seed":
            session.send("SELECT 1;\n" + echo_marker())
            session.collect(MARKER)
            msg = "would recreate the ledger in database %s with %d accounts and %d postings" % (
                database,
                params["accounts"],
                params["postings"],
            )
        else:
            session.send("SELECT count(*) FROM accounts;\n" + echo_marker())
            accounts = int(session.collect(MARKER)[0])
            msg = "would write %d postings to the %d accounts of database %s" % (
                params["postings"],
                accounts,
                database,
            )
        session.finish()
    except SqlError:
        session.abort()
        raise
    return msg


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
            dr_environment=environment_option(),
        ),
        supports_check_mode=True,
    )
    apply_task_environment(module)
    params = module.params
    target = PgTarget(
        params["host"], params["port"], params["user"], params["bin_dir"], params["password_env"]
    )
    database = params["database"]
    try:
        target.check_password()
        if module.check_mode:
            module.exit_json(changed=True, msg=preview(target, params))
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
