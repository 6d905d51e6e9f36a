"""One issue of the compliance report's register (问题清单): what an assessment found, its
remediation status (整改状态, bilingual), owner and due date."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class IssueStatus(enum.StrEnum):
    """The remediation status of an issue (整改状态)."""

    RECTIFY_BY_DEADLINE = "rectify_by_deadline"
    LONG_TERM_OBSERVATION = "long_term_observation"
    RECTIFIED = "rectified"

    @property
    def label_zh(self) -> str:
        """Return the Chinese label printed in reports."""
        return _LABELS[self][0]

    @property
    def label_en(self) -> str:
        """Return the English label printed in reports."""
        return _LABELS[self][1]

    @classmethod
    def parse(cls, text: str) -> IssueStatus | None:
        """Given a machine name or the Chinese label, return the status (None if unknown)."""
        for status in cls:
            if text.strip() in (status.value, status.label_zh):
                return status
        return None


_LABELS = {
    IssueStatus.RECTIFY_BY_DEADLINE: ("限期整改", "to be rectified by the due date"),
    IssueStatus.LONG_TERM_OBSERVATION: ("长期观察", "long-term observation"),
    IssueStatus.RECTIFIED: ("已整改", "rectified"),
}
# The statuses as `--status` accepts them, for help and error messages.
STATUS_CHOICES = ", ".join(f"{s.value} ({s.label_zh})" for s in IssueStatus)


@dataclass(frozen=True)
class Issue:
    """One row of the register."""

    id: str
    description: str
    status: IssueStatus
    owner: str
    due_date: str | None
    requirement: str | None
    created_at: float
    updated_at: float
    updated_by: str

    def to_dict(self) -> dict[str, Any]:
        """Return the issue as JSON-able data, with its status labels."""
        return {
            **self.__dict__,
            "status": str(self.status),
            "status_zh": self.status.label_zh,
            "status_en": self.status.label_en,
        }
