"""A validity check never restores over, or wipes, another site's live files, on real sites
(sshd, PostgreSQL, SeaweedFS S3).

A check restores files datasets into `<enclave data_root>/<system>/<path>` and its wipe
removes `<enclave data_root>/<system>`. An enclave (the `verification` vault) on the same
machine as a real site, whose data_root is the parent of that site's (`/srv` beside
`/srv/core-banking`), would restore over the site's live files and then remove its whole
data_root. Refused with exit 2 before anything is restored; the live files stay — also when the
enclave's data_root is spelled `//srv` (paths folded as Linux reads them,
orchestrator/host_paths.py)
or is a symbolic link to `/srv` (paths resolved on the enclave's host, SFTP realpath), or shows
`/srv` by a bind mount (placed through the host's mount table, read over SFTP).
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.cli import main
from tests.fixtures.databases import PostgresServer
from tests.fixtures.mounts import bind_mount
from tests.fixtures.real_site import SiteBed, build_config, new_database_name
from tests.integration.test_drill_real_site import operator_corebank, run_cli
from tests.integration.test_real_site import (  # noqa: F401 - fixtures used by name
    db_password,
    passwords,
    pg_sites,
    s3_stores,
    site_beds,
)


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize(
    "spelling",
    # `//srv` is `/srv`; `srv-link` → srv; `srv-bind` shows srv by a bind mount
    ["{parent}", "/{parent}", "{parent}-link", "{parent}-bind"],
)
def test_check_into_an_enclave_above_a_sites_data_root_is_refused(
    tmp_path: Path,
    sshd_host: Any,
    sshd_host_b: Any,
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    spelling: str,
) -> None:
    beds = site_beds(sshd_host, sshd_host_b, pg=pg_sites)
    beds["verification"] = SiteBed(sshd_host, pg_sites[1])  # the vault on production's machine
    corebank = operator_corebank(pg_sites[0], new_database_name("corebank"))
    config_path = build_config(
        tmp_path, beds, stores=s3_stores, databases={"ledger": corebank}, datasets=("ledger",)
    )
    config = yaml.safe_load(config_path.read_text())
    parent = tmp_path / "srv"
    live = parent / "core-banking"  # production's data_root: <enclave data_root>/<system>
    for site in config["sites"]:
        if site["name"] == "production":
            site["data_root"] = str(live)
        if site["name"] == "verification":
            site["data_root"] = spelling.format(parent=parent)
    config["systems"][0]["datasets"].append(
        {"name": "statements", "engine": "files", "category": "customer_data", "path": "stmts"}
    )
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    (live / "stmts").mkdir(parents=True)
    Path(f"{parent}-link").symlink_to(parent)  # a symbolic link on the host, to the parent
    (live / "stmts" / "2026-11.csv").write_text("account,amount\n1,100\n")
    (live / "customers.db").write_bytes(b"production's own file, in no dataset")
    assert main(["-c", str(config_path), "backup"]) == 0
    assert main(["-c", str(config_path), "copy-offsite"]) == 0
    before = tree_digest(live)

    with contextlib.ExitStack() as mounted:
        if spelling.endswith("-bind"):
            mounted.enter_context(bind_mount(parent, Path(f"{parent}-bind")))
        code, out, err = run_cli(capsys, "-c", str(config_path), "verify")

    assert code == 2, out + err
    assert "overlaps site 'production''s data_root" in err, err
    if spelling.endswith("-bind"):
        assert "through a mount on" in err, err
    assert live.is_dir() and tree_digest(live) == before
