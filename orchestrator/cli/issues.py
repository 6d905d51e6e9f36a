"""`drctl issue add|update|list`: the issue register (问题清单) of the compliance report."""

from __future__ import annotations

from orchestrator.actions.issues import (
    IssueChange,
    add_issue,
    known_subjects,
    new_issue_problems,
    read_issues,
    update_issue,
)
from orchestrator.cli.call import Call
from orchestrator.errors import ExitCode, InputError
from orchestrator.model.issue import Issue
from orchestrator.model.migrate import require_present
from orchestrator.rules.requirements import load_catalogue
from orchestrator.runtime import open_runtime


def _change(call: Call) -> IssueChange:
    args = call.args
    return IssueChange(args.description, args.status, args.owner, args.due_date, args.requirement)


def _subjects(call: Call) -> frozenset[str]:
    ids = tuple(r.id for r in load_catalogue().requirements)
    return known_subjects(call.site().pack, ids)


def _line(issue: Issue) -> str:
    return (
        f"{issue.id}  {issue.status.label_zh} {issue.status.value}  owner {issue.owner}  "
        f"due {issue.due_date or '—'}  {issue.requirement or ''}  {issue.description}"
    )


def issue_add(call: Call) -> int:
    problems = new_issue_problems(_change(call), _subjects(call))
    if problems:
        raise InputError("command line", problems)
    # A dry run neither creates nor upgrades the catalog (an old schema: exit 2, run upgrade).
    with open_runtime(call.site(), writes=not call.args.dry_run) as runtime:
        issue = add_issue(
            runtime.catalog,
            _change(call),
            _subjects(call),
            call.args.id,
            dry_run=call.args.dry_run,
        )
    verb = "would add (dry run, nothing stored)" if call.args.dry_run else "added"
    call.out.emit(issue.to_dict(), f"{verb} {_line(issue)}")
    return ExitCode.OK


def issue_update(call: Call) -> int:
    # A site without a catalog holds no issue to update: refused before one is created.
    require_present(call.site().config.catalog_url)
    # A dry run neither creates nor upgrades the catalog (an old schema: exit 2, run upgrade).
    with open_runtime(call.site(), writes=not call.args.dry_run) as runtime:
        issue = update_issue(
            runtime.catalog,
            call.args.issue,
            _change(call),
            _subjects(call),
            dry_run=call.args.dry_run,
        )
    verb = "would update to (dry run, nothing changed)" if call.args.dry_run else "updated"
    call.out.emit(issue.to_dict(), f"{verb} {_line(issue)}")
    return ExitCode.OK


def issue_list(call: Call) -> int:
    with open_runtime(call.site()) as runtime:
        issues = read_issues(runtime.catalog)
    lines = [_line(issue) for issue in issues] + [f"summary: {len(issues)} issue(s)"]
    call.out.emit({"issues": [i.to_dict() for i in issues]}, "\n".join(lines))
    return ExitCode.OK
