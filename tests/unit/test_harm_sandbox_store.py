"""A sandbox drill's disaster removes its primary store's directory: when a real site's store
is that directory under another spelling (here a symbolic link), `drctl check-config` and
`drctl drill run` refuse it (exit 2) and the real store's files are all still there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orchestrator.actions.sandbox import SCENARIO, prepare_sandbox
from tests.unit.test_cli_exit_contract import edit, refused, tree


def test_a_drill_never_removes_a_real_sites_store_reached_by_a_link(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = prepare_sandbox(tmp_path / "sandbox")
    primary = tmp_path / "sandbox" / "stores" / "primary"
    primary.mkdir(parents=True, exist_ok=True)
    (primary / "kept.bin").write_bytes(b"a real site's backup")
    (tmp_path / "vault").symlink_to(primary)

    def real_vault(data: dict[str, Any]) -> None:
        for site in data["sites"]:
            if site["name"] == "verification":
                site["sandbox"] = False
        data["stores"].append(
            {"name": "vault", "site": "verification", "url": f"file://{tmp_path / 'vault'}"}
        )

    edit(config, real_vault)
    before = tree(primary)
    for argv in (["check-config", "--scenario", str(SCENARIO)], ["drill", "run"]):
        err = refused(capsys, tmp_path, "-c", str(config), *argv)
        assert "destroy_stores: store 'primary'" in err and "store 'vault'" in err, err
        assert "give the sandbox site a store of its own" in err, err
    assert tree(primary) == before
    assert (primary / "kept.bin").read_bytes() == b"a real site's backup"
