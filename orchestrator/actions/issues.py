"""`drctl issue add|update|list`: the issue register the compliance report carries.

Every value is checked before anything is written, and every problem is reported at once
(exit 2): an unknown status, a due date that is not a date, 限期整改 without a due date, an
unknown requirement id, an id given twice or an update of an id that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from orchestrator.errors import InputError
from orchestrator.evidence.provenance import operator_identity
from orchestrator.model import issue_register as register
from orchestrator.model.catalog import Catalog, now
from orchestrator.model.issue import STATUS_CHOICES, Issue, IssueStatus
from orchestrator.rules.rule import RulePack


@dataclass(frozen=True)
class IssueChange:
    """What `issue add` or `issue update` was given (None: not given)."""

    description: str | None = None
    status: str | None = None
    owner: str | None = None
    due_date: str | None = None
    requirement: str | None = None


def _who() -> str:
    identity = operator_identity()
    return f"{identity['user']}@{identity['host']}"


def _check(
    change: IssueChange, merged: Mapping[str, Any], known_subjects: frozenset[str]
) -> list[str]:
    problems = []
    if change.status is not None and IssueStatus.parse(change.status) is None:
        problems.append(f"--status: {change.status!r}: expected one of {STATUS_CHOICES}")
    if change.due_date:
        try:
            date.fromisoformat(change.due_date)
        except ValueError:
            problems.append(f"--due: {change.due_date!r} is not a date (expected YYYY-MM-DD)")
    for name in ("description", "owner"):
        if not str(merged.get(name) or "").strip():
            problems.append(f"--{name}: required (not empty)")
    status = IssueStatus.parse(str(merged.get("status") or ""))
    if status is IssueStatus.RECTIFY_BY_DEADLINE and not merged.get("due_date"):
        problems.append("--due: required for 限期整改 (rectify_by_deadline): give the due date")
    requirement = merged.get("requirement")
    if requirement and requirement not in known_subjects:
        problems.append(
            f"--requirement: {requirement!r} is neither a requirement id (R1…) nor a rule id"
        )
    return problems


def known_subjects(pack: RulePack, requirement_ids: tuple[str, ...]) -> frozenset[str]:
    """Return what an issue may refer to: a requirement id or a rule id."""
    return frozenset((*requirement_ids, *pack.ids()))


def new_issue_problems(change: IssueChange, subjects: frozenset[str]) -> list[str]:
    """Return what is wrong with a new issue's values, without the catalog: `drctl issue add`
    refuses them (exit 2) before it opens, and so creates or upgrades, the catalog."""
    merged = {**change.__dict__, "status": change.status or ""}
    problems = _check(change, merged, subjects)
    if change.status is None:
        problems.insert(0, f"--status: required: one of {STATUS_CHOICES}")
    return problems


def add_issue(
    catalog: Catalog,
    change: IssueChange,
    subjects: frozenset[str],
    issue_id: str | None = None,
    *,
    dry_run: bool = False,
) -> Issue:
    """Given the catalog and a new issue's values, store it (not with dry_run) and return it
    (its id is the one given, or the next ISSUE-<year>-<nnn>). Raise InputError listing every
    problem."""
    problems = new_issue_problems(change, subjects)
    with catalog.begin() as connection:
        if issue_id is not None and register.get_issue(connection, issue_id) is not None:
            problems.append(f"--id: issue {issue_id} already exists; use `drctl issue update`")
        if problems:
            raise InputError("command line", problems)
        moment = now()
        issue = Issue(
            issue_id or register.next_issue_id(connection, datetime.now(UTC).year),
            str(change.description).strip(),
            IssueStatus.parse(str(change.status)) or IssueStatus.RECTIFY_BY_DEADLINE,
            str(change.owner).strip(),
            change.due_date or None,
            change.requirement or None,
            moment,
            moment,
            _who(),
        )
        if not dry_run:
            register.insert_issue(connection, issue)
    return issue


def update_issue(
    catalog: Catalog,
    issue_id: str,
    change: IssueChange,
    subjects: frozenset[str],
    *,
    dry_run: bool = False,
) -> Issue:
    """Given an existing issue's id and the values to change, update it (not with dry_run)
    and return it as it is (or would be). Raise InputError when the issue does not exist or a
    value is refused."""
    given = {key: value for key, value in change.__dict__.items() if value is not None}
    with catalog.begin() as connection:
        current = register.get_issue(connection, issue_id)
        if current is None:
            raise InputError(
                "command line", [f"ISSUE: no issue {issue_id!r} (see `drctl issue list`)"]
            )
        if not given:
            raise InputError("command line", ["give at least one value to change"])
        merged = {**current.__dict__, "status": str(current.status), **given}
        problems = _check(change, merged, subjects)
        if problems:
            raise InputError("command line", problems)
        values: dict[str, Any] = {**given, "updated_at": now(), "updated_by": _who()}
        if change.status is not None:
            values["status"] = str(IssueStatus.parse(change.status))
        for name in ("due_date", "requirement"):
            if values.get(name) == "":
                values[name] = None  # `--due ''` clears it
        if dry_run:
            status = IssueStatus.parse(str(values.pop("status", current.status)))
            return replace(current, **values, status=status or current.status)
        register.update_issue(connection, issue_id, values)
        updated = register.get_issue(connection, issue_id)
    assert updated is not None
    return updated


def read_issues(catalog: Catalog) -> list[Issue]:
    """Return every issue of the register, in id order."""
    with catalog.begin() as connection:
        return register.list_issues(connection)
