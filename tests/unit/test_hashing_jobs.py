"""The hashing engine's edges: file ranges, readers without readinto, short reads, read errors,
the bounded window of jobs in flight, and the progress line, exact to the character."""

from __future__ import annotations

import hashlib
import io
import os
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import BinaryIO

import pytest

from orchestrator.integrations.hashing import (
    BLOCK_BYTES,
    HashJob,
    Progress,
    default_workers,
    hash_jobs,
    new_hash,
)

DATA = bytes(range(256)) * 4099  # not a multiple of any range size below


def file_ranges(path: str, algorithm: str, size: int, chunk_bytes: int) -> list[HashJob]:
    """One job per chunk_bytes range of a local file (the last may be shorter), as a caller
    of hash_jobs builds them."""

    def opener() -> AbstractContextManager[BinaryIO]:
        return open(path, "rb", buffering=0)  # noqa: SIM115 - the job closes it

    return [
        HashJob(opener, algorithm, offset=start, length=min(chunk_bytes, size - start), tag=index)
        for index, start in enumerate(range(0, max(size, 1), chunk_bytes))
    ]


def by_tag(jobs: list[HashJob], workers: int = 2) -> dict[object, tuple[int, str, str | None]]:
    return {r.job.tag: (r.size, r.digest, r.error) for r in hash_jobs(jobs, workers=workers)}


@pytest.mark.parametrize("chunk", [1000, 4096, len(DATA), len(DATA) + 1])
def test_file_ranges_cover_the_file_once_in_order(tmp_path: Path, chunk: int) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(DATA)
    jobs = file_ranges(str(path), "sha256", len(DATA), chunk)
    starts = list(range(0, len(DATA), chunk))
    assert [(job.offset, job.length, job.tag) for job in jobs] == [
        (start, min(chunk, len(DATA) - start), index) for index, start in enumerate(starts)
    ]
    results = by_tag(jobs)
    for index, start in enumerate(starts):
        piece = DATA[start : start + chunk]
        assert results[index] == (len(piece), hashlib.sha256(piece).hexdigest(), None)


def test_an_empty_file_is_one_empty_range(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    (job,) = file_ranges(str(path), "sm3", 0, 1 << 20)
    assert (job.offset, job.length, job.tag, job.algorithm) == (0, 0, 0, "sm3")
    assert by_tag([job]) == {0: (0, new_hash("sm3").hexdigest(), None)}


class ReadOnly(io.RawIOBase):
    """A reader with read() and seek() but no readinto (like some remote file objects),
    that returns at most `most` bytes per call."""

    def __init__(self, data: bytes, most: int) -> None:
        self.inner = io.BytesIO(data)
        self.most = most

    def read(self, size: int = -1) -> bytes:
        return self.inner.read(min(size, self.most) if size >= 0 else self.most)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.inner.seek(offset, whence)

    def __getattribute__(self, name: str) -> object:
        if name == "readinto":
            raise AttributeError(name)
        return super().__getattribute__(name)


class ShortReads(io.BytesIO):
    """readinto() that fills at most `most` bytes per call."""

    def __init__(self, data: bytes, most: int) -> None:
        super().__init__(data)
        self.most = most

    def readinto(self, buffer: object) -> int:
        view = memoryview(buffer)  # type: ignore[arg-type]
        return super().readinto(view[: self.most])


def opening(handle: BinaryIO) -> Callable[[], AbstractContextManager[BinaryIO]]:
    return lambda: nullcontext(handle)


@pytest.mark.parametrize("reader", [ReadOnly, ShortReads])
def test_readers_with_short_reads_are_hashed_whole_and_by_range(reader: type) -> None:
    data = os.urandom(BLOCK_BYTES + 5000)
    whole = HashJob(opening(reader(data, 3000)), "sha256", tag="whole")
    ranged = HashJob(
        opening(reader(data, 3000)), "sha256", offset=7, length=BLOCK_BYTES, tag="range"
    )
    tail = HashJob(opening(reader(data, 3000)), "sha256", offset=BLOCK_BYTES, tag="tail")
    past = HashJob(
        opening(reader(data, 3000)), "sha256", offset=len(data) - 10, length=100, tag="past"
    )
    one = HashJob(opening(reader(data, 3000)), "sha256", offset=5, length=1, tag="one")
    assert by_tag([whole, ranged, tail, past, one]) == {
        "one": (1, hashlib.sha256(data[5:6]).hexdigest(), None),
        "whole": (len(data), hashlib.sha256(data).hexdigest(), None),
        "range": (BLOCK_BYTES, hashlib.sha256(data[7 : 7 + BLOCK_BYTES]).hexdigest(), None),
        "tail": (5000, hashlib.sha256(data[BLOCK_BYTES:]).hexdigest(), None),
        "past": (10, hashlib.sha256(data[-10:]).hexdigest(), None),
    }


def test_progress_counts_every_byte_read_per_block() -> None:
    data = os.urandom(2 * BLOCK_BYTES + 1)
    seen: list[int] = []
    (result,) = hash_jobs([HashJob(opening(io.BytesIO(data)), "sha256")], on_bytes=seen.append)
    assert seen == [BLOCK_BYTES, BLOCK_BYTES, 1]
    assert result.size == len(data)


class FailsAfter(io.BytesIO):
    def __init__(self, data: bytes, good: int) -> None:
        super().__init__(data)
        self.good = good

    def readinto(self, buffer: object) -> int:
        if self.tell() >= self.good:
            raise OSError(5, "Input/output error")
        view = memoryview(buffer)  # type: ignore[arg-type]
        return super().readinto(view[: self.good - self.tell()])


def test_a_read_error_midway_is_a_result_with_what_was_read() -> None:
    (result,) = hash_jobs([HashJob(opening(FailsAfter(b"x" * 100, 40)), "sha256", tag=1)])
    assert result.job.tag == 1
    assert (result.size, result.digest, result.error) == (
        40,
        "",
        "cannot read: Input/output error",
    )


def test_an_error_without_strerror_is_named_by_its_text() -> None:
    def broken() -> AbstractContextManager[BinaryIO]:
        raise OSError("stale file handle")

    (result,) = hash_jobs([HashJob(broken, "sha256")])
    assert result.error == "cannot read: stale file handle"


@pytest.mark.parametrize("workers", [1, 2])
def test_at_most_four_jobs_per_worker_are_in_flight(workers: int) -> None:
    pulled = [0]

    def jobs() -> Iterator[HashJob]:
        for index in range(40):
            pulled[0] += 1
            yield HashJob(opening(io.BytesIO(b"abc")), "sha256", tag=index)

    results = hash_jobs(jobs(), workers=workers)
    first = next(results)
    assert pulled[0] == 4 * workers
    rest = list(results)
    assert sorted(r.job.tag for r in [first, *rest]) == list(range(40))
    assert pulled[0] == 40


def test_no_jobs_no_results() -> None:
    assert list(hash_jobs([])) == []


def test_default_workers_is_every_core_this_process_may_use() -> None:
    assert default_workers() == len(os.sched_getaffinity(0))
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(allowed)})  # this thread only, put back below
    try:
        assert default_workers() == 1
    finally:
        os.sched_setaffinity(0, allowed)
    results = list(hash_jobs(HashJob(opening(io.BytesIO(b"a")), "sha256") for _ in range(9)))
    assert len(results) == 9


