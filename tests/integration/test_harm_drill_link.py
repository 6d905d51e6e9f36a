"""A test failover never makes its drill directory inside live data, also when a site's spool
is a symbolic link or a bind mount into it, on real sshd, PostgreSQL and SeaweedFS S3: the
names alone pass (model/drill_targets.py), the host resolves the link and its mount table
places the bind mount (drill_isolated.plan_targets, actions/host_places.py). Refused before
anything is made (the drill aborts, exit 3); production's files are byte-for-byte the same.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
import yaml

from orchestrator.cli import main
from tests.fixtures.databases import PostgresServer
from tests.fixtures.mounts import bind_mount
from tests.integration.test_drill_production_unchanged import scenario_file
from tests.integration.test_drill_real_site import run_cli
from tests.integration.test_harm_spellings import (  # noqa: F401 - fixtures used by name
    ledger_bed,
    tree_digest,
)
from tests.integration.test_real_site import (  # noqa: F401 - fixtures used by name
    db_password,
    passwords,
    pg_sites,
    s3_stores,
)


@pytest.mark.parametrize("how", ["symbolic link", "bind mount"])
def test_a_spool_linked_into_live_data_is_refused_before_anything_is_made(
    tmp_path: Path,
    ledger_bed: tuple[Path, str, PostgresServer],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    how: str,
) -> None:
    config_path = ledger_bed[0]
    data = yaml.safe_load(config_path.read_text())
    data["systems"][0]["datasets"].append(
        {"name": "documents", "engine": "files", "category": "configuration", "path": "docs"}
    )
    sites = {site["name"]: site for site in data["sites"]}
    production = Path(sites["production"]["data_root"]) / "docs"
    for name in ("production", "disaster-recovery"):
        (Path(sites[name]["data_root"]) / "docs").mkdir(parents=True)
        (Path(sites[name]["data_root"]) / "docs" / "policy.txt").write_text(f"{name}'s file\n")
    link = tmp_path / "dr-spool-link"  # the DR site's spool, a link into production's docs
    if how == "symbolic link":
        link.symlink_to(production)
    sites["disaster-recovery"]["spool"] = str(link)
    config_path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    config = str(config_path)
    assert main(["-c", config, "backup"]) == 0
    assert main(["-c", config, "copy-offsite"]) == 0
    before = tree_digest(production)

    scenario = scenario_file(tmp_path, may_change=False)
    with contextlib.ExitStack() as mounted:
        if how == "bind mount":  # the spool shows production's docs: no link to see
            mounted.enter_context(bind_mount(production, link))
        code, out, err = run_cli(capsys, "-c", config, "drill", "run", str(scenario))
    # A step's refusal aborts the drill (exit 3, nothing counted), as the names' check does.
    assert code == 3, out + err
    assert f"which overlaps the live dataset path {production}" in out, out
    assert "refused, nothing made" in out
    assert tree_digest(production) == before
    assert not list(production.glob("drill-*"))
