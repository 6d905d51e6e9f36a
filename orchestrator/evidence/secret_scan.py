"""Finding secrets in what a package would carry (DESIGN §3): the report and every JSON (or JSON
Lines) attachment are scanned for keys that name a secret (password, secret, token,
private_key, access_key, ...); a non-empty value under such a key that is not masked is found,
with where it is."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from orchestrator.secret_names import is_secret_name

# Values that are already masked (ansible's no_log placeholders, "***") are not secrets.
MASKED_VALUES = frozenset({"VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", "NOT_LOGGING_PARAMETER"})


MASK_PATTERN = re.compile(r"^\*+$")


def _is_empty_or_masked(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, str):
        stripped = value.strip()
        return not stripped or stripped in MASKED_VALUES or MASK_PATTERN.match(stripped) is not None
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        return len(value) == 0
    return False


def find_secrets(value: Any, path: str = "") -> list[str]:
    """Given a JSON-like value, return the paths of secret-named keys with non-empty values.

    Paths read like `steps[2].detail.password`. Masked values (`***`, ansible no_log
    placeholders), empty strings, None and booleans do not count.
    """
    return list(_walk_secrets(value, path))


def _walk_secrets(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and is_secret_name(key) and not _is_empty_or_masked(item):
                yield child
            else:
                yield from _walk_secrets(item, child)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _walk_secrets(item, f"{path}[{index}]")


def find_secrets_in_json_file(source: Path, label: str) -> list[str]:
    """Given a .json or .jsonl file, return where secrets are in it, prefixed with `label`.

    Raise ValueError naming the file and line if it is not valid JSON (JSON Lines for .jsonl).
    """
    found: list[str] = []
    if label.endswith(".jsonl"):
        with source.open("rb") as stream:
            for number, line in enumerate(stream, start=1):
                if not line.strip():
                    continue
                document = _load_json(line, f"{source} line {number}")
                found.extend(f"{label} line {number}: {where}" for where in find_secrets(document))
    else:
        document = _load_json(source.read_bytes(), str(source))
        found.extend(f"{label}: {where}" for where in find_secrets(document))
    return found


def _load_json(data: bytes, where: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{where}: expected JSON: {error}") from error
