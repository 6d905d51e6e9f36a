"""What goes over the wire to S3: SHA-256 checksums as S3 spells them, parts regrouped from
a chunk stream, and response bodies whose failures become orchestrator errors."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

from orchestrator.errors import InfrastructureError
from orchestrator.integrations.transfer import DigestMismatch

MAX_PARTS = 10_000  # S3's limit on the parts of one multipart upload
METADATA_DIGEST = "sha256"  # the user-metadata key holding an object's hex SHA-256


def hex_to_b64(digest: str) -> str:
    """Given a hex SHA-256, return it base64-encoded as S3 reports ChecksumSHA256.

    Raise ValueError if it is not 64 hex digits."""
    raw = bytes.fromhex(digest)
    if len(raw) != 32:
        raise ValueError(f"expected a SHA-256 hex digest, got {digest!r}")
    return base64.b64encode(raw).decode()


def composite_checksum(part_digests: Iterable[bytes]) -> str:
    """Given the raw SHA-256 of each part, return S3's composite checksum `<b64>-<parts>`."""
    parts = list(part_digests)
    return f"{base64.b64encode(hashlib.sha256(b''.join(parts)).digest()).decode()}-{len(parts)}"


def same_checksum(stored: str | None, candidates: Iterable[str | None]) -> bool:
    """Return True when a stored ChecksumSHA256 equals one of candidates; a composite's `-N`
    part-count suffix is ignored (some servers omit it)."""
    if stored is None:
        return False
    return any(c is not None and c.split("-")[0] == stored.split("-")[0] for c in candidates)


def split_parts(chunks: Iterable[bytes], part_bytes: int) -> Iterator[bytes]:
    """Regroup chunks into parts of exactly part_bytes (the last one shorter), holding at
    most one part plus one chunk in memory."""
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= part_bytes:
            yield bytes(buffer[:part_bytes])
            del buffer[:part_bytes]
    if buffer:
        yield bytes(buffer)


class ResponseBody:
    """A get_object body as a readable file whose failures are orchestrator errors."""

    def __init__(self, body: Any, where: str) -> None:
        self._body = body
        self._where = where

    def read(self, size: int = -1) -> bytes:
        from botocore.exceptions import BotoCoreError, FlexibleChecksumError

        try:
            data: bytes = self._body.read(None if size < 0 else size)
        except FlexibleChecksumError as error:
            raise DigestMismatch(
                self._where, "(stored checksum)", "(bytes read)", str(error)
            ) from error
        except (BotoCoreError, OSError) as error:
            raise InfrastructureError(f"{self._where}: read failed: {error}") from error
        return data

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._body.close()

    def __enter__(self) -> ResponseBody:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class HeadFacts:
    """What a key's HEAD tells: whether it exists, its size and when it was written. Shared by
    the store and the store pinned at given versions, whose `head` differs."""

    def head(self, key: str, version_id: str | None = None) -> dict[str, Any]:
        raise NotImplementedError

    def exists(self, key: str) -> bool:
        try:
            self.head(key)
        except FileNotFoundError:
            return False
        return True

    def size(self, key: str) -> int:
        return int(self.head(key)["ContentLength"])

    def written_at(self, key: str) -> float:
        return float(self.head(key)["LastModified"].timestamp())
