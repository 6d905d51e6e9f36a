"""A catalog put back from an older copy (a database restore) must not judge a point found
corrupt as good in silence. A real sandbox (real ansible-runner, directory stores): two
backups copied off-site, the catalog copied aside, the newer point truncated in both stores
and found by `verify --all`, then the older catalog copy put back."""

from __future__ import annotations

import json
import re
import shutil
import sys
import urllib.request
from pathlib import Path

import pytest

from orchestrator.cli import main
from tests.fixtures.process import free_port, running
from tests.integration.test_bad_points import truncate_in_both_stores, two_days_of_backups
from tests.integration.test_replication_mirroring import promtool_check_metrics


def status(capsys: pytest.CaptureFixture[str], config_path: Path) -> tuple[int, dict, str]:
    capsys.readouterr()
    code = main(["-c", str(config_path), "--json", "status"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def catalog_alerting(config_path: Path, log: Path) -> dict[str, float]:
    """Scrape a real `drctl metrics` of the site once (an exposition `promtool check metrics`
    accepts); return dr_catalog_warning by sign and the sum of dr_recovery_points_bad."""
    address = f"127.0.0.1:{free_port()}"
    argv = [sys.executable, "-m", "orchestrator", "-c", str(config_path)]
    url = f"http://{address}/metrics"

    def exposition() -> str:
        with urllib.request.urlopen(url, timeout=30) as response:
            return str(response.read().decode("utf-8"))

    def ready() -> bool:
        try:
            return "dr_catalog_warning" in exposition()
        except OSError:
            return False

    with running(
        argv + ["metrics", "--listen", address],
        ready=ready,
        log_path=log,
        what="drctl metrics",
        timeout=60,
    ):
        text = exposition()
    promtool_check_metrics(text)
    found = {
        m[0]: float(m[1])
        for m in re.findall(r'^dr_catalog_warning{sign="(\w+)"} (\S+)$', text, re.M)
    }
    bad = re.findall(r"^dr_recovery_points_bad{[^}]*} (\S+)$", text, re.M)
    return found | {"bad_points": sum(float(value) for value in bad)}


def test_a_restored_older_catalog_says_it_lacks_the_bad_mark(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path, _older, newer = two_days_of_backups(tmp_path / "sb")
    catalog = config_path.parent / "state" / "catalog.sqlite"
    shutil.copyfile(catalog, tmp_path / "last-night.sqlite")
    truncate_in_both_stores(config_path, newer)
    assert main(["-c", str(config_path), "verify", "--all"]) == 1
    _code, before, err = status(capsys, config_path)
    assert "WARNING" not in err  # the catalog holds every record its evidence names
    alerting = catalog_alerting(config_path, tmp_path / "metrics-before.log")
    assert alerting == {
        "empty": 0.0,
        "lacks_evidence": 0.0,
        "younger_than_evidence": 0.0,
        "dated_after_now": 0.0,
        "closed_by_hand": 0.0,
        "bad_points": 1.0,
    }

    shutil.copyfile(tmp_path / "last-night.sqlite", catalog)  # the restore
    code, after, err = status(capsys, config_path)
    ledger = next(d for d in after["datasets"] if d["dataset"] == "ledger")
    assert ledger["last_backup_id"] == newer and ledger["bad_recovery_points"] == []
    # Both of the scan's packages: the failure package written before the bad mark, its own.
    assert "lacks what 2 recent evidence package(s) record" in err, err
    assert after["warnings"] and code == 1
    # The alerting feed: the bad point is gone from dr_recovery_points_bad (DRRecoveryPointBad
    # resolves), so the catalog's own sign must be up instead (DRCatalogIncomplete).
    alerting = catalog_alerting(config_path, tmp_path / "metrics-after.log")
    assert alerting["bad_points"] == 0.0
    assert alerting["lacks_evidence"] == 1.0

    # catalog rebuild puts the bad mark back, and the warning goes.
    assert main(["-c", str(config_path), "catalog", "rebuild"]) == 0
    _code, rebuilt, err = status(capsys, config_path)
    assert "WARNING" not in err, err
    ledger = next(d for d in rebuilt["datasets"] if d["dataset"] == "ledger")
    assert ledger["bad_recovery_points"] == [newer]
