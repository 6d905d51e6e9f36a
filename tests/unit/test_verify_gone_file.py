"""`verify --all` over a file that is gone since its point's listing: named as a problem of
that file, never raised out of the scan (a raise ended the whole scan as a fault, exit 3)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from orchestrator.actions.verify import _jobs, _Point, judge
from orchestrator.integrations.hashing import hash_jobs
from orchestrator.integrations.stores.file import FileStore
from orchestrator.model.manifest import FileEntry


def test_a_large_file_gone_since_the_listing_is_named_unreadable(tmp_path: Path) -> None:
    store = FileStore("primary", "production", str(tmp_path))
    prefix = "core/ledger/p1"
    (tmp_path / prefix / "data").mkdir(parents=True)
    # Listed with two chunk digests (a file larger than a chunk), and gone before its read.
    entry = FileEntry("dump.sql", 2 * 64 * 1024 * 1024, "0" * 64, ("1" * 64, "2" * 64))
    manifest = cast(Any, SimpleNamespace(hash_algorithm="sha256", files=(entry,)))
    point = _Point(store, f"{prefix}", prefix, manifest)
    jobs = list(_jobs(point, set()))
    assert len(jobs) == 1  # hashed whole: its size could not be read
    (result,) = hash_jobs(jobs, workers=1)
    problem = judge(result)
    assert problem is not None
    assert (problem.file, problem.kind) == ("dump.sql", "unreadable")
