"""Gaps in integrations/hashing.py that mutation testing found (issue 16).

- `hash_jobs(workers=n)` must keep to n threads: an operator who limits hashing to one core
  (`--workers 1`, a shared host) must not get a pool sized by the machine. Its threads are
  named `hash_…`, which is what a log line with `%(threadName)s` shows.
- Results are yielded as each job finishes, not when every job in flight has finished: one
  slow file must not hold back the progress of the others.
- The progress bar redraws over its own line (`\\r`), five times a second by default, and its
  figures stay exact at petabyte scale; a slow transfer (under 1 B/s) still shows an ETA.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import BinaryIO

from orchestrator.integrations.hashing import HashJob, Progress, hash_jobs


def recording(names: set[str], data: bytes) -> Callable[[], AbstractContextManager[BinaryIO]]:
    @contextmanager
    def opener() -> Iterator[BinaryIO]:
        names.add(threading.current_thread().name)
        yield io.BytesIO(data)

    return opener


def test_one_worker_hashes_everything_on_one_named_thread() -> None:
    names: set[str] = set()
    jobs = [HashJob(recording(names, bytes(4 << 20)), "sha256", tag=n) for n in range(12)]
    results = list(hash_jobs(jobs, workers=1))
    assert sorted(result.job.tag for result in results) == list(range(12))
    assert len(names) == 1
    assert next(iter(names)).startswith("hash_")


def test_two_workers_use_at_most_two_named_threads() -> None:
    names: set[str] = set()
    jobs = [HashJob(recording(names, bytes(4 << 20)), "sha256", tag=n) for n in range(12)]
    assert len(list(hash_jobs(jobs, workers=2))) == 12
    assert 1 <= len(names) <= 2
    assert all(name.startswith("hash_") for name in names)


def test_a_finished_job_is_yielded_while_another_is_still_running() -> None:
    released = threading.Event()

    @contextmanager
    def slow() -> Iterator[BinaryIO]:
        # Waits for the consumer to have received the fast job's result; the timeout only
        # bounds a broken implementation that holds results back until all are done.
        if not released.wait(timeout=20):
            raise OSError("the fast result was never handed out")
        yield io.BytesIO(b"slow")

    @contextmanager
    def fast() -> Iterator[BinaryIO]:
        yield io.BytesIO(b"fast")

    jobs = [HashJob(slow, "sha256", tag="slow"), HashJob(fast, "sha256", tag="fast")]
    results = hash_jobs(jobs, workers=2)
    first = next(results)
    assert first.job.tag == "fast"
    released.set()
    second = next(results)
    assert (second.job.tag, second.error, second.size) == ("slow", None, 4)
    assert list(results) == []


def test_the_bar_redraws_over_its_own_line_and_closes_with_a_newline() -> None:
    stream = io.StringIO()
    progress = Progress(100, label="verify", enabled=True, stream=stream, interval=0)
    progress.advance(40)
    assert stream.getvalue().startswith("\rverify [")
    progress.close()
    drawn = stream.getvalue().split("\r")
    assert drawn[0] == "" and len(drawn) == 3
    assert drawn[2].startswith("verify [") and drawn[2].endswith("\n")
    assert drawn[2].count("\n") == 1


def test_the_bar_redraws_five_times_a_second_by_default() -> None:
    assert Progress(1, label="x", enabled=True).interval == 0.2


def test_petabyte_figures_are_exact() -> None:
    progress = Progress(4 * 10**17, label="all", enabled=False)
    progress.done = 10**17
    assert progress.line(progress.started + 1.0) == (
        "all [######..................]   25%  100000000.00/400000000.00 GB  "
        "100000000.00 GB/s  ETA 0:00:03"
    )


def test_a_transfer_slower_than_one_byte_a_second_still_shows_its_eta() -> None:
    progress = Progress(100, label="slow", enabled=False)
    progress.done = 1
    assert progress.line(progress.started + 10.0).endswith("0.00 GB/s  ETA 0:16:30")
