"""The file store: atomic writes, digest checks, and keys that cannot leave the root."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from orchestrator.integrations.stores.file import FileStore
from orchestrator.integrations.transfer import DigestMismatch


def test_write_stream_is_atomic_and_checked(tmp_path: Path) -> None:
    store = FileStore("primary", "production", str(tmp_path))
    data = b"ledger bytes" * 1000
    store.write_stream(
        "s/d/p/data/a.db",
        [data[:5000], data[5000:]],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    assert store.read_bytes("s/d/p/data/a.db") == data
    with pytest.raises(DigestMismatch, match="b.db: digest mismatch: expected 0{64}") as raised:
        store.write_stream("s/d/p/data/b.db", [data], size=len(data), sha256="0" * 64)
    assert raised.value.expected == "0" * 64
    assert raised.value.actual == hashlib.sha256(data).hexdigest()
    assert not store.exists("s/d/p/data/b.db")
    assert [p.name for p in (tmp_path / "s/d/p/data").iterdir()] == ["a.db"], "no temp left"


def test_transfer_cut_midway_leaves_nothing(tmp_path: Path) -> None:
    store = FileStore("primary", "production", str(tmp_path))

    def chunks():  # type: ignore[no-untyped-def]
        yield b"x" * 100
        raise ConnectionError("link dropped")

    with pytest.raises(ConnectionError, match="link dropped"):
        store.write_stream("s/d/p/data/a.db", chunks(), size=200, sha256="0" * 64)
    assert list((tmp_path / "s/d/p/data").iterdir()) == []


def test_keys_and_links_cannot_leave_the_store(tmp_path: Path) -> None:
    root = tmp_path / "store"
    (root / "s" / "d" / "p" / "data").mkdir(parents=True)
    (root / "s" / "d" / "p" / "data" / "link").symlink_to("/etc/passwd")
    store = FileStore("primary", "production", str(root))
    with pytest.raises(ValueError, match="leaves the store root"):
        store.read_bytes("../outside")
    with pytest.raises(ValueError, match="leaves the store root"):
        store.read_bytes("s/d/p/data/link")
    # A sibling whose name starts with the root's is outside too.
    (tmp_path / "store-evil").mkdir()
    (tmp_path / "store-evil" / "f").write_bytes(b"x")
    with pytest.raises(ValueError, match="leaves the store root"):
        store.read_bytes("../store-evil/f")


def test_a_root_that_is_a_symbolic_link_is_followed(tmp_path: Path) -> None:
    real = tmp_path / "real"
    (real / "s").mkdir(parents=True)
    (real / "s" / "f").write_bytes(b"data")
    (tmp_path / "link").symlink_to(real)
    store = FileStore("primary", "production", str(tmp_path / "link"))
    assert store.read_bytes("s/f") == b"data"
    assert store.exists("s/f") and not store.exists("s/missing")


def test_reads_refuse_a_directory_swapped_for_a_link_after_it_was_first_resolved(
    tmp_path: Path,
) -> None:
    # Reads remember each directory once resolved (issue 15); what is opened is still checked
    # against the root, so a directory replaced by a link mid-scan cannot lead outside.
    root = tmp_path / "store"
    data = root / "s" / "d" / "p" / "data"
    (data / "sub").mkdir(parents=True)
    (data / "sub" / "f").write_bytes(b"inside")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "f").write_bytes(b"outside")
    store = FileStore("primary", "production", str(root))
    assert store.read_bytes("s/d/p/data/sub/f") == b"inside"
    (data / "sub" / "f").unlink()
    (data / "sub").rmdir()
    (data / "sub").symlink_to(tmp_path / "outside")
    with pytest.raises(ValueError, match="leaves the store root"):
        store.read_bytes("s/d/p/data/sub/f")
    # Not a file of the store: a point holding it lacks that file (missing, bad).
    assert not FileStore("primary", "production", str(root)).exists("s/d/p/data/sub/f")
    (data / "escape").symlink_to(tmp_path / "outside" / "f")  # a file link leading out
    assert not store.exists("s/d/p/data/escape")
    for look in (store.size, store.open_read):
        with pytest.raises(ValueError, match="leaves the store root"):
            look("s/d/p/data/escape")
        with pytest.raises(FileNotFoundError, match="leaves the store root"):
            look("s/d/p/data/escape")


def test_reads_follow_links_that_stay_inside_and_see_files_come_and_go(tmp_path: Path) -> None:
    root = tmp_path / "store"
    data = root / "s" / "d" / "p" / "data"
    data.mkdir(parents=True)
    (data / "real").write_bytes(b"12345")
    (data / "alias").symlink_to(data / "real")
    store = FileStore("primary", "production", str(root))
    assert store.exists("s/d/p/data/alias") and store.size("s/d/p/data/alias") == 5
    assert not store.exists("s/d/p/data/later")
    (data / "later").write_bytes(b"x")
    assert store.exists("s/d/p/data/later")
    assert not store.exists("s/d/p/data")  # a directory is not a file
    assert not store.exists("s/d/p/data/../../../../../outside")  # never a file of the store
    with pytest.raises(ValueError, match="leaves the store root"):
        store.size("s/d/p/data/../../../../../outside")
    assert sorted(store.list_keys("s/d/p/data")) == [
        "s/d/p/data/alias",
        "s/d/p/data/later",
        "s/d/p/data/real",
    ]
