"""How drctl writes a moment in time: one function, one precision policy.

Every instant drctl writes for a machine or an auditor — manifests, report.json, evidence
package metadata, `--json` output, status rows, finding text — is RFC 3339 in UTC with a `Z`,
to the millisecond, with trailing zeros of the fraction dropped (the same convention as Go's
RFC3339Nano, at millisecond precision):

    2026-11-23T02:06:00Z       a whole second has no fraction
    2026-11-23T02:06:00.5Z
    2026-11-23T02:06:00.125Z

Milliseconds are enough for every duration drctl measures (RTO and RPO are rounded to the
millisecond) and never claim a precision the clocks do not have. Dates alone (business dates)
are `YYYY-MM-DD` and are not written here.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


def iso_utc(moment: float | datetime) -> str:
    """Given UTC epoch seconds or a timezone-aware datetime, return it as RFC 3339 UTC text to
    the millisecond (trailing zeros dropped). Raise ValueError for a naive datetime."""
    if isinstance(moment, datetime):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"time {moment.isoformat()} has no time zone")
        when = moment.astimezone(UTC)
    else:
        when = datetime.fromtimestamp(moment, UTC)
    text = when.isoformat(timespec="milliseconds").removesuffix("+00:00")
    seconds, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0")
    return f"{seconds}.{fraction}Z" if fraction else f"{seconds}Z"


def epoch_seconds(text: str) -> float:
    """Given an RFC 3339 time as iso_utc writes it (`…Z`, or with an offset), return UTC epoch
    seconds: iso_utc's inverse. Raise ValueError when the text is not such a time."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def sortable_id(moment: datetime | None = None) -> str:
    """Return an id that sorts by time: the UTC second in ISO 8601 basic format and 6 random
    hex digits (`20261123T020000Z-1a2b3c`); recovery points, checks and drills use it."""
    when = (moment or datetime.now(UTC)).astimezone(UTC)
    return f"{when:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
