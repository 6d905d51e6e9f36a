"""Reading operator-written YAML input files: errors name the file, the line, and the path
inside it (`systems[0].datasets[1].engine: expected one of …`).

Used for dr.yml, the rule pack, calendar overrides and drill scenarios alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


# pydantic's error types in the words an operator uses: what was expected, then what was found.
EXPECTED = {
    "is_instance_of": "a list",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "dict_type": "a mapping (key: value lines)",
    "model_type": "a mapping (key: value lines)",
    "model_attributes_type": "a mapping (key: value lines)",
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "date_type": "a date (YYYY-MM-DD)",
    "date_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
}
BOUNDS = {
    "greater_than_equal": ("at least", "ge"),
    "greater_than": ("more than", "gt"),
    "less_than_equal": ("at most", "le"),
    "less_than": ("less than", "lt"),
}


def _given(value: Any) -> str:
    """Return how a wrong value reads in an error: `5 (a number)`, `'x' (text)`, …"""
    kinds = {bool: "true/false", int: "a number", float: "a number", str: "text"}
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if value is None:
        return "nothing (an empty value)"
    text = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "…"
    return f"{text} ({kinds.get(type(value), type(value).__name__)})"


def plain_message(item: Mapping[str, Any]) -> str:
    """Given one pydantic error, return it in plain words (never pydantic's own wording)."""
    kind, context = item["type"], item.get("ctx") or {}
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return "unknown key (not allowed here)"
    if kind in ("literal_error", "enum"):
        return (
            "expected "
            + str(context.get("expected", "")).replace("'", "")
            + (f", got {_given(item.get('input'))}")
        )
    if kind in EXPECTED:
        return f"expected {EXPECTED[kind]}, got {_given(item.get('input'))}"
    if kind in BOUNDS:
        words, key = BOUNDS[kind]
        return f"must be {words} {context.get(key)}, got {_given(item.get('input'))}"
    if kind == "string_pattern_mismatch":
        return (
            f"{_given(item.get('input'))} does not have the expected form "
            f"(pattern {context.get('pattern')})"
        )
    if kind in ("too_short", "too_long"):
        limit = context.get("min_length" if kind == "too_short" else "max_length")
        words = "at least" if kind == "too_short" else "at most"
        return f"must have {words} {limit} item(s), got {context.get('actual_length')}"
    return str(item["msg"]).removeprefix("Value error, ")


def format_validation_errors(error: ValidationError) -> list[str]:
    """Given a pydantic ValidationError, return one line per problem with its path."""
    problems = []
    for item in error.errors():
        location = [part for part in item["loc"] if not str(part).startswith("function-")]
        for piece in plain_message(item).split("; "):
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
    except UnicodeDecodeError as error:
        # A binary file, or one saved in GBK: the operator's file, so a usage error (2).
        found = error.object[error.start : error.start + 1]
        raise InputError(
            str(path), [f"byte {error.start}: expected UTF-8 text, got {found!r}"]
        ) from error
    try:
        return yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(parse)"
        raise InputError(str(path), [f"{where}: invalid YAML: {error}"]) from error
