"""Copies into an S3 store, and their verification at the destination.

* Same endpoint (same endpoint URL, region and profile): server-side, CopyObject up to 5 GiB,
  else a multipart UploadPartCopy; S3 computes the SHA-256 of every part it copies. No bytes
  pass through the orchestrator.
* Across endpoints: streamed from the source through `write_stream` (per-part SHA-256, the
  whole-object digest checked in flight), never held whole in memory or on disk.

Either way the copy is then verified here by its stored checksum, its digest metadata and a
re-read of deterministic sampled ranges (stores/sampling.py) compared with the source. The
source's own checksum proves nothing (whoever overwrote it in an unversioned bucket chose it),
so a server-side copy whose stored checksum is not the manifest's SHA-256 (a composite, of
parts) is re-read whole at the destination.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from orchestrator.integrations.stores.s3_pinned import pin
from orchestrator.integrations.stores.s3_upload import abort_upload
from orchestrator.integrations.stores.s3_wire import (
    METADATA_DIGEST,
    composite_checksum,
    hex_to_b64,
    same_checksum,
)
from orchestrator.integrations.stores.sampling import compare_sampled_ranges
from orchestrator.integrations.transfer import DigestMismatch, digest_stream, read_blocks

if TYPE_CHECKING:
    from orchestrator.integrations.stores.s3 import S3Store

logger = logging.getLogger(__name__)


def same_endpoint(destination: S3Store, source: Any) -> bool:
    """Return True when source is an S3 store the destination's endpoint can copy from."""
    identity = getattr(source, "endpoint_identity", None)
    return identity is not None and identity == destination.endpoint_identity


def copy_into(destination: S3Store, source: Any, key: str, *, size: int, sha256: str) -> str:
    """Copy key from source into destination and verify it there; return how it was copied.

    Raise DigestMismatch when the copy differs, FileNotFoundError when the source lacks key,
    InfrastructureError when either store fails."""
    hex_to_b64(sha256)
    server_side = same_endpoint(destination, source)
    if server_side:
        _copy_server_side(destination, source, key, size=size, sha256=sha256)
    else:
        with source.open_read(key) as handle:
            destination.write_stream(key, read_blocks(handle), size=size, sha256=sha256)
    how = "server-side" if server_side else "streamed"
    checked = verify_copy(destination, source, key, size=size, sha256=sha256, whole=server_side)
    logger.info(
        "copied %s:%s to %s %s; verified by stored checksum and %d sampled bytes",
        source.name,
        key,
        destination.name,
        how,
        checked,
    )
    return how


def _copy_server_side(
    destination: S3Store, source: S3Store, key: str, *, size: int, sha256: str
) -> None:
    head = source.head(key)
    if head.get("ContentLength") != size:
        raise DigestMismatch(
            f"{source.name}:{key}",
            f"{size} bytes",
            f"{head.get('ContentLength')} bytes",
            "source size differs",
        )
    copy_source = {"Bucket": source.bucket, "Key": source.object_key(key)}
    if head.get("VersionId"):  # an unversioned bucket has none
        copy_source["VersionId"] = head["VersionId"]
    common = {
        "Bucket": destination.bucket,
        "Key": destination.object_key(key),
        "ChecksumAlgorithm": "SHA256",
        "ContentType": "application/octet-stream",
        "Metadata": {METADATA_DIGEST: sha256},
    }
    lock = destination._lock_arguments()  # noqa: SLF001 - same store family
    destination.written_checksums.pop(key, None)  # none of it was checked against sha256
    if size <= destination.copy_object_max_bytes:
        with destination.errors(key):
            answer = destination.client.copy_object(
                CopySource=copy_source, MetadataDirective="REPLACE", **common, **lock
            )
        destination.note_version(key, answer)
    else:
        _copy_parts(destination, key, copy_source, size, {**common, **lock})
    _check_retention(destination, key)


