"""A catalog holding rows dated after now (a node's clock ahead, a forged row): `drctl status`
judges as of now, counts none of them, and says so on stderr and in --json (exit 1), never
silently; the exporter reports the same sign (actions/catalog_age.py)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sqlalchemy import insert

from orchestrator.actions.catalog_age import AHEAD_TOLERANCE_SECONDS, catalog_signs, dated_after
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.cli.main import main
from orchestrator.model import schema
from orchestrator.runtime import open_runtime
from orchestrator.site import LoadedSite, load_site
from tests.fixtures.catalog_rows import point_row

AT = 1_790_000_000.0


@pytest.fixture
def site(tmp_path: Path) -> LoadedSite:
    site = load_site(prepare_sandbox(tmp_path / "sandbox"))
    with open_runtime(site) as runtime, runtime.catalog.begin() as connection:
        connection.execute(insert(schema.recovery_points), [point_row("p", "ledger", AT - 100)])
    return site


def add_point(site: LoadedSite, point_id: str, finished: float) -> None:
    with open_runtime(site) as runtime, runtime.catalog.begin() as connection:
        connection.execute(
            insert(schema.recovery_points), [point_row(point_id, "ledger", finished)]
        )


def test_rows_up_to_now_and_the_tolerance_are_not_ahead(site: LoadedSite) -> None:
    add_point(site, "edge", AT + AHEAD_TOLERANCE_SECONDS)
    with open_runtime(site, writes=False) as runtime:
        assert dated_after(runtime, AT) is None


def test_a_row_dated_after_now_is_named_with_how_far_ahead(site: LoadedSite) -> None:
    add_point(site, "forged", AT + 3600)
    with open_runtime(site, writes=False) as runtime:
        warning = dated_after(runtime, AT)
    assert warning is not None
    assert "holds rows dated after now" in warning
    assert "recovery_points.finished_at 2026-09-21T15:13:20Z" in warning, warning
    assert "3600 s ahead" in warning


def test_status_warns_of_rows_dated_after_the_wall_clock_on_stderr_and_in_json(
    site: LoadedSite, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(site.config.path)
    assert "dated after now" not in capsys.readouterr().err
    main(["-c", config, "--json", "status"])
    before = capsys.readouterr()
    assert "dated after now" not in before.err
    add_point(site, "ahead", time.time() + 3600)
    code = main(["-c", config, "--json", "status"])
    after = capsys.readouterr()
    assert code == 1
    lines = [line for line in after.err.splitlines() if "holds rows dated after now" in line]
    assert len(lines) == 1 and lines[0].startswith("WARNING: "), after.err
    warnings = json.loads(after.out)["warnings"]
    assert any("holds rows dated after now" in warning for warning in warnings)
    # The point dated ahead is not the last backup status shows: judged as of now.
    ledger = next(d for d in json.loads(after.out)["datasets"] if d["dataset"] == "ledger")
    assert ledger["last_backup_id"] == "p"


def test_the_exporter_sign_is_read_at_each_call(site: LoadedSite) -> None:
    with open_runtime(site, writes=False) as runtime:
        assert catalog_signs(runtime)["dated_after_now"] is None
        add_point(site, "ahead", time.time() + 3600)
        assert catalog_signs(runtime)["dated_after_now"]
