"""drctl starts without loading what the command line does not need (issue 15, start-up).

Each check runs drctl in a fresh interpreter and lists the modules it loaded: `--help`, a
usage error and building the parser load none of the heavy libraries (nor `typing` and
`dataclasses`, which alone cost more than the parser); `calendar` loads no catalog, config or
transfer library, nor importlib.metadata, logging, dataclasses, typing, zoneinfo or json (unless
-v asks for logging); `status` loads no Ansible, store client,
cryptography, report renderer, Alembic or async driver. No timing is asserted:
benchmarks/startup.py measures it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.config import load_config
from orchestrator.model.catalog import Catalog
from orchestrator.model.migrate import upgrade_catalog

# What drctl uses to run commands; none of it is needed to parse a command line.
HEAVY = (
    "alembic",
    "ansible",
    "ansible_runner",
    "boto3",
    "botocore",
    "cryptography",
    "jinja2",
    "mako",
    "paramiko",
    "pydantic",
    "sqlalchemy",
    "weasyprint",
    "yaml",
)
# The standard library's slowest imports; the parser path avoids them on purpose.
SLOW_STDLIB = ("dataclasses", "importlib.metadata", "logging", "typing")
# Loaded by commands that act (run jobs, move data, sign, render), never by `status`.
NOT_FOR_STATUS = tuple(m for m in HEAVY if m not in ("pydantic", "sqlalchemy", "yaml")) + (
    "aiosqlite",
    "asyncpg",
    "sqlalchemy.ext.asyncio",
    "orchestrator.actions.run_due",
    "orchestrator.actions.catalog_rebuild",
    "orchestrator.integrations.ansible",
)


def loaded_by(arguments: list[str], cwd: Path) -> tuple[int, set[str]]:
    """Run drctl's main with arguments in a fresh interpreter; return its exit code and the
    modules it loaded."""
    script = (
        "import sys\n"
        "from orchestrator.cli import main\n"
        f"code = main({arguments!r})\n"
        "print('MODULES', code, *sorted(sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=cwd, check=True
    )
    _, code, *modules = done.stdout.splitlines()[-1].split()
    return int(code), set(modules)


def present(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """Return which of names (packages or modules) were loaded."""
    return sorted(
        name for name in names if any(m == name or m.startswith(name + ".") for m in modules)
    )


@pytest.mark.parametrize(
    ("arguments", "code", "avoided"),
    [
        (["--help"], 0, HEAVY + SLOW_STDLIB),
        (["--version"], 0, HEAVY + SLOW_STDLIB),
        (["drill", "run", "--help"], 0, HEAVY + SLOW_STDLIB),
        (["issue", "add", "--help"], 0, HEAVY),  # its --status help names the statuses
        (["status", "--no-such-option"], 2, HEAVY),  # the error boundary reports it
    ],
)
def test_parsing_loads_nothing_heavy(
    tmp_path: Path, arguments: list[str], code: int, avoided: tuple[str, ...]
) -> None:
    exit_code, modules = loaded_by(arguments, tmp_path)
    assert exit_code == code
    assert present(modules, avoided) == []
    assert present(modules, ("orchestrator.actions", "orchestrator.site")) == []


def test_the_parser_does_not_import_the_command_modules(tmp_path: Path) -> None:
    _, modules = loaded_by(["--help"], tmp_path)
    command_modules = ("judge", "protect", "verify", "drill", "evidence", "service", "workdays")
    assert present(modules, tuple(f"orchestrator.cli.{name}" for name in command_modules)) == []


def test_calendar_loads_no_catalog_config_or_transfer_library(tmp_path: Path) -> None:
    exit_code, modules = loaded_by(
        ["calendar", "working-days", "2026-09-30", "2026-10-09"], tmp_path
    )
    assert exit_code == 0
    assert present(modules, HEAVY) == []
    # The package version it names comes from the METADATA file, not importlib.metadata.
    assert present(modules, ("importlib.metadata",)) == []
    assert "chinese_calendar" in modules  # it did answer from the calendar


@pytest.mark.parametrize(
    "arguments",
    [
        ["calendar", "working-days", "2026-09-30", "2026-10-09"],
        ["calendar", "is-working-day", "2026-10-10"],  # exit 1: a Saturday off
        ["calendar", "working-days", "2026-09-30", "2030-01-01"],  # exit 2: no data for 2027
    ],
)
def test_calendar_loads_no_slow_standard_library(tmp_path: Path, arguments: list[str]) -> None:
    # Nor logging (nothing it logs shows without -v), the dataclasses of its override records,
    # typing, the Asia/Shanghai zone or json for text output: each is a visible share of its
    # start against a bare interpreter (docs/benchmarks.md, start-up).
    _, modules = loaded_by(arguments, tmp_path)
    assert present(modules, (*SLOW_STDLIB, "inspect", "json", "zoneinfo")) == []


def test_calendar_logs_with_verbose_and_loads_logging_then(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from orchestrator.cli import main\n"
        "code = main(['-v', 'calendar', 'working-days', '2026-09-30', '2026-10-09'])\n"
        "print('MODULES', code, 'logging' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    assert done.stdout.splitlines()[-1] == "MODULES 0 True"
    assert "INFO orchestrator.actions.calendar: 2 working day(s) in (2026-09-30, 2026-10-09]" in (
        done.stderr
    )


def test_status_loads_only_what_judging_needs(tmp_path: Path) -> None:
    config = prepare_sandbox(tmp_path / "sandbox")
    upgrade_catalog(Catalog(load_config(config).catalog_url))
    exit_code, modules = loaded_by(["-c", str(config), "status"], tmp_path)
    assert exit_code in (0, 1)  # judged: an empty sandbox has findings
    assert present(modules, NOT_FOR_STATUS) == []
    assert {"sqlalchemy", "sqlite3", "pydantic"} <= modules  # it did read the catalog
    assert "sqlalchemy.dialects.sqlite.pysqlite" in modules  # the synchronous driver
