"""Streaming copies hashed in flight, and the stores' copy and restore paths built on them.

Every digest here is checked against hashlib computed independently over the same bytes, so a
block that is not hashed, hashed twice or counted wrong changes the answer. The SM3 vector is
the one published with GB/T 32905-2016 (message "abc").
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from orchestrator.actions.copy_offsite import copy_point
from orchestrator.actions.restore_selection import fetch_to_host
from orchestrator.integrations.hosts import LocalHostFiles
from orchestrator.integrations.stores.base import MANIFEST_NAME, point_prefix
from orchestrator.integrations.stores.file import FileStore
from orchestrator.integrations.transfer import (
    BLOCK_BYTES,
    DigestMismatch,
    digest_stream,
    hashed,
    new_hash,
    read_blocks,
)
from orchestrator.model.manifest import FileEntry, Manifest, manifest_digest, serialise_manifest

SM3_ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
# Two full blocks and a short third: the loops must hash every one of them, in order.
BIG = bytes(range(256)) * (BLOCK_BYTES // 256) * 2 + b"tail of the file"


def test_new_hash_gives_the_manifest_algorithms() -> None:
    sha = new_hash("sha256")
    sha.update(b"abc")
    assert sha.hexdigest() == hashlib.sha256(b"abc").hexdigest()
    sm3 = new_hash("sm3")
    sm3.update(b"abc")
    assert sm3.hexdigest() == SM3_ABC
    assert new_hash("sha256").hexdigest() != new_hash("sm3").hexdigest(), "fresh, not shared"


def test_read_blocks_cuts_at_the_block_size_and_stops_at_the_end() -> None:
    assert list(read_blocks(io.BytesIO(b"abcdefg"), 3)) == [b"abc", b"def", b"g"]
    assert list(read_blocks(io.BytesIO(b""), 3)) == []
    blocks = list(read_blocks(io.BytesIO(BIG)))
    assert [len(block) for block in blocks] == [BLOCK_BYTES, BLOCK_BYTES, 16]


@pytest.mark.parametrize("algorithm", ["sha256", "sm3"])
def test_digest_stream_hashes_every_block(algorithm: str) -> None:
    expected = hashlib.new(algorithm, BIG).hexdigest()
    assert digest_stream(io.BytesIO(BIG), algorithm) == (len(BIG), expected)
    assert digest_stream(io.BytesIO(b"")) == (0, hashlib.sha256(b"").hexdigest())


@pytest.mark.parametrize("algorithm", ["sha256", "sm3"])
def test_hashed_passes_blocks_through_and_counts_what_flowed(algorithm: str) -> None:
    seen: list[int] = []
    blocks, result = hashed(read_blocks(io.BytesIO(BIG)), algorithm, on_block=seen.append)
    assert result() == (0, hashlib.new(algorithm).hexdigest()), "nothing has flowed yet"
    assert b"".join(blocks) == BIG
    assert result() == (len(BIG), hashlib.new(algorithm, BIG).hexdigest())
    assert seen == [BLOCK_BYTES, BLOCK_BYTES, 16]


def test_hashed_without_a_progress_callback() -> None:
    blocks, result = hashed(iter([b"ab", b"c"]), "sm3")
    assert list(blocks) == [b"ab", b"c"]
    assert result() == (3, SM3_ABC)


def test_digest_mismatch_names_the_file_and_both_digests() -> None:
    error = DigestMismatch("primary:s/d/p/data/a.db", "a" * 64, "b" * 64, "re-read")
    assert (error.key, error.expected, error.actual) == (
        "primary:s/d/p/data/a.db",
        "a" * 64,
        "b" * 64,
    )
    assert str(error) == (
        f"primary:s/d/p/data/a.db: digest mismatch: expected {'a' * 64}, actual {'b' * 64} "
        "(re-read)"
    )
    assert str(DigestMismatch("k", "1", "2")) == "k: digest mismatch: expected 1, actual 2"


# Store level: the copy between two stores and the restore from a store to a host both hash
# what flows through hashed()/digest_stream(), for either manifest algorithm.

FILES = {"ledger.db": BIG, "config/app.yml": b"mode: live\n", "empty": b""}


def stored_point(store: FileStore, algorithm: str) -> tuple[Manifest, bytes]:
    manifest = Manifest(
        recovery_point_id="20261123T020000Z-1a2b3c",
        system="core-banking",
        dataset="ledger",
        engine="files",
        business_date="2026-11-23",
        started_at="2026-11-23T02:00:00Z",
        finished_at="2026-11-23T02:01:00Z",
        source_site="production",
        source_host="prod-core-1",
        hash_algorithm=algorithm,
        files=tuple(
            FileEntry(path, len(data), hashlib.new(algorithm, data).hexdigest())
            for path, data in FILES.items()
        ),
    )
    prefix = point_prefix(manifest.system, manifest.dataset, manifest.recovery_point_id)
    for path, data in FILES.items():
        key = f"{prefix}/data/{path}"
        store.write_stream(key, [data], size=len(data), sha256=hashlib.sha256(data).hexdigest())
    raw = serialise_manifest(manifest)
    store.write_stream(
        f"{prefix}/{MANIFEST_NAME}", [raw], size=len(raw), sha256=hashlib.sha256(raw).hexdigest()
    )
    return manifest, raw


def stores(tmp_path: Path) -> tuple[FileStore, FileStore]:
    pair = (
        FileStore("primary", "production", str(tmp_path / "primary")),
        FileStore("offsite", "disaster_recovery", str(tmp_path / "offsite")),
    )
    for store in pair:
        store.prepare()
    return pair


@pytest.mark.parametrize("algorithm", ["sha256", "sm3"])
def test_copy_point_copies_every_file_and_the_manifest_last(tmp_path: Path, algorithm: str) -> None:
    source, destination = stores(tmp_path)
    manifest, raw = stored_point(source, algorithm)
    copy_point(source, destination, manifest, raw, manifest_digest(raw))
    prefix = point_prefix("core-banking", "ledger", manifest.recovery_point_id)
    for path, data in FILES.items():
        assert destination.read_bytes(f"{prefix}/data/{path}") == data
    assert destination.read_bytes(f"{prefix}/{MANIFEST_NAME}") == raw


@pytest.mark.parametrize("algorithm", ["sha256", "sm3"])
def test_copy_point_refuses_a_source_that_no_longer_matches_its_manifest(
    tmp_path: Path, algorithm: str
) -> None:
    source, destination = stores(tmp_path)
    manifest, raw = stored_point(source, algorithm)
    prefix = point_prefix("core-banking", "ledger", manifest.recovery_point_id)
    rotten = tmp_path / "primary" / prefix / "data" / "ledger.db"
    content = bytearray(rotten.read_bytes())
    content[BLOCK_BYTES + 7] ^= 0x01  # in the second block
    rotten.write_bytes(bytes(content))
    with pytest.raises(DigestMismatch, match=r"data/ledger\.db: digest mismatch") as raised:
        copy_point(source, destination, manifest, raw, manifest_digest(raw))
    assert raised.value.expected == manifest.files[0].digest
    assert not destination.exists(f"{prefix}/{MANIFEST_NAME}"), "an incomplete copy never counts"


@pytest.mark.parametrize("algorithm", ["sha256", "sm3"])
def test_fetch_to_host_restores_every_file_checked_in_flight(
    tmp_path: Path, algorithm: str
) -> None:
    source, _ = stores(tmp_path)
    manifest, _raw = stored_point(source, algorithm)
    spool = tmp_path / "host" / "spool"
    fetch_to_host(source, manifest, LocalHostFiles("vault-1"), str(spool))
    for path, data in FILES.items():
        assert (spool / "data" / path).read_bytes() == data


@pytest.mark.parametrize("algorithm", ["sha256", "sm3"])
def test_fetch_to_host_names_a_rotten_file_with_both_digests(
    tmp_path: Path, algorithm: str
) -> None:
    source, _ = stores(tmp_path)
    manifest, _raw = stored_point(source, algorithm)
    prefix = point_prefix("core-banking", "ledger", manifest.recovery_point_id)
    rotten = tmp_path / "primary" / prefix / "data" / "config" / "app.yml"
    rotten.write_bytes(b"mode: test\n")
    with pytest.raises(DigestMismatch, match=r"primary:.*/data/config/app\.yml") as raised:
        fetch_to_host(source, manifest, LocalHostFiles("vault-1"), str(tmp_path / "spool"))
    assert raised.value.expected == manifest.files[1].digest
    assert raised.value.actual == hashlib.new(algorithm, b"mode: test\n").hexdigest()
