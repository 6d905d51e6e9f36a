"""The sandbox ledger's postings (plugins/modules/dr_ledger.py of dr.orchestrator): one UPDATE
per account leaves the same ledger as one UPDATE per posting did."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.collection import load_plugin

dr_ledger = load_plugin("modules/dr_ledger.py")


def oracle_write_postings(
    connection: sqlite3.Connection, generator: random.Random, count: int, account_count: int
) -> None:
    """write_postings as it was: one UPDATE per posting (the oracle of the ledger it leaves)."""
    now = "2026-01-01T00:00:00.000000Z"
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


def new_ledger(path: Path, accounts: int) -> sqlite3.Connection:
    connection = sqlite3.connect(path)
    connection.executescript(dr_ledger.SCHEMA)
    with connection:
        connection.executemany(
            "INSERT INTO accounts (id, holder, branch) VALUES (?, ?, ?)",
            [
                (index, f"holder-{index:05d}", f"branch-{index % 40:02d}")
                for index in range(1, accounts + 1)
            ],
        )
    return connection


def contents(connection: sqlite3.Connection) -> tuple[list[Any], list[Any]]:
    """Every account and every posting but its time of writing."""
    accounts = connection.execute("SELECT * FROM accounts ORDER BY id").fetchall()
    postings = connection.execute(
        "SELECT id, account_id, amount_cents, memo FROM postings ORDER BY id"
    ).fetchall()
    return accounts, postings


@pytest.mark.parametrize(
    ("accounts", "batches"), [(3000, (30000, 500, 500)), (7, (1, 40)), (5, (0,))]
)
def test_write_postings_leaves_the_ledger_one_update_per_posting_left(
    tmp_path: Path, accounts: int, batches: tuple[int, ...]
) -> None:
    """A seed and then posts (a second batch on top of balances already set), drawn from the
    same generator by both: the same accounts, balances and postings."""
    ours, theirs = (
        new_ledger(tmp_path / "ours.db", accounts),
        new_ledger(tmp_path / "theirs.db", accounts),
    )
    ours_draws, theirs_draws = random.Random(42), random.Random(42)
    for count in batches:
        dr_ledger.write_postings(ours, ours_draws, count, accounts)
        oracle_write_postings(theirs, theirs_draws, count, accounts)
    assert contents(ours) == contents(theirs)
    unbalanced = ours.execute(
        "SELECT COUNT(*) FROM accounts a WHERE balance_cents != "
        "(SELECT COALESCE(SUM(amount_cents), 0) FROM postings p WHERE p.account_id = a.id)"
    ).fetchone()[0]
    assert unbalanced == 0
    assert ours.execute("SELECT COUNT(*) FROM postings").fetchone()[0] == sum(batches)


def test_account_sums_add_every_posting_of_an_account() -> None:
    rows = [(1, 5, "fee", "t"), (2, -3, "fee", "t"), (1, -7, "fee", "t"), (3, 0, "fee", "t")]
    assert dr_ledger.account_sums(rows) == {1: -2, 2: -3, 3: 0}
