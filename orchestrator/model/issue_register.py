"""The issue register (问题清单) of the compliance report: each issue an assessment found, its
remediation status (整改状态), owner and due date, kept in the catalog.

The table is `schema.issue_register` (migration 0003); one issue is `model/issue.py`.
Times are UTC epoch seconds; due dates are Asia/Shanghai calendar dates (YYYY-MM-DD).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, insert, select, update

from orchestrator.model.issue import Issue, IssueStatus
from orchestrator.model.schema import issue_register


def _issue(row: Any) -> Issue:
    return Issue(
        row.id,
        row.description,
        IssueStatus(row.status),
        row.owner,
        row.due_date,
        row.requirement,
        row.created_at,
        row.updated_at,
        row.updated_by,
    )


def get_issue(connection: Connection, issue_id: str) -> Issue | None:
    """Return the issue with this id, or None."""
    row = connection.execute(select(issue_register).where(issue_register.c.id == issue_id)).first()
    return _issue(row) if row else None


def list_issues(connection: Connection) -> list[Issue]:
    """Return every issue, in id order."""
    return [
        _issue(row)
        for row in connection.execute(select(issue_register).order_by(issue_register.c.id))
    ]


def next_issue_id(connection: Connection, year: int) -> str:
    """Return the next free id of the form ISSUE-<year>-<nnn>."""
    prefix = f"ISSUE-{year}-"
    taken = {issue.id for issue in list_issues(connection)}
    number = 1
    while f"{prefix}{number:03d}" in taken:
        number += 1
    return f"{prefix}{number:03d}"


def insert_issue(connection: Connection, issue: Issue) -> None:
    """Insert a new issue (the caller checked that its id is free)."""
    connection.execute(insert(issue_register).values(**_row(issue)))


def update_issue(connection: Connection, issue_id: str, values: Mapping[str, Any]) -> None:
    """Update the given columns of an existing issue."""
    connection.execute(
        update(issue_register).where(issue_register.c.id == issue_id).values(**values)
    )


def _row(issue: Issue) -> dict[str, Any]:
    return {**issue.__dict__, "status": str(issue.status)}
