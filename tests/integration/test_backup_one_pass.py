"""Backup's one pass on the host, through Ansible as a backup runs it: the `files` dump hashes
what it copies, and dr_artifacts takes those entries instead of reading the copy again, only
when they describe exactly the files there."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.ansible_cli import run_module


def digests(root: Path) -> list[dict[str, Any]]:
    return [
        {
            "path": path.relative_to(root).as_posix(),
            "size": path.stat().st_size,
            "digest": hashlib.sha256(path.read_bytes()).hexdigest(),
        }
        for path in sorted(root.rglob("*"))
        if path.is_file()
    ]


@pytest.fixture
def dumped(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """A tree dumped into a spool by dr_files; return the spool's data directory and the
    dump's dr_result."""
    live = tmp_path / "live"
    for index in range(6):
        (live / f"d{index % 2}").mkdir(parents=True, exist_ok=True)
        (live / f"d{index % 2}" / f"f{index}.bin").write_bytes(os.urandom(3000 + index))
    spool = tmp_path / "spool" / "data"
    args = {"action": "dump", "dataset": "tree", "src": str(live), "dest": str(spool)}
    done = run_module("dr_files", args, check=False)
    assert not done.get("failed"), done
    return spool, done["dr_result"]


def artifacts(spool: Path, known: dict[str, Any] | None, dataset: str = "tree") -> list[Any]:
    args: dict[str, Any] = {"dataset": dataset, "path": str(spool)}
    if known is not None:
        args["known"] = known
    result = run_module("dr_artifacts", args, check=False)
    assert not result.get("failed"), result
    return list(result["dr_result"]["files"])


def test_the_dump_returns_the_digests_of_what_it_wrote(dumped: tuple[Path, dict[str, Any]]) -> None:
    spool, dump = dumped
    assert dump["files"] == digests(spool)
    assert dump["chunk_bytes"] == 64 << 20
    again = run_module(
        "dr_files", {"action": "fingerprint", "dataset": "t", "path": str(spool)}, check=False
    )
    assert dump["fingerprint"] == again["dr_result"]["fingerprint"]
    assert artifacts(spool, None) == dump["files"], "the same entries as hashing the copy"


def test_artifacts_take_the_dumps_entries_without_reading_the_files(
    dumped: tuple[Path, dict[str, Any]],
) -> None:
    """Entries with the right names and sizes are taken as they are (a forged digest goes
    through here, which is why the controller compares every digest with the bytes it
    streams); everything else makes the module hash the files itself."""
    spool, dump = dumped
    forged = {**dump, "files": [{**e, "digest": "0" * 64} for e in dump["files"]]}
    assert artifacts(spool, forged) == forged["files"]
    real = digests(spool)
    assert artifacts(spool, forged, dataset="other") == real, "another dataset's dump"
    assert artifacts(spool, {**forged, "chunk_bytes": 1 << 20}) == real, "other chunks"
    other_algorithm = {**forged, "fingerprint": {**dump["fingerprint"], "algorithm": "sm3"}}
    assert artifacts(spool, other_algorithm) == real, "another algorithm"
    (spool / "d0" / "f0.bin").write_bytes(b"grew after the dump" * 500)
    assert artifacts(spool, forged) == digests(spool), "a size that changed"
    (spool / "d0" / "f0.bin").unlink()
    (spool / "late.bin").write_bytes(b"x")
    assert artifacts(spool, forged) == digests(spool), "files that changed"


def test_a_backup_hands_the_dumps_entries_over_and_stores_the_sources_digests(
    tmp_path: Path,
) -> None:
    """`drctl backup` of a `files` dataset over the local connection: one dr_datasets run
    hands the dump's own entries to the artifacts step (so the copy is read once on the
    host), and the
    recovery point holds exactly the source's bytes under the source's digests."""
    from benchmarks.backup_throughput import SYSTEM, generate, write_config

    data = tmp_path / "source" / "data"
    generate(3 << 20, data)
    config = write_config(tmp_path / "site", data)
    (tmp_path / "site" / "store").mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "orchestrator", "-c", str(config), "--json", "backup"]
        + ["--system", SYSTEM],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [manifest_path] = (tmp_path / "site" / "store").glob("*/*/*/manifest.json")
    manifest = json.loads(manifest_path.read_text())
    assert [(f["path"], f["size"], f["digest"]) for f in manifest["files"]] == [
        (e["path"], e["size"], e["digest"]) for e in digests(data)
    ]
    for entry in digests(data):
        stored = manifest_path.parent / "data" / entry["path"]
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == entry["digest"]
    [events] = (tmp_path / "site" / "state" / "work" / "events").glob("backup-*.jsonl")
    done = [
        event["event_data"]
        for event in map(json.loads, events.read_text().splitlines())
        if event.get("event") == "runner_on_ok"
    ]
    # One dr_datasets run dumps and hashes; no dr_artifacts task reads the copy again.
    actions = [data.get("task_action", "").rsplit(".", 1)[-1] for data in done]
    assert "dr_artifacts" not in actions and actions.count("dr_datasets") == 1, actions
    [batch] = [data["res"] for data in done if data["task_action"].endswith("dr_datasets")]
    wipe, dump, artifacts = (item["dr_result"] for item in batch["results"])
    assert [r["name"] for r in (wipe, dump, artifacts)] == [
        "wipe:spool",
        "dump:tree",
        "artifacts:tree",
    ]
    assert artifacts["files"] == dump["files"]
