"""`drctl run-due`: one scheduler pass, or with --plan what is due."""

from __future__ import annotations

from datetime import UTC, datetime

from orchestrator.actions.backup import require_backup_keys
from orchestrator.actions.run_due import PassResult, plan_due, run_due_pass
from orchestrator.cli.call import Call
from orchestrator.errors import ExitCode
from orchestrator.model.snapshot import read_catalog
from orchestrator.runtime import open_runtime


def run_due(call: Call) -> int:
    site = call.site()
    if not call.args.plan:
        require_backup_keys(site.config)  # a bad key is exit 2 before the catalog opens
    with open_runtime(site, writes=not call.args.plan) as runtime:
        if call.args.plan:
            due = plan_due(
                runtime.config, read_catalog(runtime.catalog), datetime.now(UTC), runtime.pack
            )
            lines = [f"due: {job.kind} {job.subject}: {job.reason}" for job in due]
            lines.append(f"summary: {len(due)} job(s) due")
            call.out.emit({"due": [job.__dict__ for job in due]}, "\n".join(lines))
            return ExitCode.OK
        result = run_due_pass(runtime)
    call.out.emit(result.to_dict(), describe_pass(result))
    return result.exit_code


def describe_pass(result: PassResult) -> str:
    lines = [f"{o.status:<11} {o.kind} {o.subject}: {o.message}" for o in result.outcomes]
    if result.released_stale:
        lines.insert(0, f"released {result.released_stale} stale job lock(s) of a crashed run")
    lines.append(
        f"summary: {len(result.ran)} job(s) run, "
        f"{sum(o.status == 'skipped' for o in result.outcomes)} skipped, "
        f"{sum(o.status == 'failed' for o in result.outcomes)} failed"
    )
    lines.append(
        f"小结：运行 {len(result.ran)} 项作业，"
        f"失败 {sum(o.status == 'failed' for o in result.outcomes)} 项"
    )
    return "\n".join(lines)
