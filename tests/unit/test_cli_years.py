"""--year takes only the years the catalog can judge: anything else is a usage error (exit 2)
from the command line, never an internal error from the date arithmetic behind it."""

from __future__ import annotations

import pytest

from orchestrator.cli.main import main


@pytest.mark.parametrize("command", ["status", "report"])
@pytest.mark.parametrize("year", ["0", "-5", "1969", "9999", "99999", "abc"])
def test_year_outside_what_the_catalog_holds_is_a_usage_error(
    command: str, year: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "--year", year]) == 2
    error = capsys.readouterr().err
    assert "--year" in error and "Traceback" not in error and "internal error" not in error
