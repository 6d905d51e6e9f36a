"""Parallel hashing at the speed of the hardware: files and ranges spread over every core.

hashlib (OpenSSL; SHA-NI where the CPU has it) releases the GIL on large buffers, and so does
`readinto`, so plain threads keep every core busy: while one thread copies a block out of the
page cache, the others hash. Each thread reuses one block buffer; nothing holds a whole file.
Jobs are pulled lazily from an iterator with a bounded window in flight, so memory does not
grow with the data. Small jobs (a size hint under SMALL_BYTES) go to a thread in batches, so
that 20,000 files of 4 KiB cost 20,000 reads and hashes, not 20,000 hand-overs between threads
(issue 15: the hand-over cost more than the hashing). `sm3` works wherever OpenSSL provides
it (`hashlib.new('sm3')`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, BinaryIO, TextIO

logger = logging.getLogger(__name__)

BLOCK_BYTES = 1 << 20
SMALL_BYTES = 256 << 10  # a job this small rides in a batch
BATCH_BYTES = 4 << 20  # a batch ends at this many hinted bytes ...
BATCH_JOBS = 64  # ... or this many jobs
Opener = Callable[[], AbstractContextManager[BinaryIO]]


def new_hash(algorithm: str) -> Any:
    """Given a manifest hash_algorithm (sha256 or sm3), return a fresh hashlib object.
    Raise ValueError if this Python's OpenSSL does not provide it."""
    if algorithm == "sha256":
        return hashlib.sha256()
    try:
        return hashlib.new(algorithm)
    except ValueError as error:
        raise ValueError(
            f"hash algorithm {algorithm!r} is not available in this Python's OpenSSL: {error}"
        ) from error


def default_workers() -> int:
    """Return the number of cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class HashJob:
    """Hash `length` bytes (None: to the end) of what `opener` opens, from `offset`.
    `size_hint` (the bytes expected) only groups small jobs into batches; the result reports
    what was read, whatever the hint said."""

    opener: Opener
    algorithm: str
    offset: int = 0
    length: int | None = None
    tag: Any = None
    size_hint: int | None = None


@dataclass(frozen=True)
class HashResult:
    job: HashJob
    size: int
    digest: str
    error: str | None = None


class _Buffers(threading.local):
    def __init__(self) -> None:
        self.block = bytearray(BLOCK_BYTES)


def _run_job(job: HashJob, buffers: _Buffers, on_bytes: Callable[[int], None] | None) -> HashResult:
    digest = new_hash(job.algorithm)
    view = memoryview(buffers.block)
    size = 0
    remaining = job.length
    try:
        with job.opener() as handle:
            if job.offset:
                handle.seek(job.offset)
            readinto = getattr(handle, "readinto", None)
            while remaining is None or remaining > 0:
                want = BLOCK_BYTES if remaining is None else min(BLOCK_BYTES, remaining)
                if readinto is not None:
                    count = readinto(view[:want])
                    if not count:
                        break
                    digest.update(view[:count])
                else:
                    data = handle.read(want)
                    count = len(data)
                    if not count:
                        break
                    digest.update(data)
                size += count
                if remaining is not None:
                    remaining -= count
                if on_bytes:
                    on_bytes(count)
    except OSError as error:
        return HashResult(job, size, "", f"cannot read: {error.strerror or error}")
    return HashResult(job, size, digest.hexdigest())


def _run_batch(
    batch: list[HashJob], buffers: _Buffers, on_bytes: Callable[[int], None] | None
) -> list[HashResult]:
    return [_run_job(job, buffers, on_bytes) for job in batch]


def _batches(jobs: Iterable[HashJob]) -> Iterator[list[HashJob]]:
    """Yield the jobs in order: runs of small ones together (up to BATCH_JOBS jobs or
    BATCH_BYTES hinted bytes), every other job alone."""
    batch: list[HashJob] = []
    hinted = 0
    for job in jobs:
        expected = job.length if job.length is not None else job.size_hint
        if expected is None or expected > SMALL_BYTES:
            if batch:
                yield batch
                batch, hinted = [], 0
            yield [job]
            continue
        batch.append(job)
        hinted += expected
        if len(batch) >= BATCH_JOBS or hinted >= BATCH_BYTES:
            yield batch
            batch, hinted = [], 0
    if batch:
        yield batch


def hash_jobs(
    jobs: Iterable[HashJob],
    *,
    workers: int | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[HashResult]:
    """Hash every job on `workers` threads (default: every core); yield results as they
    finish (not in job order). At most 4 × workers batches are in flight at once."""
    count = workers or default_workers()
    buffers = _Buffers()
    pending: set[Future[list[HashResult]]] = set()
    source = _batches(jobs)
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="hash") as pool:
        exhausted = False
        while True:
            while not exhausted and len(pending) < count * 4:
                batch = next(source, None)
                if batch is None:
                    exhausted = True
                    break
                pending.add(pool.submit(_run_batch, batch, buffers, on_bytes))
            if not pending:
                return
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield from future.result()


class Progress:
    """A one-line progress bar on a terminal (bytes, rate, ETA); silent when disabled."""

    def __init__(
        self,
        total: int,
        *,
        label: str,
        enabled: bool,
        stream: TextIO | None = None,
        interval: float = 0.2,
    ) -> None:
        self.total = total
        self.label = label
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.interval = interval
        self.done = 0
        self.started = time.monotonic()
        self._shown = 0.0
        self._lock = threading.Lock()

    def grow(self, count: int) -> None:
        """Add count bytes to the total (work found while it is being done)."""
        with self._lock:
            self.total += count

    def advance(self, count: int) -> None:
        with self._lock:
            self.done += count
            moment = time.monotonic()
            if self.enabled and moment - self._shown >= self.interval:
                self._shown = moment
                self.stream.write("\r" + self.line(moment))
                self.stream.flush()

    def line(self, moment: float) -> str:
        """Return the bar text: `label [####....]  45%  1.2/2.7 GB  1.85 GB/s  ETA 0:00:01`."""
        elapsed = max(moment - self.started, 1e-9)
        rate = self.done / elapsed
        share = self.done / self.total if self.total else 1.0
        filled = int(min(share, 1.0) * 24)
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        minutes, seconds = divmod(int(max(eta, 0)), 60)
        hours, minutes = divmod(minutes, 60)
        return (
            f"{self.label} [{'#' * filled}{'.' * (24 - filled)}] {share * 100:4.0f}%  "
            f"{self.done / 1e9:.2f}/{self.total / 1e9:.2f} GB  {rate / 1e9:.2f} GB/s  "
            f"ETA {hours}:{minutes:02d}:{seconds:02d}"
        )

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + self.line(time.monotonic()) + "\n")
            self.stream.flush()
