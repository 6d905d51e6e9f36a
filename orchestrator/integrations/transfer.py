"""Streaming copies, hashed in flight: nothing is held whole in memory or staged on disk."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

from orchestrator.errors import CheckFailed

BLOCK_BYTES = 4 << 20


class DigestMismatch(CheckFailed):
    """What arrived is not what the source hashed; names the file and both digests."""

    def __init__(self, key: str, expected: str, actual: str, detail: str = "") -> None:
        self.key = key
        self.expected = expected
        self.actual = actual
        extra = f" ({detail})" if detail else ""
        super().__init__(f"{key}: digest mismatch: expected {expected}, actual {actual}{extra}")


def new_hash(algorithm: str) -> hashlib._Hash:
    """Return a fresh hash object for a manifest's hash_algorithm (sha256 or sm3)."""
    if algorithm == "sha256":
        return hashlib.sha256()
    return hashlib.new(algorithm)


def read_blocks(handle: BinaryIO, block_bytes: int = BLOCK_BYTES) -> Iterator[bytes]:
    while True:
        block = handle.read(block_bytes)
        if not block:
            return
        yield block


def hashed(
    blocks: Iterator[bytes], algorithm: str, on_block: Callable[[int], None] | None = None
) -> tuple[Iterator[bytes], Callable[[], tuple[int, str]]]:
    """Wrap a block iterator so it is hashed as it flows; the second value returns
    (bytes seen, hex digest) once the blocks are consumed."""
    digest = new_hash(algorithm)
    seen = [0]

    def flow() -> Iterator[bytes]:
        for block in blocks:
            digest.update(block)
            seen[0] += len(block)
            if on_block:
                on_block(len(block))
            yield block

    return flow(), lambda: (seen[0], digest.hexdigest())


class CheckedBlocks:
    """Blocks that are hashed as they flow and checked against the size and SHA-256 they must
    have: the mismatch is raised from the iteration itself, before its consumer sees the end,
    so a store writing them never commits a wrong file. A store given these for the same
    size and digest it is asked to check (`guarantees`) need not hash them again."""

    def __init__(
        self, blocks: Iterable[bytes], key: str, size: int, sha256: str, where: str = "in transit"
    ) -> None:
        self.blocks = blocks
        self.key = key
        self.size = size
        self.sha256 = sha256
        self.where = where  # said in a mismatch: where the bytes were counted
        self.verified = False  # read to the end, and matched

    def guarantees(self, size: int, sha256: str) -> bool:
        """Return True when iterating to the end proves exactly size bytes of digest sha256."""
        return (size, sha256) == (self.size, self.sha256)

    def __iter__(self) -> Iterator[bytes]:
        digest = hashlib.sha256()
        seen = 0
        for block in self.blocks:
            digest.update(block)
            seen += len(block)
            yield block
        if seen != self.size or digest.hexdigest() != self.sha256:
            detail = f"{seen} of {self.size} bytes {self.where}"
            raise DigestMismatch(self.key, self.sha256, digest.hexdigest(), detail)
        self.verified = True


def checked(blocks: Iterable[bytes], key: str, size: int, sha256: str, where: str) -> CheckedBlocks:
    """Return blocks that raise DigestMismatch before their end unless they are size bytes of
    digest sha256: blocks themselves when they already check exactly that (hashed once, in
    transit), else blocks hashed as they flow here. Stores write what this returns, so every
    write is checked and none is hashed twice."""
    if isinstance(blocks, CheckedBlocks) and blocks.guarantees(size, sha256):
        return blocks
    return CheckedBlocks(blocks, key, size, sha256, where)


def digest_stream(handle: BinaryIO, algorithm: str = "sha256") -> tuple[int, str]:
    """Return (size, hex digest) of everything readable from handle."""
    digest = new_hash(algorithm)
    size = 0
    for block in read_blocks(handle):
        digest.update(block)
        size += len(block)
    return size, digest.hexdigest()
