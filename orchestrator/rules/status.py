"""Compliance statuses, as in the assessment reports of seed 004.

符合 compliant, 部分符合 partial, 不符合 non_compliant, 不适用 not_applicable.

`unknown` (无法判定) is ours: a rule with no data (no calendar for the year, no probe data, no
record) is unknown, never compliant.
"""

from __future__ import annotations

import enum


class Status(enum.StrEnum):
    """The verdict on one rule for one subject; the value is the stable machine name."""

    COMPLIANT = "compliant"
    PARTIAL = "partial"
    NON_COMPLIANT = "non_compliant"
    NOT_APPLICABLE = "not_applicable"
    UNKNOWN = "unknown"

    @property
    def label_zh(self) -> str:
        """Given a status, return its Chinese label as printed in reports."""
        return _LABELS_ZH[self]

    @property
    def label_en(self) -> str:
        """Given a status, return its English label as printed in reports."""
        return _LABELS_EN[self]


_LABELS_ZH: dict[Status, str] = {
    Status.COMPLIANT: "符合",
    Status.PARTIAL: "部分符合",
    Status.NON_COMPLIANT: "不符合",
    Status.NOT_APPLICABLE: "不适用",
    Status.UNKNOWN: "无法判定",
}

_LABELS_EN: dict[Status, str] = {
    Status.COMPLIANT: "compliant",
    Status.PARTIAL: "partially compliant",
    Status.NON_COMPLIANT: "non-compliant",
    Status.NOT_APPLICABLE: "not applicable",
    Status.UNKNOWN: "cannot be determined",
}
