"""Reading operator-written YAML input files: errors name the file, the line, and the path
inside it (`systems[0].datasets[1].engine: expected one of …`).

Used for dr.yml, the rule pack, calendar overrides and drill scenarios alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from orchestrator.errors import InputError

# libyaml's C loader when present: the rule pack and configs parse several times faster.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def format_location(location: Sequence[str | int]) -> str:
    """Given a pydantic error location, return `systems[0].datasets[1].engine`."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def format_validation_errors(error: ValidationError) -> list[str]:
    """Given a pydantic ValidationError, return one line per problem with its path."""
    problems = []
    for item in error.errors():
        location = [part for part in item["loc"] if not str(part).startswith("function-")]
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "literal_error":
            message = "expected " + message.removeprefix("Input should be ")
        elif item["type"] == "extra_forbidden":
            message = "unknown key (not allowed here)"
        elif item["type"] == "missing":
            message = "required key is missing"
        for piece in message.split("; "):
            problems.append(f"{format_location(location)}: {piece}")
    return problems


def parse_yaml_file(path: Path) -> Any:
    """Read a YAML file, raising InputError with the line of a syntax error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise InputError(str(path), ["file not found"]) from error
    except OSError as error:
        raise InputError(str(path), [f"cannot read: {error.strerror}"]) from error
    try:
        return yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(parse)"
        raise InputError(str(path), [f"{where}: invalid YAML: {error}"]) from error
