"""`drctl retention`: delete what rotation allows (or, with --dry-run, say what it would)."""

from __future__ import annotations

from orchestrator.actions.retention import Deletion, RetentionResult, run_retention
from orchestrator.cli.call import Call
from orchestrator.errors import ExitCode
from orchestrator.runtime import open_runtime


def retention(call: Call) -> int:
    with open_runtime(call.site()) as runtime:
        result = run_retention(runtime, dry_run=call.args.dry_run, approver=call.args.approver)
    call.out.emit(retention_dict(result), describe_retention(result))
    return retention_exit(result)


def retention_exit(result: RetentionResult) -> ExitCode:
    """Return 3 when a copy recorded deleted kept its files (a store fault: no longer counted,
    but the store holds it until the next pass removes it, actions/retention_delete.py), else 0."""
    return ExitCode.INFRASTRUCTURE if result.left else ExitCode.OK


def _chosen(result: RetentionResult) -> tuple[str, list[Deletion]]:
    return (
        ("would delete", list(result.plan.deletions))
        if result.dry_run
        else ("deleted", list(result.deleted))
    )


def retention_dict(result: RetentionResult) -> dict[str, object]:
    _verb, chosen = _chosen(result)
    return {
        "dry_run": result.dry_run,
        "approver": result.approver,
        "deletions": [{**d.__dict__, "business_date": d.business_date.isoformat()} for d in chosen],
        "kept_generations": dict(result.plan.kept),
        "notes": list(result.plan.notes),
        "files_left": [
            f"{d.system}/{d.dataset}/{d.recovery_point_id}@{d.store}" for d in result.left
        ],
        "leftovers": list(result.leftovers),
    }


def describe_retention(result: RetentionResult) -> str:
    verb, chosen = _chosen(result)
    lines = [
        f"{verb}: {d.system}/{d.dataset} {d.recovery_point_id} from {d.store}: {d.reason}"
        for d in chosen
    ]
    lines += [
        f"FILES LEFT: {d.system}/{d.dataset} {d.recovery_point_id} in {d.store}: recorded "
        "deleted, its files could not be removed; the next retention pass removes them"
        for d in result.left
    ]
    lines += [f"note: {line}" for line in result.leftovers]
    lines += [f"note: {note}" for note in result.plan.notes]
    lines += [f"kept: {key}: {count} generation(s)" for key, count in result.plan.kept.items()]
    lines.append(
        f"summary: {len(chosen)} copy(ies) {verb}"
        + (f", approved by {result.approver}" if result.approver else "")
    )
    return "\n".join(lines)
