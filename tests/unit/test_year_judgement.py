"""`drctl status --year YYYY`: a past calendar year judged in full, with what is known now.

A fault from 23:00 on 31 December 2025 to 01:30 on 1 January 2026 (Asia/Shanghai) lasted
2.5 h: a breach of 「连续故障时间小于2小时」 that began in 2025. `status --at 2025-12-31` sees
it open for 59 min 59 s only (nothing after --at counts); `status --year 2025` judges the
whole year with the fault's known end.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from orchestrator.model.catalog import Catalog
from orchestrator.model.migrate import upgrade_catalog
from orchestrator.model.schema import network_observations, network_outages
from orchestrator.rules.timezone import SHANGHAI
from orchestrator.site import load_site
from tests.fixtures.exporter_catalog import sandbox_with_paths


def ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=SHANGHAI).timestamp() * 1000)  # type: ignore[misc]


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config_path = sandbox_with_paths(tmp_path_factory.mktemp("year") / "sb")
    catalog = Catalog(load_site(config_path).config.catalog_url)
    upgrade_catalog(catalog)
    with catalog.begin() as connection:
        for target in ("dc-dr", "egress"):
            connection.execute(
                insert(network_observations).values(
                    target=target,
                    start_ms=ms(2025, 1, 1),
                    last_ms=ms(2026, 1, 5),
                    end_ms=ms(2026, 1, 5),
                    closed_by="stop",
                )
            )
        connection.execute(
            insert(network_outages).values(
                target="dc-dr",
                start_ms=ms(2025, 12, 31, 23),
                end_ms=ms(2026, 1, 1, 1, 30),
                declared_ms=ms(2025, 12, 31, 23, 0, 2),
                closed_by="probe",
                vantages=["local"],
                merged=0,
            )
        )
    catalog.close()
    return config_path


def status(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", "-c", str(config), "status", "--json", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def finding(report: dict[str, Any], rule: str, subject: str) -> dict[str, Any]:
    return next(f for f in report["findings"] if f["rule"] == rule and f["subject"] == subject)


def test_a_past_year_in_full_counts_a_fault_across_new_year(config: Path) -> None:
    result = status(config, "--year", "2025")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["year"] == 2025
    assert report["at"] == "2025-12-31T15:59:59.999Z"  # the last instant, to the ms
    longest = finding(report, "network.max_outage", "dc-dr")
    assert longest["status"] == "non_compliant"
    assert longest["measured"].startswith("longest fault 9000 s in 2025")
    availability = finding(report, "network.availability", "dc-dr")
    assert availability["status"] == "non_compliant"
    assert "faults 3600 s" in availability["measured"]  # only the 2025 part of the fault
    assert "so far" not in availability["measured"]
    assert finding(report, "network.max_outage", "egress")["status"] == "compliant"
    row = next(r for r in report["network"] if r["path"] == "dc-dr")
    assert row["calendar_year"]["downtime_seconds"] == 3600
    assert row["longest_outage_seconds"] == 9000


def test_at_the_last_day_sees_only_what_happened_by_then(config: Path) -> None:
    report = json.loads(status(config, "--at", "2025-12-31").stdout)
    longest = finding(report, "network.max_outage", "dc-dr")
    assert longest["status"] == "compliant"
    assert longest["measured"].startswith("longest fault 3599 s in 2025")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--year", "2999"), "--year 2999: the year is not over"),
        (("--year", "2025", "--at", "2025-12-31"), "--year and --at: give one of them"),
    ],
)
def test_a_year_not_over_or_two_times_exit_2(
    config: Path, args: tuple[str, ...], message: str
) -> None:
    result = status(config, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