def test_default_workers_without_affinity_falls_back_to_the_cpu_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(os, "sched_getaffinity")  # as on macOS or Windows
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert default_workers() == 3
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # "undeterminable"
    assert default_workers() == 1


def progress_at(total: int, done: int, elapsed: float) -> str:
    progress = Progress(total, label="verify --all", enabled=False)
    progress.done = done
    return progress.line(progress.started + elapsed)


def test_progress_line_shows_share_bytes_rate_and_eta() -> None:
    assert progress_at(2_000_000_000, 500_000_000, 0.25) == (
        "verify --all [######..................]   25%  0.50/2.00 GB  2.00 GB/s  ETA 0:00:00"
    )
    assert progress_at(10_000_000_000_000, 1_000_000_000, 1.0) == (
        "verify --all [........................]    0%  1.00/10000.00 GB  1.00 GB/s  ETA 2:46:39"
    )


def test_progress_line_before_anything_was_read_and_with_nothing_to_read() -> None:
    assert progress_at(1000, 0, 5.0) == (
        "verify --all [........................]    0%  0.00/0.00 GB  0.00 GB/s  ETA 0:00:00"
    )
    assert progress_at(0, 0, 1.0) == (
        "verify --all [########################]  100%  0.00/0.00 GB  0.00 GB/s  ETA 0:00:00"
    )
    assert progress_at(100, 150, 1.0).startswith("verify --all [########################]  150%")


def test_progress_draws_at_most_once_per_interval_and_closes_with_a_newline() -> None:
    stream = io.StringIO()
    # The first draw is due once `interval` has passed since the clock's zero; the second is not.
    interval = time.monotonic() / 2
    progress = Progress(4000, label="x", enabled=True, stream=stream, interval=interval)
    progress.advance(1000)
    progress.advance(1000)
    assert progress.done == 2000
    assert stream.getvalue().count("\r") == 1
    assert " 25%" in stream.getvalue()
    progress.close()
    assert stream.getvalue().count("\r") == 2
    assert stream.getvalue().endswith("\n") and " 50%" in stream.getvalue().splitlines()[-1]


def test_a_disabled_progress_writes_nothing_but_still_counts() -> None:
    stream = io.StringIO()
    progress = Progress(10, label="x", enabled=False, stream=stream, interval=0)
    progress.advance(4)
    progress.close()
    assert (stream.getvalue(), progress.done) == ("", 4)
