"""S3Store happy paths against moto (in-process): fast checks of streaming, listing and locks.

Refusals (BadDigest, COMPLIANCE) are tested against SeaweedFS in
tests/integration/test_s3_store.py: moto accepts wrong checksums and shortens locks.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import timedelta

import boto3
import pytest
from moto import mock_aws

from orchestrator.integrations.stores.s3 import S3Store, parse_s3_url
from orchestrator.integrations.stores.s3_wire import composite_checksum, hex_to_b64, split_parts
from orchestrator.integrations.stores.sampling import sample_ranges

MiB = 1 << 20
ROTATION = 7 * 86400.0


@pytest.fixture
def locked_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Store]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="dr-primary", ObjectLockEnabledForBucket=True)
        yield S3Store(
            "primary",
            "production",
            bucket="dr-primary",
            prefix="points",
            client=client,
            rotation_seconds=ROTATION,
            part_bytes=5 * MiB,
        )


def chunks_of(data: bytes, size: int = 1 * MiB) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_parse_s3_url_splits_bucket_and_prefix() -> None:
    assert parse_s3_url("s3://dr-a/site/points/", "a") == ("dr-a", "site/points")
    assert parse_s3_url("s3://dr-a", "a") == ("dr-a", "")


def test_split_parts_regroups_chunks_into_exact_parts() -> None:
    data = os.urandom(23)
    parts = list(split_parts(chunks_of(data, 3), 10))
    assert [len(p) for p in parts] == [10, 10, 3]
    assert b"".join(parts) == data


def test_composite_checksum_is_sha256_of_part_digests_with_count() -> None:
    digests = [hashlib.sha256(b"a").digest(), hashlib.sha256(b"b").digest()]
    expected = hex_to_b64(hashlib.sha256(digests[0] + digests[1]).hexdigest())
    assert composite_checksum(digests) == f"{expected}-2"


def test_sample_ranges_are_deterministic_and_include_both_ends() -> None:
    size = 100 * MiB + 5
    first = sample_ranges("a/b", size, "ab" * 32)
    assert first == sample_ranges("a/b", size, "ab" * 32)
    assert first != sample_ranges("a/c", size, "ab" * 32)
    assert first[0] == (0, MiB)
    assert first[-1] == (100 * MiB, 5)
    assert len(first) == 8
    assert sample_ranges("k", 3 * MiB, "00" * 32) == [(0, 3 * MiB)]
    assert sample_ranges("k", 0, "00" * 32) == []


def test_small_object_round_trip_with_compliance_retention(locked_store: S3Store) -> None:
    data = b"manifest bytes\n"
    digest = hashlib.sha256(data).hexdigest()
    locked_store.write_stream("core/ledger/p1/manifest.json", [data], size=len(data), sha256=digest)
    key = "core/ledger/p1/manifest.json"
    assert locked_store.read_bytes(key) == data
    assert locked_store.size(key) == len(data)
    head = locked_store.head(key)
    assert head["Metadata"]["sha256"] == digest
    mode, until = locked_store.retention(key) or ("", None)
    assert mode == "COMPLIANCE"
    assert until is not None
    assert until >= head["LastModified"] + timedelta(seconds=ROTATION)


def test_multipart_round_trip_lists_and_reads_ranges(locked_store: S3Store) -> None:
    data = os.urandom(11 * MiB + 17)
    key = "core/ledger/p2/data/dump.bin"
    locked_store.write_stream(
        key, chunks_of(data), size=len(data), sha256=hashlib.sha256(data).hexdigest()
    )
    with locked_store.open_read(key) as handle:
        assert hashlib.sha256(handle.read()).digest() == hashlib.sha256(data).digest()
    assert locked_store.read_range(key, 5 * MiB - 3, 10) == data[5 * MiB - 3 : 5 * MiB + 7]
    assert locked_store.exists(key)
    assert not locked_store.exists("core/ledger/p2/data/other.bin")
    assert list(locked_store.list_keys("core/ledger/p2")) == [key]
    assert list(locked_store.list_points()) == [("core", "ledger", "p2")]
    assert locked_store.written_at(key) > 0


def test_delete_marker_hides_a_point(locked_store: S3Store) -> None:
    data = b"x"
    key = "core/files/p3/manifest.json"
    locked_store.write_stream(key, [data], size=1, sha256=hashlib.sha256(data).hexdigest())
    locked_store.client.delete_object(Bucket="dr-primary", Key=f"points/{key}")
    assert not locked_store.exists(key)
    assert list(locked_store.list_keys("core/files/p3")) == []
