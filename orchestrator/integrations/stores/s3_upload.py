"""Writing an object into an S3 store, and checking what the store then holds.

Objects up to one part go in one PUT; larger ones as a multipart upload fed part by part from
the chunk iterator (never the whole object in memory or on disk). Every part carries its
precomputed SHA-256 and the server refuses a part that does not match (BadDigest); the
whole-object SHA-256 computed in flight must equal the source host's digest before the upload
is completed, and the checksum S3 reports afterwards must equal ours. Every write is then
checked by a HEAD (size, digest metadata, checksum) and its retention extended when needed.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from orchestrator.integrations.stores.s3_wire import (
    MAX_PARTS,
    METADATA_DIGEST,
    composite_checksum,
    hex_to_b64,
    same_checksum,
    split_parts,
)
from orchestrator.integrations.transfer import DigestMismatch

if TYPE_CHECKING:
    from orchestrator.integrations.stores.s3 import S3Store

logger = logging.getLogger(__name__)


def upload(store: S3Store, key: str, chunks: Iterable[bytes], *, size: int, sha256: str) -> None:
    """Write chunks (size bytes, SHA-256 sha256) to key and check what the store holds.

    Raise DigestMismatch when the stream or the stored object differs; nothing is completed
    from a stream whose digest is wrong."""
    part_bytes = max(store.part_bytes, -(-size // MAX_PARTS))
    if size <= part_bytes:
        _put_single(store, key, chunks, size=size, sha256=sha256, part_bytes=part_bytes)
    else:
        _write_multipart(store, key, chunks, size=size, sha256=sha256, part_bytes=part_bytes)
    check_written(store, key, size=size, sha256=sha256)


def _put_single(
    store: S3Store, key: str, chunks: Iterable[bytes], *, size: int, sha256: str, part_bytes: int
) -> None:
    """Write an object of at most one part in one PUT, its digest checked before sending."""
    expected = hex_to_b64(sha256)
    # At most one part (plus one chunk) is held: a longer stream is refused at once.
    body = next(split_parts(chunks, part_bytes + 1), b"")
    if len(body) != size or hashlib.sha256(body).hexdigest() != sha256:
        raise DigestMismatch(
            f"{store.name}:{key}",
            sha256,
            hashlib.sha256(body).hexdigest(),
            f"{len(body)} of {size} bytes; nothing uploaded",
        )
    with store.errors(key):
        response = store.client.put_object(
            Bucket=store.bucket,
            Key=store.object_key(key),
            Body=body,
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=expected,
            Metadata={METADATA_DIGEST: sha256},
            ContentType="application/octet-stream",
            **store._lock_arguments(),  # noqa: SLF001 - same store family
        )
    reported = response.get("ChecksumSHA256")
    if reported is not None and reported != expected:
        raise DigestMismatch(f"{store.name}:{key}", expected, reported, "S3 checksum")
    store.written_checksums[key] = expected
    store.note_version(key, response)


def _write_multipart(
    store: S3Store, key: str, chunks: Iterable[bytes], *, size: int, sha256: str, part_bytes: int
) -> None:
    """Write key as a multipart upload, aborted on any failure before it is completed."""
    with store.errors(key):
        upload_id = store.client.create_multipart_upload(
            Bucket=store.bucket,
            Key=store.object_key(key),
            ChecksumAlgorithm="SHA256",
            Metadata={METADATA_DIGEST: sha256},
            ContentType="application/octet-stream",
            **store._lock_arguments(),  # noqa: SLF001 - same store family
        )["UploadId"]
    try:
        parts, digests = _upload_parts(
            store, key, upload_id, split_parts(chunks, part_bytes), size=size, sha256=sha256
        )
        with store.errors(key):
            done = store.client.complete_multipart_upload(
                Bucket=store.bucket,
                Key=store.object_key(key),
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
    except BaseException:
        abort_upload(store, key, upload_id)
        raise
    expected = composite_checksum(digests)
    reported = done.get("ChecksumSHA256")
    if reported is not None and reported.split("-")[0] != expected.split("-")[0]:
        raise DigestMismatch(f"{store.name}:{key}", expected, reported, "S3 composite checksum")
    store.written_checksums[key] = expected
    store.note_version(key, done)
    logger.debug("store %s: %s in %d parts", store.name, key, len(parts))


def _upload_parts(
    store: S3Store, key: str, upload_id: str, pieces: Iterable[bytes], *, size: int, sha256: str
) -> tuple[list[dict[str, Any]], list[bytes]]:
    """Upload each part with its SHA-256; return (the parts to complete with, their raw
    digests). Raise DigestMismatch when the stream is longer or shorter than size, or its
    whole-object digest is not sha256."""
    whole = hashlib.sha256()
    seen = 0
    parts: list[dict[str, Any]] = []
    digests: list[bytes] = []
    for number, part in enumerate(pieces, start=1):
        whole.update(part)
        seen += len(part)
        if seen > size:
            raise DigestMismatch(
                f"{store.name}:{key}", sha256, "(longer)", f"more than {size} bytes arrived"
            )
        digest = hashlib.sha256(part).digest()
        parts.append(_upload_part(store, key, upload_id, number, part, digest))
        digests.append(digest)
    if seen != size or whole.hexdigest() != sha256:
        raise DigestMismatch(
            f"{store.name}:{key}",
            sha256,
            whole.hexdigest(),
            f"{seen} of {size} bytes in transit; upload aborted",
        )
    return parts, digests


def _upload_part(
    store: S3Store, key: str, upload_id: str, number: int, part: bytes, digest: bytes
) -> dict[str, Any]:
    """Upload one part with its SHA-256 (the server refuses a mismatch); return its entry."""
    checksum = base64.b64encode(digest).decode()
    with store.errors(key):
        answer = store.client.upload_part(
            Bucket=store.bucket,
            Key=store.object_key(key),
            UploadId=upload_id,
            PartNumber=number,
            Body=part,
            ChecksumSHA256=checksum,
        )
    if answer.get("ChecksumSHA256") not in (None, checksum):
        raise DigestMismatch(
            f"{store.name}:{key} part {number}",
            checksum,
            answer["ChecksumSHA256"],
            "S3 part checksum",
        )
    return {"PartNumber": number, "ETag": answer["ETag"], "ChecksumSHA256": checksum}


def abort_upload(store: S3Store, key: str, upload_id: str) -> None:
    """Abort a multipart upload of key; a failure to abort is logged, not raised."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        store.client.abort_multipart_upload(
            Bucket=store.bucket, Key=store.object_key(key), UploadId=upload_id
        )
    except (BotoCoreError, ClientError) as error:
        logger.warning(
            "store %s: could not abort the upload of %s (the bucket's lifecycle "
            "rule must clean it up): %s",
            store.name,
            key,
            error,
        )


def check_written(store: S3Store, key: str, *, size: int, sha256: str) -> None:
    """Check what S3 now holds at key (size, digest metadata, checksum) and make sure its
    retention reaches LastModified + rotation (extending it when the write took long)."""
    head = store.head(key, store.written_version(key))
    stored = head.get("ChecksumSHA256")
    wanted = {hex_to_b64(sha256), store.written_checksums.get(key)}
    problems = []
    if head.get("ContentLength") != size:
        problems.append(f"size {head.get('ContentLength')} != {size}")
    if head.get("Metadata", {}).get(METADATA_DIGEST) != sha256:
        problems.append("digest metadata differs")
    if stored is not None and not same_checksum(stored, wanted):
        problems.append(f"checksum {stored} is not {' or '.join(filter(None, wanted))}")
    if problems:
        raise DigestMismatch(f"{store.name}:{key}", sha256, "(stored object)", "; ".join(problems))
    store.ensure_retention(key, head)
