"""The parallel hashing engine on in-memory streams: digests, ranges, SM3, progress."""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import BinaryIO

import pytest

from orchestrator.integrations.hashing import HashJob, Progress, hash_jobs, new_hash


def opener(data: bytes) -> Callable[[], AbstractContextManager[BinaryIO]]:
    def open_it() -> AbstractContextManager[BinaryIO]:
        return io.BytesIO(data)

    return open_it


def test_whole_streams_and_ranges_hash_like_hashlib() -> None:
    rng = random.Random(5)
    blobs = [rng.randbytes(size) for size in (0, 1, 4095, (1 << 20) + 17, 3 << 20)]
    jobs = [HashJob(opener(blob), "sha256", tag=("whole", i)) for i, blob in enumerate(blobs)]
    big = blobs[-1]
    jobs += [
        HashJob(opener(big), "sha256", offset=start, length=1 << 20, tag=("range", start))
        for start in range(0, len(big), 1 << 20)
    ]
    seen: list[int] = []
    results = {r.job.tag: r for r in hash_jobs(jobs, workers=3, on_bytes=seen.append)}
    for index, blob in enumerate(blobs):
        result = results[("whole", index)]
        assert (result.size, result.digest) == (len(blob), hashlib.sha256(blob).hexdigest())
    for start in range(0, len(big), 1 << 20):
        piece = big[start : start + (1 << 20)]
        assert results[("range", start)].digest == hashlib.sha256(piece).hexdigest()
    assert sum(seen) == sum(map(len, blobs)) + len(big)


def test_sm3_is_available_and_matches_the_standard_vector() -> None:
    # GB/T 32905-2016 example 1: SM3("abc")
    digest = new_hash("sm3")
    digest.update(b"abc")
    assert digest.hexdigest() == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )
    (result,) = hash_jobs([HashJob(opener(b"abc"), "sm3")])
    assert result.digest == digest.hexdigest()


def test_an_unknown_algorithm_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match="'nope'"):
        new_hash("nope")


def test_an_unreadable_source_is_a_result_not_a_crash() -> None:
    def broken() -> AbstractContextManager[BinaryIO]:
        raise FileNotFoundError(2, "No such file or directory")

    (result,) = hash_jobs([HashJob(broken, "sha256")])
    assert result.error and "No such file" in result.error


def test_progress_draws_only_when_enabled() -> None:
    quiet, loud = io.StringIO(), io.StringIO()
    for stream, enabled in ((quiet, False), (loud, True)):
        progress = Progress(
            2_000_000_000, label="verify", enabled=enabled, stream=stream, interval=0
        )
        progress.advance(1_000_000_000)
        progress.close()
    assert quiet.getvalue() == ""
    text = loud.getvalue()
    assert " 50%" in text and "GB/s" in text and "ETA" in text and text.endswith("\n")
