"""A chain check while a package is being written sees the chain before or after, never between.

Seen: `evidence verify --chain` run while `verify --all` wrote its package (directory, then
chain line, then anchor, under the writers' lock) reported "a package … that chain.jsonl does not
list" or "the package was removed from the end of the chain" — exit 1, a false tamper alarm —
and `ok` a moment later. The check now reads the chain, the package names and the anchors under
the lock shared (evidence/chain_lock.py). Here a real writer is held between its package
directory and its chain line, and the check must wait and then find the chain whole.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from orchestrator.actions.evidence_setup import open_anchor, pinned_trust, write_site_package
from orchestrator.config import load_config
from orchestrator.evidence import package as package_module
from orchestrator.evidence.chain_check import ChainCheck, check_chain
from tests.integration.test_evidence_chain import report, write

GRACE_SECONDS = 1.0  # how long a check that does not wait for the writer needs to finish


def test_a_chain_check_waits_for_a_writer_between_its_package_and_its_chain_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestrator.actions.sandbox import prepare_sandbox

    site = prepare_sandbox(tmp_path / "sb")
    write(site, 2)
    config = load_config(site)
    between, go = threading.Event(), threading.Event()
    append = package_module.append_chain_entry

    def held_before_the_line(chain: Path, entry: Any) -> None:
        between.set()  # the package directory and its tarball are written; the line is not
        assert go.wait(60)
        append(chain, entry)

    monkeypatch.setattr(package_module, "append_chain_entry", held_before_the_line)
    writer = threading.Thread(target=write_site_package, args=(config, "drill", report(), {}))
    writer.start()
    assert between.wait(60)
    checked: list[ChainCheck] = []
    checker = threading.Thread(
        target=lambda: checked.append(
            check_chain(config.evidence_dir, pinned_trust(config), open_anchor(config))
        )
    )
    checker.start()
    checker.join(GRACE_SECONDS)
    try:
        assert checker.is_alive() and not checked  # it waits for the writer
    finally:
        go.set()
        writer.join(60)
        checker.join(60)
    (result,) = checked
    assert result.problems == [] and result.not_checked == []
    assert result.packages == result.anchors == 3
