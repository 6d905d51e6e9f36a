"""Small hash jobs travel to the threads in batches (issue 15: 20,000 files of 4 KiB), and a
batch changes nothing of what each job reports: its own digest, size or read error, whatever
its size hint said."""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import BinaryIO

from orchestrator.integrations.hashing import (
    BATCH_BYTES,
    BATCH_JOBS,
    SMALL_BYTES,
    HashJob,
    Progress,
    _batches,
    hash_jobs,
)


def opener(data: bytes) -> Callable[[], AbstractContextManager[BinaryIO]]:
    def open_it() -> AbstractContextManager[BinaryIO]:
        return io.BytesIO(data)

    return open_it


def test_small_jobs_are_grouped_and_large_or_unhinted_ones_go_alone() -> None:
    small = [HashJob(opener(b"x"), "sha256", tag=i, size_hint=1) for i in range(BATCH_JOBS + 3)]
    large = HashJob(opener(b""), "sha256", tag="large", size_hint=SMALL_BYTES + 1)
    unhinted = HashJob(opener(b""), "sha256", tag="unhinted")
    ranged = HashJob(opener(b""), "sha256", tag="range", length=10)
    groups = [
        [job.tag for job in batch]
        for batch in _batches([*small[:2], large, *small[2:], unhinted, ranged])
    ]
    assert groups == [
        [0, 1],
        ["large"],
        list(range(2, BATCH_JOBS + 2)),
        [BATCH_JOBS + 2],
        ["unhinted"],
        ["range"],
    ]


def test_every_job_of_a_batch_reports_its_own_digest_size_and_error() -> None:
    def broken() -> AbstractContextManager[BinaryIO]:
        raise PermissionError(13, "Permission denied")

    blobs = [bytes([i]) * (i * 7) for i in range(200)]
    # Hints that lie (0 for every file) only group the jobs; sizes come from the reads.
    jobs = [HashJob(opener(b), "sha256", tag=i, size_hint=0) for i, b in enumerate(blobs)]
    jobs.insert(50, HashJob(broken, "sha256", tag="broken", size_hint=0))
    threads: set[str] = set()
    seen: list[int] = []

    def count(size: int) -> None:
        threads.add(threading.current_thread().name)
        seen.append(size)

    results = {r.job.tag: r for r in hash_jobs(jobs, workers=3, on_bytes=count)}
    assert len(results) == len(jobs)
    for index, blob in enumerate(blobs):
        result = results[index]
        assert (result.size, result.digest, result.error) == (
            len(blob),
            hashlib.sha256(blob).hexdigest(),
            None,
        )
    assert results["broken"].error == "cannot read: Permission denied"
    assert sum(seen) == sum(map(len, blobs))
    assert all(name.startswith("hash") for name in threads)  # hashed on the pool's threads


def test_a_batch_ends_exactly_at_its_byte_bound_counted_from_every_reset() -> None:
    """A job of exactly SMALL_BYTES still rides in a batch; hinted bytes add up from 0 after a
    large job and after a full batch, and a batch ends when they reach BATCH_BYTES, not before."""
    quarter = SMALL_BYTES  # 16 of these are BATCH_BYTES
    short = BATCH_BYTES - 15 * quarter - 1  # 15 quarters and this are one byte short

    def run(prefix: str) -> list[HashJob]:
        sizes = [quarter] * 15 + [short, 1]
        return [
            HashJob(opener(b""), "sha256", tag=f"{prefix}{i}", size_hint=size)
            for i, size in enumerate(sizes)
        ]

    large = HashJob(opener(b""), "sha256", tag="large", size_hint=SMALL_BYTES + 1)
    first, second, third = run("a"), run("b"), run("c")
    lone = HashJob(opener(b""), "sha256", tag="lone", size_hint=1)
    jobs = [*first, lone, large, *second, *third]
    groups = [[job.tag for job in batch] for batch in _batches(jobs)]
    assert groups == [
        [job.tag for job in first],  # 17 jobs: the 17th brings it to BATCH_BYTES exactly
        ["lone"],  # ended by the large job
        ["large"],
        [job.tag for job in second],
        [job.tag for job in third],
    ]


def test_a_job_with_a_length_is_grouped_by_its_length_not_its_hint() -> None:
    ranged = [HashJob(opener(b""), "sha256", tag=i, length=1024) for i in range(3)]
    assert [[job.tag for job in batch] for batch in _batches(ranged)] == [[0, 1, 2]]


def test_progress_total_grows_as_work_is_found() -> None:
    """verify --all reads manifests while it hashes: each one adds its bytes to the bar's total."""
    progress = Progress(10, label="verify --all", enabled=False)
    progress.grow(5)
    progress.grow(7)
    progress.advance(11)
    assert progress.total == 22
    assert " 50%" in progress.line(progress.started + 1)
