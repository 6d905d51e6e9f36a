"""A `files` backup killed with SIGKILL while its one-pass stream is writing into a directory
store (files hashed in transit, checked by the stream itself, several at once): the store keeps
only temp files, nothing counts, and the next backup cleans them, takes over the lease and
stores the source's bytes under the source's digests."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sqlalchemy import select

from orchestrator.model import schema
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.integration.test_crash_safety import drctl, finish, kill_hard, wait_for

SIZE = 192 << 20  # long enough a stream for the kill to land inside it


def partials(store: Path) -> list[Path]:
    return sorted(path for path in store.rglob(".*.partial-*") if path.is_file())


def jobs(config: Path) -> list[tuple[str, int | None]]:
    with open_runtime(load_site(config)) as runtime, runtime.catalog.begin() as connection:
        query = select(schema.jobs).where(schema.jobs.c.kind == "backup")
        rows = connection.execute(query.order_by(schema.jobs.c.id)).all()
    return [(row.state, row.holder_pid) for row in rows]


def points(config: Path) -> list[str]:
    with open_runtime(load_site(config)) as runtime, runtime.catalog.begin() as connection:
        rows = connection.execute(select(schema.recovery_points.c.status)).all()
    return [row.status for row in rows]


def test_a_backup_killed_mid_stream_counts_nothing_and_the_next_one_stores_the_source(
    tmp_path: Path,
) -> None:
    from benchmarks.backup_throughput import SYSTEM, generate, write_config

    data = tmp_path / "source" / "data"
    generate(SIZE, data)
    config = write_config(tmp_path / "site", data)
    store = tmp_path / "site" / "store"
    store.mkdir()
    (tmp_path / "site" / "offsite").mkdir()  # the site's second store, empty

    first = drctl(config, "backup", "--system", SYSTEM)
    wait_for("a file being written into the store", lambda: bool(partials(store)), first)
    kill_hard(first)
    assert partials(store), "the kill landed after the stream (make SIZE larger)"
    [killed] = [path.name for path in store.glob("*/*/*") if path.is_dir()]
    assert not list(store.rglob("manifest.json")), "nothing of the killed backup counts"
    assert points(config) == []

    code, out, err = finish(drctl(config, "--json", "backup", "--system", SYSTEM))
    assert code == 0, out + err
    assert f"pid {first.pid}" in err and "took over the lease" in err
    assert partials(store) == []
    assert [state for state, _pid in jobs(config)] == ["aborted", "succeeded"]
    assert jobs(config)[0][1] == first.pid
    assert points(config) == ["complete"]
    [manifest_path] = store.glob("*/*/*/manifest.json")
    manifest = json.loads(manifest_path.read_text())
    sources = sorted(path for path in data.rglob("*") if path.is_file())
    assert [entry["path"] for entry in manifest["files"]] == [
        path.relative_to(data).as_posix() for path in sources
    ]
    for entry, source in zip(manifest["files"], sources, strict=True):
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        stored = manifest_path.parent / "data" / entry["path"]
        assert entry["digest"] == digest == hashlib.sha256(stored.read_bytes()).hexdigest()

    # The files the killed stream had finished stay, without a manifest: never counted.
    code, out, err = finish(drctl(config, "verify", "--all"))
    assert code == 0, out + err
    assert f"incomplete (no manifest, ignored): primary: {SYSTEM}/tree/{killed}" in out + err
