"""The shipped systemd units pass `systemd-analyze verify` (syntax, known keys, an executable
ExecStart) and keep the hardening docs/deploy.md promises."""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.model.outage_records import stale_ms
from orchestrator.model.settings import NetworkPath
from orchestrator.resources import resource_path
from tests.fixtures.process import require_binary

UNITS = ("drctl-serve.service", "drctl-run-due.service", "drctl-run-due.timer")
INSTALLED_DRCTL = "/opt/drctl/venv/bin/drctl"


@pytest.fixture
def units(tmp_path: Path) -> Path:
    """The shipped units with ExecStart pointing at this venv's drctl (verify checks that the
    command exists), in a directory of their own."""
    drctl = Path(sys.executable).with_name("drctl")
    for name in UNITS:
        text = (resource_path("systemd") / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(text.replace(INSTALLED_DRCTL, str(drctl)))
    return tmp_path


def analyze(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    binary = require_binary("systemd-analyze")
    return subprocess.run(
        [binary, *args], capture_output=True, text=True, cwd=cwd, timeout=120, check=False
    )


def test_units_pass_systemd_analyze_verify_without_a_warning(units: Path) -> None:
    result = analyze("verify", *UNITS, cwd=units)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # unknown keys are only warnings


def test_verify_catches_a_misspelt_key_and_a_missing_command(units: Path) -> None:
    unit = units / "drctl-serve.service"
    unit.write_text(unit.read_text().replace("ProtectHome=yes", "ProtectHme=yes"))
    assert "Unknown key" in analyze("verify", unit.name, cwd=units).stderr
    unit.write_text(unit.read_text().replace(str(Path(sys.executable).parent), "/nonexistent"))
    assert analyze("verify", unit.name, cwd=units).returncode != 0


@pytest.mark.parametrize("name", ["drctl-serve.service", "drctl-run-due.service"])
def test_services_run_hardened_as_a_dedicated_user(name: str) -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(resource_path("systemd") / name)
    service = parser["Service"]
    assert service["User"] == service["Group"] == "drctl"
    assert service["ProtectSystem"] == "strict"
    assert service["StateDirectory"] == "drctl"  # the one writable place: /var/lib/drctl
    assert service["NoNewPrivileges"] == "yes"
    assert service["CapabilityBoundingSet"] == ""
    assert service["ExecStart"].startswith(f"{INSTALLED_DRCTL} -c /etc/drctl/dr.yml ")


def test_security_exposure_stays_ok(units: Path) -> None:
    result = analyze("security", "--offline=true", "drctl-serve.service", cwd=units)
    if "--offline" in result.stderr and "unrecognized" in result.stderr:
        pytest.skip(f"systemd-analyze too old for --offline: {result.stderr.strip()}")
    line = next(ln for ln in result.stdout.splitlines() if "Overall exposure level" in ln)
    exposure = float(line.split(":")[1].split()[0])
    assert exposure <= 4.0, line


def test_serve_restarts_within_the_ledger_stale_window() -> None:
    """After a crash, drctl serve probes again within 3 intervals + a timeout of its last round
    (one interval, the restart delay, a start-up allowance), so a fault still on goes on."""
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read(resource_path("systemd") / "drctl-serve.service")
    delay = float(parser["Service"]["RestartSec"].removesuffix("s"))
    path = NetworkPath(name="p", kind="tcp", target="127.0.0.1:9")  # the defaults
    startup_allowance = 15.0
    assert path.interval_seconds + delay + startup_allowance < stale_ms(path) / 1000
