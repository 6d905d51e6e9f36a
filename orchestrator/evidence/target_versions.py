"""The target systems' versions a package records (R161): the database server versions the
engine modules reported (`server_version` in their `dr_result`), read from the package's own
ansible-runner events files."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path


def target_system_versions(events_files: Iterable[Path]) -> list[dict[str, str]]:
    """Given ansible-runner events files, return each (host, module, server_version) reported.

    The engine modules put `server_version` in their `dr_result`; every distinct one seen in
    a successful task is returned once, sorted. Lines that are not JSON objects are skipped
    (the package writer has already refused files that are not JSON Lines).
    """
    found: set[tuple[str, str, str]] = set()
    for path in events_files:
        with path.open("rb") as stream:
            for line in stream:
                found.update(_server_versions(line))
    return [
        {"host": host, "module": module, "server_version": version}
        for host, module, version in sorted(found)
    ]


def _server_versions(line: bytes) -> Iterable[tuple[str, str, str]]:
    try:
        event = json.loads(line)
    except ValueError:
        return
    if not isinstance(event, Mapping) or event.get("event") != "runner_on_ok":
        return
    data = event.get("event_data")
    if not isinstance(data, Mapping):
        return
    result = data.get("res")
    items = result.get("results", [result]) if isinstance(result, Mapping) else []
    module = str(data.get("resolved_action") or data.get("task_action") or "")
    for item in items if isinstance(items, list) else []:
        dr_result = item.get("dr_result") if isinstance(item, Mapping) else None
        version = dr_result.get("server_version") if isinstance(dr_result, Mapping) else None
        if isinstance(version, str) and version:
            yield str(data.get("host", "")), module, version
