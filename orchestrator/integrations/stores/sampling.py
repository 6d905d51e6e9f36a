"""Deterministic sampled-range re-reads, used to verify a copy at its destination.

Which ranges are read depends only on the object's key, size and SHA-256, so a verification
can be repeated (and audited) byte for byte: the first and the last range always, plus ranges
at slots drawn from `sha256("<sha256>:<key>:<i>")`, i = 0, 1, ….  An object no larger than
`count × length` bytes is re-read whole.
"""

from __future__ import annotations

import hashlib

from orchestrator.integrations.stores.base import Store
from orchestrator.integrations.transfer import DigestMismatch

SAMPLE_BYTES = 1 << 20
SAMPLE_COUNT = 8


def sample_ranges(
    key: str, size: int, sha256: str, *, count: int = SAMPLE_COUNT, length: int = SAMPLE_BYTES
) -> list[tuple[int, int]]:
    """Given an object's key, size and digest, return the (offset, length) ranges to re-read,
    sorted by offset."""
    if size <= 0:
        return []
    if size <= count * length:
        return [(0, size)]
    slots = -(-size // length)
    chosen = {0, slots - 1}
    attempt = 0
    while len(chosen) < count and attempt < count * 16:
        seed = hashlib.sha256(f"{sha256}:{key}:{attempt}".encode()).digest()
        chosen.add(int.from_bytes(seed[:8], "big") % slots)
        attempt += 1
    return [(slot * length, min(length, size - slot * length)) for slot in sorted(chosen)]


def read_range(store: Store, key: str, offset: int, length: int) -> bytes:
    """Return `length` bytes of key from offset: the store's ranged read when it has one,
    else a seek on its streaming handle."""
    ranged = getattr(store, "read_range", None)
    if ranged is not None:
        data: bytes = ranged(key, offset, length)
        return data
    with store.open_read(key) as handle:
        handle.seek(offset)
        pieces = []
        remaining = length
        while remaining:
            piece = handle.read(remaining)
            if not piece:
                break
            pieces.append(piece)
            remaining -= len(piece)
    return b"".join(pieces)


def compare_sampled_ranges(
    source: Store, destination: Store, key: str, size: int, sha256: str
) -> int:
    """Re-read the sampled ranges of key at both stores and compare them; return bytes
    re-read at the destination. Raise DigestMismatch naming the range that differs."""
    checked = 0
    for offset, length in sample_ranges(key, size, sha256):
        expected = hashlib.sha256(read_range(source, key, offset, length)).hexdigest()
        actual_bytes = read_range(destination, key, offset, length)
        actual = hashlib.sha256(actual_bytes).hexdigest()
        if actual != expected or len(actual_bytes) != length:
            raise DigestMismatch(
                f"{destination.name}:{key}",
                expected,
                actual,
                f"sampled range {offset}+{length} re-read at the destination",
            )
        checked += length
    return checked
