"""S3Store against real SeaweedFS servers: checksums, Object Lock, copies, faults, memory.

Everything that must be *refused* is tested here, never against moto (test-services.md §5).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from orchestrator.actions.copy_offsite import copy_point
from orchestrator.errors import ExitCode, InfrastructureError
from orchestrator.integrations.stores.base import MANIFEST_NAME
from orchestrator.integrations.stores.s3 import RetentionLocked, S3Store
from orchestrator.integrations.stores.s3_wire import composite_checksum
from orchestrator.integrations.transfer import DigestMismatch
from orchestrator.model.manifest import FileEntry, Manifest, manifest_digest, serialise_manifest
from tests.fixtures.process import free_port
from tests.fixtures.s3 import S3Server, create_locked_bucket, s3_client

MiB = 1 << 20
PART = 5 * MiB
ROTATION = 7 * 86400.0


def new_bucket(server: S3Server, *, locked: bool = True) -> str:
    name = f"dr-{uuid.uuid4().hex[:12]}"
    if locked:
        return create_locked_bucket(server, name)
    s3_client(server).create_bucket(Bucket=name)
    return name


def make_store(server: S3Server, bucket: str, name: str = "primary") -> S3Store:
    return S3Store(
        name,
        "production",
        bucket=bucket,
        prefix="points",
        client=s3_client(server),
        rotation_seconds=ROTATION,
        endpoint_url=server.endpoint_url,
        region=server.region,
        part_bytes=PART,
    )


def chunks_of(data: bytes, size: int = MiB) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def core_ledger_manifest(point: str, entries: list[FileEntry]) -> Manifest:
    """Return the manifest of a point of core/ledger holding entries."""
    return Manifest(
        point,
        "core",
        "ledger",
        "files",
        "2026-11-23",
        "t0",
        "t1",
        "production",
        "host-a",
        "sha256",
        tuple(entries),
    )


def nothing_counted(store: S3Store, key: str) -> None:
    assert not store.exists(key)
    assert list(store.list_keys(key.rsplit("/", 1)[0])) == []
    uploads = store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", [])
    assert [u["Key"] for u in uploads] == []


def test_multipart_upload_streams_with_sha256_on_every_part(s3_site_a: S3Server) -> None:
    store = make_store(s3_site_a, new_bucket(s3_site_a))
    data = os.urandom(2 * PART + 123)
    key = "core/ledger/20261123T020000Z-abcdef/data/dump.bin"
    store.write_stream(key, chunks_of(data), size=len(data), sha256=sha(data))
    head = store.head(key)
    parts = [data[i : i + PART] for i in range(0, len(data), PART)]
    assert head["ChecksumSHA256"] == composite_checksum(hashlib.sha256(p).digest() for p in parts)
    assert head["ChecksumType"] == "COMPOSITE"
    assert head["Metadata"]["sha256"] == sha(data)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] >= head["LastModified"] + timedelta(seconds=ROTATION)
    with store.open_read(key) as handle:
        assert sha(handle.read()) == sha(data)


def test_wrong_digest_from_the_source_is_refused_and_nothing_counts(s3_site_a: S3Server) -> None:
    store = make_store(s3_site_a, new_bucket(s3_site_a))
    small, big = b"tiny artifact", os.urandom(PART + 10)
    with pytest.raises(DigestMismatch, match="s/d/p/data/a: digest mismatch"):
        store.write_stream("s/d/p/data/a", [small], size=len(small), sha256=sha(b"other"))
    nothing_counted(store, "s/d/p/data/a")
    with pytest.raises(DigestMismatch, match="upload aborted"):
        store.write_stream("s/d/p/data/b", chunks_of(big), size=len(big), sha256=sha(b"other"))
    nothing_counted(store, "s/d/p/data/b")


def corrupt_in_transit(request: Any, **_: Any) -> None:
    """A botocore hook that flips the first byte of the body after the checksum was set."""
    body = request.data
    data = body.read() if hasattr(body, "read") else bytes(body)
    request.data = bytes([data[0] ^ 0xFF]) + data[1:]


@pytest.mark.parametrize(("size", "event"), [(100, "PutObject"), (PART + 100, "UploadPart")])
def test_bytes_corrupted_in_transit_are_refused_by_the_store(
    s3_site_a: S3Server, size: int, event: str
) -> None:
    store = make_store(s3_site_a, new_bucket(s3_site_a))
    data = os.urandom(size)
    key = "s/d/p/data/file"
    store.client.meta.events.register(f"before-sign.s3.{event}", corrupt_in_transit)
    with pytest.raises(DigestMismatch, match="BadDigest"):
        store.write_stream(key, chunks_of(data), size=size, sha256=sha(data))
    nothing_counted(store, key)
    store.client.meta.events.unregister(f"before-sign.s3.{event}", corrupt_in_transit)
    store.write_stream(key, chunks_of(data), size=size, sha256=sha(data))
    assert store.read_bytes(key) == data


def test_transfer_cut_midway_leaves_nothing_and_a_retry_succeeds(s3_site_a: S3Server) -> None:
    store = make_store(s3_site_a, new_bucket(s3_site_a))
    data = os.urandom(3 * PART)
    key = "s/d/p/data/cut.bin"

    def cut() -> Iterator[bytes]:
        yield from chunks_of(data[: 2 * PART])
        raise ConnectionResetError("source host went away")

    with pytest.raises(ConnectionResetError, match="source host went away"):
        store.write_stream(key, cut(), size=len(data), sha256=sha(data))
    nothing_counted(store, key)
    store.write_stream(key, chunks_of(data), size=len(data), sha256=sha(data))
    assert store.size(key) == len(data)


def write_point(store: S3Store, point: str = "20261123T020000Z-0a0b0c") -> tuple[str, str]:
    data, manifest = os.urandom(1000), b'{"manifest": true}\n'
    data_key, manifest_key = f"core/ledger/{point}/data/dump", f"core/ledger/{point}/manifest.json"
    store.write_stream(data_key, [data], size=len(data), sha256=sha(data))
    store.write_stream(manifest_key, [manifest], size=len(manifest), sha256=sha(manifest))
    return data_key, manifest_key


def test_locked_point_cannot_be_deleted_and_drctl_reports_it(s3_site_a: S3Server) -> None:
    store = make_store(s3_site_a, new_bucket(s3_site_a))
    data_key, manifest_key = write_point(store)
    head = store.head(manifest_key)
    with pytest.raises(ClientError, match="AccessDenied"):
        store.client.delete_object(
            Bucket=store.bucket, Key=store.object_key(manifest_key), VersionId=head["VersionId"]
        )
    with pytest.raises(RetentionLocked, match="COMPLIANCE") as raised:
        store.delete_point("core", "ledger", "20261123T020000Z-0a0b0c")
    message = str(raised.value)
    assert store.object_key(manifest_key) in message
    assert head["ObjectLockRetainUntilDate"].date().isoformat() in message
    assert "COMPLIANCE" in message
    assert raised.value.exit_code == ExitCode.CHECK_FAILED
    assert store.exists(manifest_key) and store.exists(data_key)
    assert list(store.list_points()) == [("core", "ledger", "20261123T020000Z-0a0b0c")]


def test_locked_point_retention_cannot_be_shortened(s3_site_a: S3Server) -> None:
    store = make_store(s3_site_a, new_bucket(s3_site_a))
    _, manifest_key = write_point(store)
    head = store.head(manifest_key)
    earlier = head["ObjectLockRetainUntilDate"] - timedelta(days=1)
    with pytest.raises(ClientError, match="AccessDenied"):
        store.client.put_object_retention(
            Bucket=store.bucket,
            Key=store.object_key(manifest_key),
            VersionId=head["VersionId"],
            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": earlier},
        )
    with pytest.raises(RetentionLocked, match="refused to set retention"):
        store.set_point_retention("core", "ledger", "20261123T020000Z-0a0b0c", earlier)
    assert (
        store.head(manifest_key)["ObjectLockRetainUntilDate"] == head["ObjectLockRetainUntilDate"]
    )


def test_unlocked_point_is_deleted_with_every_version(s3_site_a: S3Server) -> None:
    store = make_store(s3_site_a, new_bucket(s3_site_a, locked=False))
    data_key, manifest_key = write_point(store)
    store.delete_point("core", "ledger", "20261123T020000Z-0a0b0c")
    assert not store.exists(manifest_key) and not store.exists(data_key)
    assert list(store.list_points()) == []


def test_delete_markers_hide_points_from_listings(s3_site_a: S3Server) -> None:
    store = make_store(s3_site_a, new_bucket(s3_site_a))
    data_key, manifest_key = write_point(store)
    for key in (data_key, manifest_key):
        store.client.delete_object(Bucket=store.bucket, Key=store.object_key(key))
    assert not store.exists(manifest_key)
    assert list(store.list_points()) == []


def test_unreachable_store_is_an_infrastructure_error_naming_it() -> None:
    server = S3Server(f"http://127.0.0.1:{free_port()}", "none", "none")
    store = make_store(server, "dr-gone", name="offsite")
    with pytest.raises(InfrastructureError, match="store offsite") as raised:
        store.exists("s/d/p/manifest.json")
    assert raised.value.exit_code == ExitCode.INFRASTRUCTURE
    assert "store offsite" in str(raised.value) and server.endpoint_url in str(raised.value)


def count_calls(store: S3Store, operation: str) -> list[int]:
    calls = [0]

    def count(**_: Any) -> None:
        calls[0] += 1

    store.client.meta.events.register(f"before-call.s3.{operation}", count)
    return calls


def test_cross_endpoint_copy_streams_and_verifies(s3_site_a: S3Server, s3_site_b: S3Server) -> None:
    source = make_store(s3_site_a, new_bucket(s3_site_a))
    destination = make_store(s3_site_b, new_bucket(s3_site_b), name="offsite")
    data = os.urandom(2 * PART + 99)
    key = "core/ledger/p/data/dump.bin"
    source.write_stream(key, chunks_of(data), size=len(data), sha256=sha(data))
    ranged = count_calls(destination, "GetObject")
    assert destination.copy_from(source, key, size=len(data), sha256=sha(data)) == "streamed"
    assert ranged[0] == 8, "eight deterministic sampled ranges re-read at the destination"
    head = destination.head(key)
    assert head["Metadata"]["sha256"] == sha(data)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert destination.read_bytes(key) == data


def test_copy_of_a_source_that_differs_from_its_digest_fails(
    s3_site_a: S3Server, s3_site_b: S3Server
) -> None:
    source = make_store(s3_site_a, new_bucket(s3_site_a, locked=False))
    destination = make_store(s3_site_b, new_bucket(s3_site_b), name="offsite")
    data = os.urandom(PART + 1)
    key = "core/ledger/p/data/dump.bin"
    source.write_stream(key, chunks_of(data), size=len(data), sha256=sha(data))
    with pytest.raises(DigestMismatch, match=r"core/ledger/p/data/dump\.bin.*digest mismatch"):
        destination.copy_from(source, key, size=len(data), sha256=sha(b"what the host said"))
    nothing_counted(destination, key)


@pytest.mark.parametrize("multipart", [False, True])
def test_same_endpoint_copy_is_server_side(s3_site_a: S3Server, multipart: bool) -> None:
    source = make_store(s3_site_a, new_bucket(s3_site_a))
    destination = make_store(s3_site_a, new_bucket(s3_site_a), name="vault")
    if multipart:
        destination.copy_object_max_bytes = PART
    data = os.urandom(2 * PART + 5)
    key = "core/ledger/p/data/dump.bin"
    source.write_stream(key, chunks_of(data), size=len(data), sha256=sha(data))
    copies = count_calls(destination, "UploadPartCopy" if multipart else "CopyObject")
    uploads = count_calls(destination, "UploadPart")
    puts = count_calls(destination, "PutObject")
    assert destination.copy_from(source, key, size=len(data), sha256=sha(data)) == "server-side"
    assert copies[0] == (3 if multipart else 1)
    assert uploads[0] == 0 and puts[0] == 0, "no bytes went through the orchestrator"
    head = destination.head(key)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] >= head["LastModified"] + timedelta(seconds=ROTATION)
    assert destination.read_bytes(key) == data


def test_copy_offsite_copies_a_point_between_s3_sites(
    s3_site_a: S3Server, s3_site_b: S3Server
) -> None:
    source = make_store(s3_site_a, new_bucket(s3_site_a))
    destination = make_store(s3_site_b, new_bucket(s3_site_b), name="offsite")
    point = "20261123T020000Z-123456"
    files = {"dump.bin": os.urandom(PART + 7), "schema.sql": b"create table t(x int);\n"}
    entries = []
    for path, data in files.items():
        key = f"core/ledger/{point}/data/{path}"
        source.write_stream(key, [data], size=len(data), sha256=sha(data))
        entries.append(FileEntry(path, len(data), sha(data)))
    manifest = core_ledger_manifest(point, entries)
    raw = serialise_manifest(manifest)
    copy_point(source, destination, manifest, raw, manifest_digest(raw))
    assert destination.read_bytes(f"core/ledger/{point}/{MANIFEST_NAME}") == raw
    for path, data in files.items():
        assert destination.head(f"core/ledger/{point}/data/{path}")["Metadata"]["sha256"] == sha(
            data
        )


MEMORY_PROBE = """
import hashlib, json, random, resource, sys
from orchestrator.integrations.stores.s3 import S3Store
from tests.fixtures.s3 import S3Server, s3_client
server = S3Server(*sys.argv[1:4])
store = S3Store("m", "a", bucket=sys.argv[4], prefix="", client=s3_client(server),
                rotation_seconds=86400.0, part_bytes=8 << 20)
