"""A runtime opens its store and host connections once per thread: `serve --workers N` runs
actions in threads of one process, and one SFTP session shared by two threads mixes up their
replies (docs/deploy.md, "Concurrency bounds")."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.runtime import Runtime, open_runtime
from orchestrator.site import load_site


def opened_in_thread(runtime: Runtime) -> tuple[Any, Any]:
    found: list[tuple[Any, Any]] = []
    thread = threading.Thread(
        target=lambda: found.append((runtime.store("primary"), runtime.host_files("prod-core-1")))
    )
    thread.start()
    thread.join()
    return found[0]


def test_each_thread_gets_its_own_store_and_host_connection(tmp_path: Path) -> None:
    with open_runtime(load_site(prepare_sandbox(tmp_path / "sb"))) as runtime:
        store, host = runtime.store("primary"), runtime.host_files("prod-core-1")
        assert runtime.store("primary") is store and runtime.host_files("prod-core-1") is host
        other_store, other_host = opened_in_thread(runtime)
        assert other_store is not store and other_host is not host
        closed: list[str] = []
        for thing, name in ((store, "store"), (other_host, "host")):
            thing.close = lambda name=name: closed.append(name)  # type: ignore[method-assign]
    assert sorted(closed) == ["host", "store"]  # closing the runtime closes every thread's
