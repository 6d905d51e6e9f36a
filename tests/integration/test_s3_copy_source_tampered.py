"""A server-side copy between buckets of one real SeaweedFS must prove the copied bytes are the
manifest's, whatever the source object says of itself: someone who overwrites a point's file
in an unversioned source bucket, keeping its size, and uploads it with its own SHA-256
checksum (or in parts) must not get it copied off-site and recorded as verified.

Never against moto (test-services.md §5): the checksum a server reports is the point.
"""

from __future__ import annotations

import base64
import hashlib
import os

import pytest

from orchestrator.actions.copy_offsite import copy_point
from orchestrator.integrations.stores.base import MANIFEST_NAME
from orchestrator.integrations.transfer import DigestMismatch
from orchestrator.model.manifest import FileEntry, manifest_digest, serialise_manifest
from tests.fixtures.s3 import S3Server
from tests.integration.test_s3_store import (
    PART,
    chunks_of,
    core_ledger_manifest,
    make_store,
    new_bucket,
    sha,
)

POINT = "20261123T020000Z-abcdef"
KEY = f"core/ledger/{POINT}/data/dump.bin"


def overwrite(store: object, data: bytes, *, parts: bool) -> None:
    """Replace KEY in the source bucket as an insider with the bucket's credentials would: a
    PutObject carrying its own SHA-256 checksum, or a multipart upload with one per part."""
    client, bucket, key = store.client, store.bucket, store.object_key(KEY)  # type: ignore[attr-defined]
    if not parts:
        checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
        client.put_object(Bucket=bucket, Key=key, Body=data, ChecksumSHA256=checksum)
        return
    upload = client.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="SHA256")
    done = []
    for number, offset in enumerate(range(0, len(data), PART), start=1):
        piece = data[offset : offset + PART]
        checksum = base64.b64encode(hashlib.sha256(piece).digest()).decode()
        answer = client.upload_part(
            Bucket=bucket,
            Key=key,
            UploadId=upload["UploadId"],
            PartNumber=number,
            Body=piece,
            ChecksumSHA256=checksum,
        )
        done.append({"PartNumber": number, "ETag": answer["ETag"], "ChecksumSHA256": checksum})
    client.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload["UploadId"], MultipartUpload={"Parts": done}
    )


@pytest.mark.parametrize("multipart", [False, True])
def test_a_server_side_copy_of_an_overwritten_source_never_counts(
    s3_site_a: S3Server, multipart: bool
) -> None:
    source = make_store(s3_site_a, new_bucket(s3_site_a, locked=False))
    destination = make_store(s3_site_a, new_bucket(s3_site_a), name="vault")
    if multipart:
        destination.copy_object_max_bytes = PART
    data = os.urandom(2 * PART + 5)
    source.write_stream(KEY, chunks_of(data), size=len(data), sha256=sha(data))
    forged = bytearray(data)
    forged[PART + 17] ^= 0xFF  # one byte, away from the first and last sampled ranges
    overwrite(source, bytes(forged), parts=multipart)

    manifest = core_ledger_manifest(POINT, [FileEntry("dump.bin", len(data), sha(data))])
    raw = serialise_manifest(manifest)
    with pytest.raises(DigestMismatch, match=r"vault:core/ledger/.*/dump\.bin"):
        copy_point(source, destination, manifest, raw, manifest_digest(raw))
    assert not destination.exists(f"core/ledger/{POINT}/{MANIFEST_NAME}"), "the copy never counts"
