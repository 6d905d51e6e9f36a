"""The host-side hashing and fingerprints (module_utils/dr_hashing.py of dr.orchestrator)."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fixtures.collection import load_plugin

dr_hashing = load_plugin("module_utils/dr_hashing.py")


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


def listing_digest(lines: list[tuple[str, int, str]]) -> str:
    text = "".join(f"{path}\0{size}\0{digest}\n" for path, size, digest in lines)
    return hashlib.sha256(text.encode()).hexdigest()


def test_one_read_copies_and_hashes_every_file(tmp_path: Path) -> None:
    """The dump's copy hashes what it writes: its entries are hashlib's digests of the copy
    (chunks included), its fingerprint the listing of those, and the copy keeps mode and
    times, as the copy it replaced (shutil.copy2) did."""
    src, dest = tmp_path / "src", tmp_path / "dest"
    blobs = {f"d{i % 3}/f{i:02d}.bin": os.urandom(5000 + 997 * i) for i in range(10)}
    for relative, data in blobs.items():
        (src / relative).parent.mkdir(parents=True, exist_ok=True)
        (src / relative).write_bytes(data)
    os.chmod(src / "d0/f00.bin", 0o600)
    os.utime(src / "d0/f00.bin", (1_000_000, 1_000_000))
    entries = dr_hashing.copy_tree_hashed(str(src), str(dest), "sha256", chunk_bytes=8192)
    assert [e["path"] for e in entries] == sorted(blobs)
    for entry in entries:
        copied = (dest / entry["path"]).read_bytes()
        assert copied == blobs[entry["path"]]
        assert (entry["size"], entry["digest"]) == (len(copied), hashlib.sha256(copied).hexdigest())
        expected = [
            hashlib.sha256(copied[at : at + 8192]).hexdigest() for at in range(0, len(copied), 8192)
        ]
        assert entry.get("chunk_digests", []) == (expected if len(copied) > 8192 else [])
    assert entries == dr_hashing.digest_tree(str(dest), "sha256", chunk_bytes=8192)
    fingerprint = dr_hashing.listing_fingerprint(entries)
    assert fingerprint == dr_hashing.tree_fingerprint(str(dest))
    tree = fingerprint["objects"]["tree"]
    assert tree["files"] == 10 and tree["bytes"] == sum(len(b) for b in blobs.values())
    assert tree["digest"] == listing_digest(
        [
            (path, len(data), hashlib.sha256(data).hexdigest())
            for path, data in sorted(blobs.items())
        ]
    )
    stat = (dest / "d0/f00.bin").stat()
    assert (stat.st_mode & 0o777, stat.st_mtime) == (0o600, 1_000_000)


def test_one_read_copy_refuses_links_like_the_listing(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "escape").symlink_to("/etc/passwd")
    with pytest.raises(ValueError, match="not a regular file"):
        dr_hashing.copy_tree_hashed(str(tmp_path / "src"), str(tmp_path / "dest"))
    assert not (tmp_path / "dest").exists()


# The fingerprint as it was before the row encoder was built once (kept as the oracle: stored
# fingerprints were taken with it, and a restore is judged by comparing against them).
def oracle_canonical_row(row: tuple[object, ...]) -> bytes:
    values: list[object] = []
    for value in row:
        if isinstance(value, bytes):
            values.append({"hex": value.hex()})
        elif isinstance(value, float):
            values.append({"float": repr(value)})
        else:
            values.append(value)
    return json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def oracle_sqlite_fingerprint(path: str, algorithm: str = "sha256") -> dict[str, object]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
                "ORDER BY name"
            )
        ]
        objects = {}
        for table in tables:
            quoted = '"' + table.replace('"', '""') + '"'
            digest = hashlib.new(algorithm)
            rows = 0
            for row in connection.execute(f"SELECT * FROM {quoted} ORDER BY rowid"):
                digest.update(oracle_canonical_row(row))
                digest.update(b"\n")
                rows += 1
            objects[table] = {"rows": rows, "digest": digest.hexdigest()}
        return {"kind": "sqlite", "algorithm": algorithm, "objects": objects}
    finally:
        connection.close()


SQLITE_VALUES = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.text(),  # every code point but lone surrogates: what SQLite's UTF-8 text decodes to
    st.binary(max_size=40),
    st.floats(allow_nan=False),  # SQLite stores NaN as NULL
    st.sampled_from(["", '"', "\\", "\x00", "\x1f\x7f", "é中文🙂", "\u2028\u2029", "</script>"]),
)
# Python values a row never holds from SQLite but the encoder must treat as json.dumps did
ODD_VALUES = st.one_of(
    st.booleans(),
    st.floats(),  # NaN and the infinities included
    st.lists(st.one_of(st.integers(), st.text(), st.none(), st.floats()), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(SQLITE_VALUES, ODD_VALUES), max_size=8).map(tuple))
def test_row_line_is_the_old_encoding_byte_for_byte(row: tuple[object, ...]) -> None:
    assert dr_hashing.row_line(row) == oracle_canonical_row(row) + b"\n"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.lists(SQLITE_VALUES, min_size=4, max_size=4), max_size=30))
def test_sqlite_fingerprint_equals_the_old_one(tmp_path: Path, rows: list[list[object]]) -> None:
    """Stored fingerprints stay valid: the same digest as the old implementation, over tables
    of mixed columns (any type in any column, as SQLite allows), an empty table and a table
    whose name needs quoting."""
    path = tmp_path / "mixed.db"
    path.unlink(missing_ok=True)
    connection = sqlite3.connect(path)
    connection.execute('CREATE TABLE "odd ""name""" (id INTEGER PRIMARY KEY, a, b, c, d)')
    connection.execute("CREATE TABLE empty (id INTEGER PRIMARY KEY, x TEXT)")
    connection.executemany('INSERT INTO "odd ""name""" (a, b, c, d) VALUES (?, ?, ?, ?)', rows)
    connection.commit()
    connection.close()
    assert dr_hashing.sqlite_fingerprint(str(path)) == oracle_sqlite_fingerprint(str(path))


def test_sqlite_fingerprint_of_a_ledger_equals_the_old_one(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    make_ledger(path, 2000)
    fingerprint = dr_hashing.sqlite_fingerprint(str(path))
    assert fingerprint == oracle_sqlite_fingerprint(str(path))
    assert fingerprint["objects"]["postings"]["rows"] == 2000


def test_sqlite_fingerprint_keeps_a_pinned_digest(tmp_path: Path) -> None:
    """The digest the code before the row encoder gave for these rows (text, NULL, bytes,
    float, a large integer): pins the oracle too."""
    path = tmp_path / "pinned.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a, b)")
    connection.executemany(
        "INSERT INTO t (a, b) VALUES (?, ?)",
        [(1, "é中🙂"), (None, b"\x00\xff"), (0.1, -5), ('"\\', 2**62)],
    )
    connection.commit()
    connection.close()
    assert dr_hashing.sqlite_fingerprint(str(path))["objects"] == {
        "t": {
            "rows": 4,
            "digest": "b9812029ed55e8a93a93515c1cfb75091e6d35e0553e2252cbddb59a350955e8",
        }
    }
