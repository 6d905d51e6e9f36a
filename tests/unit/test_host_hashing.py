"""The host-side hashing and fingerprints (module_utils/dr_hashing.py of dr.orchestrator)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sqlite3
import sys
from pathlib import Path

import pytest

MODULE_PATH = (
    Path(__file__).resolve().parents[2]
    / "playbooks/collections/ansible_collections/dr/orchestrator/plugins/module_utils/dr_hashing.py"
)
spec = importlib.util.spec_from_file_location("dr_hashing", MODULE_PATH)
assert spec and spec.loader
dr_hashing = importlib.util.module_from_spec(spec)
sys.modules["dr_hashing"] = dr_hashing
spec.loader.exec_module(dr_hashing)


def make_ledger(path: Path, rows: int) -> None:
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE postings (id INTEGER PRIMARY KEY, amount INTEGER, memo TEXT)")
    connection.executemany(
        "INSERT INTO postings (amount, memo) VALUES (?, ?)",
        [(index * 7, f"memo {index}") for index in range(rows)],
    )
    connection.commit()
    connection.close()


def test_hash_file_matches_hashlib_and_splits_chunks(tmp_path: Path) -> None:
    data = os.urandom(10_000)
    target = tmp_path / "blob"
    target.write_bytes(data)
    size, digest, chunks = dr_hashing.hash_file(str(target), "sha256", chunk_bytes=4096)
    assert size == 10_000
    assert digest == hashlib.sha256(data).hexdigest()
    assert chunks == [
        hashlib.sha256(data[i : i + 4096]).hexdigest() for i in range(0, 10_000, 4096)
    ]


def test_sqlite_fingerprint_is_logical_not_physical(tmp_path: Path) -> None:
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    make_ledger(first, 50)
    make_ledger(second, 50)
    sqlite3.connect(second).execute("VACUUM").connection.close()
    assert dr_hashing.sqlite_fingerprint(str(first)) == dr_hashing.sqlite_fingerprint(str(second))


def test_sqlite_fingerprint_changes_with_one_row(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    make_ledger(path, 20)
    before = dr_hashing.sqlite_fingerprint(str(path))
    connection = sqlite3.connect(path)
    connection.execute("UPDATE postings SET amount = amount + 1 WHERE id = 3")
    connection.commit()
    connection.close()
    after = dr_hashing.sqlite_fingerprint(str(path))
    assert before["objects"]["postings"]["rows"] == after["objects"]["postings"]["rows"] == 20
    assert before["objects"]["postings"]["digest"] != after["objects"]["postings"]["digest"]


def test_sqlite_invariants_count_violating_rows(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    make_ledger(path, 10)
    result = dr_hashing.sqlite_invariants(
        str(path),
        {
            "no_negative": "SELECT id FROM postings WHERE amount < 0",
            "small": "SELECT id FROM postings WHERE amount < 14",
        },
    )
    assert result == {"no_negative": 0, "small": 2}


def test_tree_listing_refuses_symbolic_links(tmp_path: Path) -> None:
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "ok.conf").write_text("x")
    (tmp_path / "tree" / "escape").symlink_to("/etc/passwd")
    with pytest.raises(ValueError, match="not a regular file"):
        dr_hashing.list_tree(str(tmp_path / "tree"))


def test_tree_fingerprint_sees_a_renamed_file(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "etc").mkdir(parents=True)
    (tree / "etc" / "a.conf").write_text("same")
    before = dr_hashing.tree_fingerprint(str(tree))
    (tree / "etc" / "a.conf").rename(tree / "etc" / "b.conf")
    after = dr_hashing.tree_fingerprint(str(tree))
    assert before["objects"]["tree"]["files"] == after["objects"]["tree"]["files"] == 1
    assert before["objects"]["tree"]["digest"] != after["objects"]["tree"]["digest"]