CHUNK, COUNT = 1 << 20, 200
def chunks():
    rng = random.Random(7)
    for _ in range(COUNT):
        yield rng.randbytes(CHUNK)
digest = hashlib.sha256()
for chunk in chunks():
    digest.update(chunk)
warm = b"w" * (9 << 20)
store.write_stream("warm-up", [warm], size=len(warm), sha256=hashlib.sha256(warm).hexdigest())
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
store.write_stream("big", chunks(), size=CHUNK * COUNT, sha256=digest.hexdigest())
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"before_kib": before, "after_kib": after, "size": store.size("big")}))
"""


def test_200_mb_streaming_upload_keeps_memory_flat(s3_site_a: S3Server) -> None:
    bucket = new_bucket(s3_site_a)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            MEMORY_PROBE,
            s3_site_a.endpoint_url,
            s3_site_a.access_key,
            s3_site_a.secret_key,
            bucket,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    measured = json.loads(result.stdout)
    print(f"memory probe: {measured}")
    assert measured["size"] == 200 * MiB
    growth_mib = (measured["after_kib"] - measured["before_kib"]) / 1024
    assert growth_mib < 4 * 8, f"peak RSS grew {growth_mib:.1f} MiB for a 200 MiB upload"


def test_file_store_to_s3_copy_streams_and_verifies_ranges(
    s3_site_a: S3Server, tmp_path: Path
) -> None:
    from orchestrator.integrations.stores.file import FileStore

    source = FileStore("primary", "production", str(tmp_path / "store"))
    source.prepare()
    destination = make_store(s3_site_a, new_bucket(s3_site_a), name="offsite")
    data = os.urandom(9 * MiB + 1)
    key = "core/files/p/data/tree.tar"
    source.write_stream(key, chunks_of(data), size=len(data), sha256=sha(data))
    assert destination.copy_from(source, key, size=len(data), sha256=sha(data)) == "streamed"
    assert destination.read_range(key, 9 * MiB - 2, 3) == data[-3:]


def test_a_stream_longer_than_announced_is_refused(s3_site_a: S3Server) -> None:
    store = make_store(s3_site_a, new_bucket(s3_site_a))
    data = os.urandom(3 * MiB)
    with pytest.raises(DigestMismatch, match="nothing uploaded"):
        store.write_stream("s/d/p/data/x", chunks_of(data), size=100, sha256=sha(data[:100]))
    nothing_counted(store, "s/d/p/data/x")


def test_short_lock_is_extended_to_written_plus_rotation(s3_site_a: S3Server) -> None:
    bucket = new_bucket(s3_site_a)
    writer = make_store(s3_site_a, bucket)
    data = b"manifest"
    key = "core/ledger/p/manifest.json"
    writer.write_stream(key, [data], size=len(data), sha256=sha(data))
    # A store of the same bucket with a longer rotation finds the lock short and extends it.
    longer = make_store(s3_site_a, bucket)
    longer.rotation_seconds = ROTATION * 3
    before = longer.head(key)
    assert before["ObjectLockRetainUntilDate"] < before["LastModified"] + timedelta(
        seconds=ROTATION * 3
    )
    longer.ensure_retention(key, before)
    after = longer.head(key)
    assert after["ObjectLockMode"] == "COMPLIANCE"
    assert after["ObjectLockRetainUntilDate"] >= after["LastModified"] + timedelta(
        seconds=ROTATION * 3
    )
