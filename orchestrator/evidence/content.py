"""What a package may contain: no secrets, an accountable person, JSON an auditor can read.

Packages carry digests, counts and metadata only (DESIGN §3). Before anything is written, the
report and every JSON attachment are scanned for secrets (evidence/secret_scan.py); one found
refuses the whole package. R1: every package names the accountable person (第一责任人).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from pathlib import PurePath
from typing import Any

from orchestrator.evidence.secret_scan import find_secrets

PACKAGE_KEY = "package"


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
