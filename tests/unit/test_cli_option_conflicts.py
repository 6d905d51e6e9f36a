"""Options one mode of a command would silently ignore are refused (exit 2) before anything
runs: `verify --all --dry-run` ran the whole integrity scan and wrote its evidence package."""

from __future__ import annotations

import pytest

from orchestrator.cli.main import main


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["verify", "--all", "--dry-run"], "--plan/--dry-run: only the sampled check"),
        (["verify", "--recheck", "--plan"], "--plan/--dry-run: only the sampled check"),
        (["verify", "--all", "--recheck"], "--all and --recheck: give one of them"),
        (["verify", "--all", "--seed", "7"], "--seed: only the sampled check"),
        (["serve", "--once", "--run-due-interval", "nan"], "nan: expected seconds > 0"),
        (["serve", "--once", "--replication-interval", "inf"], "inf: expected seconds > 0"),
        (["serve", "--once", "--heartbeat", "nan"], "expected 0 < heartbeat < stalled-after"),
        (["evidence", "verify", "/nonexistent/package"], "no such file or directory"),
    ],
)
def test_options_a_mode_would_ignore_are_a_usage_error(
    argv: list[str], problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert problem in error and "Traceback" not in error
