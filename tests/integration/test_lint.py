"""The code stays ruff- and mypy-clean, as `make lint` demands, so CI catches drift."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_check_and_format_are_clean() -> None:
    checked = run(
        str(BIN / "ruff"),
        "check",
        "orchestrator",
        "exporters",
        "tests",
        "benchmarks",
        "playbooks/collections",
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    formatted = run(str(BIN / "ruff"), "format", "--check", "orchestrator", "exporters")
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def test_mypy_is_clean() -> None:
    result = run(str(BIN / "mypy"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout
