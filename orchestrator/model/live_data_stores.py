"""Whether a store's directory is live data: a backup must never write into a site's data.

A `file://` or `sftp://` store whose directory holds a site's `data_root`, or is, holds or lies
in a site's live files or SQLite dataset (`<data_root>/<path>`) would have its backups written
into live data, and a restore of that dataset would replace the store's recovery points. It is
refused when the config is loaded (exit 2, nothing written). Paths are compared as the kernel
reads them (orchestrator/host_paths.py: `..` and `//` folded; for `file://`, links resolved on the
controller) whatever machines they are on: the safe side, since a store and a site on two
machines with overlapping paths is a layout no operator needs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orchestrator.host_paths import inside, overlap
from orchestrator.store_overlap import make_place


def live_data_store_problems(config: Any, store_url: Callable[[str], str]) -> list[str]:
    """Given the config model and a store-URL resolver, return a problem for each file:// or
    sftp:// store whose directory holds a site's data_root, or is, holds or lies in a site's
    live files or SQLite dataset: a backup would write into live data and a restore of that
    dataset would replace the store's recovery points. Paths are compared as on one machine
    (`..` and `//` folded), whatever machines they are on: the safe side."""
    problems = []
    for index, store in enumerate(config.stores):
        url = store_url(store.name)
        if not url.startswith(("file://", "sftp://")):
            continue
        root = make_place(url, store).path
        for site in config.sites:
            live = [
                f"{site.data_root}/{dataset.path}"
                for system in config.systems
                for dataset in system.datasets
                if dataset.path
            ]
            why = [f"data_root {site.data_root}"] if inside(site.data_root, root) else []
            why += [f"live dataset {path}" for path in live if overlap(root, path)]
            problems += [
                f"stores[{index}].url: store {store.name!r} ({url}) is, holds or lies in site "
                f"{site.name!r}'s {what}: its backups would be written into live data; "
                "expected a directory apart from every site's data_root"
                for what in why[:1]
            ]
    return problems
