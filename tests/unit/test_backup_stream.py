"""Backup's one pass on the controller: the stream from the host checks itself against the
digest the host computed, and the store that is handed such a stream does not hash it again;
whatever is skipped, bytes that are not the host's are refused and nothing lands in the store.

Real files on both sides (a `local` host and a directory store); the digests are hashlib's,
computed here independently.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

import pytest

from orchestrator.actions.backup_stream import parallel_files, stream_files, stream_to_store
from orchestrator.integrations.hosts import LocalHostFiles
from orchestrator.integrations.stores.file import FileStore
from orchestrator.integrations.transfer import CheckedBlocks, DigestMismatch, checked
from orchestrator.model.manifest import FileEntry

PREFIX = "bench/tree/20261130T000000Z-000000"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_checked_blocks_flow_through_and_prove_themselves_only_at_their_end() -> None:
    blocks = CheckedBlocks(iter([b"ab", b"c"]), "k", 3, sha(b"abc"))
    assert blocks.verified is False
    flowing = iter(blocks)
    assert next(flowing) == b"ab" and not blocks.verified
    assert next(flowing) == b"c" and not blocks.verified, "not before the end"
    assert list(flowing) == [] and blocks.verified
    assert blocks.guarantees(3, sha(b"abc"))
    assert not blocks.guarantees(3, sha(b"abd")) and not blocks.guarantees(4, sha(b"abc"))


@pytest.mark.parametrize(
    ("pieces", "detail"),
    [([b"ab", b"d"], "3 of 3 bytes in transit"), ([b"ab"], "2 of 3 bytes in transit")],
)
def test_checked_blocks_raise_before_the_consumer_sees_the_end(
    pieces: list[bytes], detail: str
) -> None:
    blocks = CheckedBlocks(iter(pieces), "s/d/p/data/a.db", 3, sha(b"abc"))
    seen = []
    expected, actual = sha(b"abc"), sha(b"".join(pieces))
    message = f"a.db: digest mismatch: expected {expected}, actual {actual} \\({detail}\\)$"
    with pytest.raises(DigestMismatch, match=message) as raised:
        for block in blocks:
            seen.append(block)
    assert seen == pieces and not blocks.verified
    assert (raised.value.key, raised.value.expected, raised.value.actual) == (
        "s/d/p/data/a.db",
        expected,
        actual,
    )


def test_the_store_refuses_a_checked_stream_that_does_not_match(tmp_path: Path) -> None:
    """The store no longer hashes a CheckedBlocks stream; the stream's own check must still
    keep the wrong bytes out: nothing at the key, no temporary file left."""
    store = FileStore("primary", "production", str(tmp_path))
    good = b"ledger bytes" * 1000
    bad = good[:-1] + b"X"
    with pytest.raises(DigestMismatch, match="b.db: digest mismatch"):
        blocks = CheckedBlocks(iter([bad[:5000], bad[5000:]]), "b.db", len(good), sha(good))
        store.write_stream("s/d/p/data/b.db", blocks, size=len(good), sha256=sha(good))
    assert not store.exists("s/d/p/data/b.db")
    assert list((tmp_path / "s/d/p/data").iterdir()) == [], "no temporary file left"
    checked = CheckedBlocks(iter([good]), "a.db", len(good), sha(good))
    store.write_stream("s/d/p/data/a.db", checked, size=len(good), sha256=sha(good))
    assert store.read_bytes("s/d/p/data/a.db") == good and checked.verified


def test_a_checked_stream_for_another_digest_is_still_hashed_by_the_store(tmp_path: Path) -> None:
    """A stream that proves some other digest guarantees nothing about the one asked for."""
    store = FileStore("primary", "production", str(tmp_path))
    data = b"audit" * 100
    blocks = CheckedBlocks(iter([data]), "c.db", len(data), sha(data))
    with pytest.raises(
        DigestMismatch, match=f"c.db: digest mismatch: expected 0{{64}}, actual {sha(data)}"
    ):
        store.write_stream("s/d/p/data/c.db", blocks, size=len(data), sha256="0" * 64)
    assert not store.exists("s/d/p/data/c.db")


def test_checked_keeps_a_stream_that_proves_exactly_what_is_asked_and_checks_any_other() -> None:
    """The stores' one choice: a stream that proves this size and digest is written as it is
    (hashed once); any other (plain blocks, or proving another size or digest) is wrapped in
    a check of its own, which names where the bytes were counted."""
    data = b"ledger"
    proving = CheckedBlocks(iter([data]), "a.db", len(data), sha(data))
    assert checked(proving, "a.db", len(data), sha(data), "written") is proving
    for size, digest in ((len(data) + 1, sha(data)), (len(data), sha(b"other"))):
        stream = CheckedBlocks(iter([data]), "a.db", len(data), sha(data))
        wrapped = checked(stream, "s:a.db", size, digest, "written")
        assert wrapped is not stream and wrapped.guarantees(size, digest)
    plain = checked(iter([data[:3]]), "s:b.db", len(data), sha(data), "written")
    with pytest.raises(
        DigestMismatch, match=r"^s:b.db: digest mismatch: .* \(3 of 6 bytes written\)$"
    ):
        list(plain)


def make_spool(spool: Path, count: int) -> list[dict[str, object]]:
    """Write count files of different sizes into the spool's data/; return the host's
    artifact entries (path, size, digest) for them."""
    files = []
    for index in range(count):
        data = os.urandom(1000 * (index + 1))
        path = spool / "data" / f"d{index % 3}" / f"f{index:03d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        files.append(
            {
                "path": path.relative_to(spool / "data").as_posix(),
                "size": len(data),
                "digest": sha(data),
            }
        )
    return files


def test_every_file_lands_once_in_order_with_the_hosts_digests(tmp_path: Path) -> None:
    store = FileStore("primary", "production", str(tmp_path / "store"))
    store.prepare()
    files = make_spool(tmp_path / "spool", 12)
    entries = stream_files(LocalHostFiles("h"), str(tmp_path / "spool"), store, PREFIX, files)
    assert [(e.path, e.size, e.digest) for e in entries] == [
        (f["path"], f["size"], f["digest"]) for f in files
    ]
    for entry in entries:
        stored = store.read_bytes(f"{PREFIX}/data/{entry.path}")
        assert (len(stored), sha(stored)) == (entry.size, entry.digest)


def test_a_spool_file_that_is_not_what_the_host_hashed_is_refused(tmp_path: Path) -> None:
    """One file of many changed after the host hashed it: the backup stream raises the
    mismatch naming it, and that file is not in the store."""
    store = FileStore("primary", "production", str(tmp_path / "store"))
    store.prepare()
    spool = tmp_path / "spool"
    files = make_spool(spool, 9)
    changed = spool / "data" / str(files[4]["path"])
    data = changed.read_bytes()
    changed.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))  # always another byte
    with pytest.raises(DigestMismatch, match=f"{files[4]['path']}: digest mismatch.*in transit"):
        stream_files(LocalHostFiles("h"), str(spool), store, PREFIX, files)
    assert not store.exists(f"{PREFIX}/data/{files[4]['path']}")
    leftovers = [p.name for p in (tmp_path / "store").rglob("*") if ".partial-" in p.name]
    assert leftovers == []


def test_files_go_in_parallel_only_between_local_disks(tmp_path: Path) -> None:
    store = FileStore("primary", "production", str(tmp_path))
    assert parallel_files(LocalHostFiles("h"), store) == len(os.sched_getaffinity(0))

    class OtherHost(LocalHostFiles):
        """Anything that is not exactly the local connection (an SSH host, a wrapper)."""

    class OtherStore(FileStore):
        """Anything that is not exactly a directory store."""

    assert parallel_files(OtherHost("r"), store) == 1
    assert parallel_files(LocalHostFiles("h"), OtherStore("o", "p", str(tmp_path))) == 1


class FirstPieceStore(FileStore):
    """A store that takes only what it needs of a stream and never reads it to the end (as
    a single-part upload stops after its one part): the stream's own check never runs."""

    def write_stream(self, key: str, chunks: Iterable[bytes], *, size: int, sha256: str) -> None:
        first = next(iter(chunks), b"")
        super().write_stream(key, [first], size=len(first), sha256=sha(first))


def test_a_stream_the_store_did_not_read_to_its_end_counts_as_a_mismatch(tmp_path: Path) -> None:
    store = FirstPieceStore("primary", "production", str(tmp_path / "store"))
    store.prepare()
    spool = tmp_path / "spool"
    files = make_spool(spool, 1)
    entry = FileEntry(str(files[0]["path"]), int(str(files[0]["size"])), str(files[0]["digest"]))
    source = f"{spool}/data/{entry.path}"
    with pytest.raises(DigestMismatch, match=r"digest mismatch.*\(not read to the end\)"):
        stream_to_store(LocalHostFiles("h"), source, store, f"{PREFIX}/data/{entry.path}", entry)
