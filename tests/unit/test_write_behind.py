"""Write-behind in the directory store: pages leave the cache as a file grows, and nothing about
what is durable or visible changes (fsync, then rename; a mismatch still leaves nothing)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from orchestrator.integrations.stores import file as file_store
from orchestrator.integrations.stores import write_behind
from orchestrator.integrations.stores.file import FileStore
from orchestrator.integrations.stores.write_behind import WriteBehind
from orchestrator.integrations.transfer import CheckedBlocks, DigestMismatch

STEP = 1000


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, object]]:
    """Record, in order, every fadvise, fsync and rename the store makes (each still done)."""
    seen: list[tuple[str, object]] = []
    monkeypatch.setattr(write_behind, "STEP_BYTES", STEP)
    advise, fsync, replace = os.posix_fadvise, os.fsync, os.replace

    def record_advise(descriptor: int, offset: int, length: int, advice: int) -> None:
        assert (offset, advice) == (0, os.POSIX_FADV_DONTNEED)
        seen.append(("drop", length))
        advise(descriptor, offset, length, advice)

    def record_fsync(descriptor: int) -> None:
        seen.append(("fsync", os.fstat(descriptor).st_size))
        fsync(descriptor)

    def record_replace(source: str | Path, target: str | Path) -> None:
        seen.append(("rename", Path(target).name))
        replace(source, target)

    monkeypatch.setattr(os, "posix_fadvise", record_advise)
    monkeypatch.setattr(file_store.os, "fsync", record_fsync)
    monkeypatch.setattr(file_store.os, "replace", record_replace)
    return seen


def test_pages_a_step_behind_are_dropped_as_the_file_grows(
    calls: list[tuple[str, object]],
) -> None:
    behind = WriteBehind(0)
    for _ in range(7):
        behind.wrote(600)
    # at 2,400 bytes (two steps past 0): drop up to 1,400; at 3,600: up to 2,600 ...
    assert calls == [("drop", 1400), ("drop", 2600)]


def test_a_store_file_is_whole_durable_and_dropped_before_it_is_renamed(
    tmp_path: Path, calls: list[tuple[str, object]]
) -> None:
    store = FileStore("primary", "production", str(tmp_path))
    data = os.urandom(10 * STEP + 123)
    blocks = [data[start : start + 700] for start in range(0, len(data), 700)]
    digest = hashlib.sha256(data).hexdigest()
    store.write_stream("s/d/p/data/a.db", blocks, size=len(data), sha256=digest)
    assert store.read_bytes("s/d/p/data/a.db") == data
    drops = [length for kind, length in calls if kind == "drop"]
    assert len(drops) >= 4 and drops[:-1] == sorted(drops[:-1]), "behind, as it grew"
    assert max(drops[:-1]) <= len(data) - STEP, "never the last step before the fsync"
    assert calls[-3:] == [("fsync", len(data)), ("drop", 0), ("rename", "a.db")]


def test_a_mismatch_after_pages_were_dropped_still_leaves_nothing(
    tmp_path: Path, calls: list[tuple[str, object]]
) -> None:
    store = FileStore("primary", "production", str(tmp_path))
    data = os.urandom(10 * STEP)
    wrong = bytearray(data)
    wrong[-1] ^= 1  # the last byte changed in transit: seen only at the end
    digest = hashlib.sha256(data).hexdigest()
    blocks = CheckedBlocks([bytes(wrong[:5000]), bytes(wrong[5000:])], "a.db", len(data), digest)
    with pytest.raises(DigestMismatch, match="a.db: digest mismatch"):
        store.write_stream("s/d/p/data/a.db", blocks, size=len(data), sha256=digest)
    assert ("drop", 4000) in calls, "pages were handed to writeback before the end"
    assert not [kind for kind, _ in calls if kind in ("fsync", "rename")]
    assert list((tmp_path / "s/d/p/data").iterdir()) == [], "nothing visible, no temp left"


def test_a_filesystem_that_refuses_the_advice_still_gets_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(descriptor: int, offset: int, length: int, advice: int) -> None:
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(os, "posix_fadvise", refuse)
    monkeypatch.setattr(write_behind, "STEP_BYTES", STEP)
    store = FileStore("primary", "production", str(tmp_path))
    data = os.urandom(5 * STEP)
    store.write_stream(
        "s/d/p/data/a.db", [data], size=len(data), sha256=hashlib.sha256(data).hexdigest()
    )
    assert store.read_bytes("s/d/p/data/a.db") == data
