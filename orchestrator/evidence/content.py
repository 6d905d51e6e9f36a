"""What a package may contain: no secrets, an accountable person, JSON an auditor can read.

Packages carry digests, counts and metadata only (DESIGN §3). Before anything is written, the
report and every JSON attachment are scanned for keys that name a secret (password, secret,
token, private_key, access_key, ...); a non-empty, unmasked value under such a key refuses the
whole package. R1: every package names the accountable person (第一责任人).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from pathlib import Path, PurePath
from typing import Any

from orchestrator.secret_names import is_secret_name

# Values that are already masked (ansible's no_log placeholders, "***") are not secrets.
MASKED_VALUES = frozenset({"VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", "NOT_LOGGING_PARAMETER"})
MASK_PATTERN = re.compile(r"^\*+$")
PACKAGE_KEY = "package"


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


def check_report(report: Mapping[str, Any], kind: str) -> None:
    """Given a caller's report and the package kind, return if it may go into a package.

    Raise ValueError if it holds secrets, lacks the accountable person (R1), claims another
    kind, or uses the reserved `package` key.
    """
    secrets_found = find_secrets(report)
    if secrets_found:
        raise ValueError(
            "report: refusing to write evidence holding secrets at "
            f"{', '.join(secrets_found)}; remove these values or mask them as '***'"
        )
    person = report.get("accountable_person")
    if not isinstance(person, str) or not person.strip():
        raise ValueError(
            "report.accountable_person: expected the name of the accountable person "
            "(第一责任人, 260号 §一); a package is not finalised without one"
        )
    if "kind" in report and report["kind"] != kind:
        raise ValueError(f"report.kind: {report['kind']!r} does not match package kind {kind!r}")
    if PACKAGE_KEY in report:
        raise ValueError(f"report.{PACKAGE_KEY}: reserved for the package metadata")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, PurePath | Decimal | Fraction):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    raise TypeError(f"cannot store a {type(value).__name__} in report.json")


def encode_report(report: Mapping[str, Any]) -> bytes:
    """Given a report, return report.json bytes: pretty, sorted keys, UTF-8, not ASCII-escaped.

    Raise ValueError if it holds a value JSON cannot carry (NaN, infinity, unknown objects).
    """
    try:
        text = json.dumps(
            report,
            indent=2,
            sort_keys=True,
            ensure_ascii=False,
            allow_nan=False,
            default=_json_default,
        )
    except (TypeError, ValueError) as error:
        raise ValueError(f"report: cannot be written as JSON: {error}") from error
    return (text + "\n").encode("utf-8")
