"""The sweep of what a killed run left removes only directories drctl makes, whatever its
journal row says, on real sshd, PostgreSQL and SeaweedFS S3 (actions/scratch_places.py).

A `host_path` row naming production's data_root (or a path that folds into it) is refused: the
next backup runs, reports the row, and production's files are byte-for-byte the same; a row
naming a spool directory of a dead run is still cleaned. A `database` row naming a live
database whose name happens to look like a scratch one is refused too: nothing dropped.
"""

from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from orchestrator.model import catalog as cat
from orchestrator.model import schema
from orchestrator.model.engines import make_playbook_item
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.fixtures.databases import PostgresServer
from tests.integration.test_drill_real_site import pg_dump_text, run_cli
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


def dead_pid() -> int:
    """Return the pid of a process that has ended."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def journal_orphans(
    config_path: Path, host: str, locations: list[str], kind: str = "host_path", detail: Any = None
) -> None:
    """Journal areas at host whose holder is dead, as a killed run leaves them."""
    with open_runtime(load_site(config_path)) as runtime:
        with runtime.catalog.begin() as connection:
            for location in locations:
                connection.execute(
                    insert(schema.scratch_areas).values(
                        kind=kind,
                        place=host,
                        location=location,
                        detail=detail or {},
                        job="backup:core-banking@production",
                        holder_user="root",
                        holder_host=socket.gethostname(),
                        holder_pid=dead_pid(),
                        holder_start=0,
                        created_at=cat.now(),
                    )
                )


def test_an_orphan_row_naming_live_data_is_refused_and_a_spool_one_cleaned(
    ledger_bed: tuple[Path, str, PostgresServer],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    config_path = ledger_bed[0]
    site = load_site(config_path).config.model.site("production")
    production, spool = Path(site.data_root), Path(site.spool)
    (production / "docs").mkdir(parents=True)
    (production / "docs" / "policy.txt").write_text("the bank's own file\n")
    left = spool / "restore-core-banking"
    (left / "ledger").mkdir(parents=True)
    (left / "ledger" / "dump").write_text("a killed restore's spool\n")
    refused = [str(production), f"{spool}/../data", f"//{production}/docs"]
    journal_orphans(config_path, site.host, [*refused, str(left)])
    before = tree_digest(production)

    code, out, err = run_cli(capsys, "-c", str(config_path), "backup")
    assert code == 0, out + err
    assert tree_digest(production) == before
    assert not left.exists()
    said = caplog.text  # what the sweep reports on stderr
    assert f"cleaned directory {left} on {site.host}" in said
    for location in refused:
        assert f"could not clean directory {location} on {site.host}" in said, said
    assert said.count("refused, nothing removed") == len(refused)
    with open_runtime(load_site(config_path)) as runtime:
        with runtime.catalog.begin() as connection:
            kept = {row.location for row in connection.execute(select(schema.scratch_areas))}
    assert kept == set(refused)  # reported again by every run until an operator looks


@pytest.mark.parametrize("ledger_bed", ["ledger_dr"], indirect=True)  # the bank's name
def test_an_orphan_row_naming_a_live_database_named_like_a_scratch_one_is_refused(
    ledger_bed: tuple[Path, str, PostgresServer],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    config_path, live, pg_prod = ledger_bed
    assert re.fullmatch(r"ledger_dr_[0-9a-f]{8}", live)
    model = load_site(config_path).config.model
    site, dataset = model.site("production"), model.system("core-banking").datasets[0]
    item = {**make_playbook_item(site, dataset, site.spool), "scratch_database": live}
    journal_orphans(config_path, site.host, [live], "database", item)
    before = pg_dump_text(pg_prod, live)

    code, out, err = run_cli(capsys, "-c", str(config_path), "backup")
    assert code == 0, out + err
    assert pg_dump_text(pg_prod, live) == before
    assert f"could not clean scratch database {live} on {site.host}" in caplog.text
    assert "refused, nothing dropped" in caplog.text and "is a live database" in caplog.text