def _copy_parts(
    destination: S3Store, key: str, copy_source: dict[str, str], size: int, create: dict[str, Any]
) -> str:
    """Copy in parts with UploadPartCopy; return the composite checksum S3 reported."""
    import base64

    part_bytes = max(destination.part_bytes, -(-size // 10_000))
    with destination.errors(key):
        upload_id = destination.client.create_multipart_upload(**create)["UploadId"]
    parts = []
    digests = []
    try:
        for number, offset in enumerate(range(0, size, part_bytes), start=1):
            last = min(offset + part_bytes, size) - 1
            with destination.errors(key):
                answer = destination.client.upload_part_copy(
                    Bucket=destination.bucket,
                    Key=destination.object_key(key),
                    UploadId=upload_id,
                    PartNumber=number,
                    CopySource=copy_source,
                    CopySourceRange=f"bytes={offset}-{last}",
                )["CopyPartResult"]
            part = {"PartNumber": number, "ETag": answer["ETag"]}
            if answer.get("ChecksumSHA256"):
                part["ChecksumSHA256"] = answer["ChecksumSHA256"]
                digests.append(base64.b64decode(answer["ChecksumSHA256"]))
            parts.append(part)
        with destination.errors(key):
            done = destination.client.complete_multipart_upload(
                Bucket=destination.bucket,
                Key=destination.object_key(key),
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
    except BaseException:
        abort_upload(destination, key, upload_id)
        raise
    destination.note_version(key, done)
    expected = composite_checksum(digests) if len(digests) == len(parts) else ""
    reported = str(done.get("ChecksumSHA256") or expected)
    if expected and reported.split("-")[0] != expected.split("-")[0]:
        raise DigestMismatch(
            f"{destination.name}:{key}",
            expected,
            reported,
            "composite checksum of the copied parts",
        )
    return reported


def _check_retention(destination: S3Store, key: str) -> None:
    """Make sure a server-side copy got this store's own retention (some servers carry the
    source's lock settings over instead)."""
    destination.ensure_retention(key, destination.head(key, destination.written_version(key)))


def verify_copy(
    destination: S3Store, source: Any, key: str, *, size: int, sha256: str, whole: bool = False
) -> int:
    """Verify key at the destination: size, digest metadata, stored checksum (the full-object
    SHA-256, or the composite of the parts this process uploaded checking sha256 in flight),
    then sampled ranges re-read and compared with the source. With `whole` (a server-side
    copy), a stored checksum that is not sha256 is no proof: the copy is re-read whole instead.
    Return the bytes re-read; raise DigestMismatch."""
    head = destination.head(key, destination.written_version(key))
    where = f"{destination.name}:{key}"
    if head.get("ContentLength") != size:
        raise DigestMismatch(
            where, f"{size} bytes", f"{head.get('ContentLength')} bytes", "copy at the destination"
        )
    if head.get("Metadata", {}).get(METADATA_DIGEST) != sha256:
        raise DigestMismatch(
            where,
            sha256,
            str(head.get("Metadata", {}).get(METADATA_DIGEST)),
            "digest recorded with the copy",
        )
    stored = head.get("ChecksumSHA256")
    accepted = {hex_to_b64(sha256), destination.written_checksums.get(key)}
    version = destination.written_version(key)
    written = pin(destination, {key: version}) if version else destination
    if whole and not same_checksum(stored, {hex_to_b64(sha256)}):
        return _read_whole(written, where, key, size, sha256)
    if not same_checksum(stored, accepted):
        raise DigestMismatch(
            where,
            " or ".join(sorted(filter(None, accepted))),
            str(stored),
            "stored checksum at the destination",
        )
    return compare_sampled_ranges(source, written, key, size, sha256)


def _read_whole(written: Any, where: str, key: str, size: int, sha256: str) -> int:
    """Re-read a copy whole (at the version written) and compare it with size and sha256;
    return the bytes read. Raise DigestMismatch."""
    with written.open_read(key) as handle:
        read, digest = digest_stream(handle, "sha256")
    if (read, digest) != (size, sha256):
        detail = f"{read} bytes re-read whole at the destination, {size} expected"
        raise DigestMismatch(where, sha256, digest, detail)
    return read
