"""Each command's handler, imported only when that command runs.

The parser is built from the table without importing any command module (they pull in
pydantic, SQLAlchemy, Ansible, boto3, cryptography …): a row names one of these functions,
and each imports its module on the call. `drctl --help`, a usage error or `drctl calendar`
therefore start in a fraction of the time (docs/benchmarks.md, start-up). Add a function here
when adding a command (docs/cli.md).
"""

from __future__ import annotations

TYPE_CHECKING = False  # not `typing`: see cli/parser.py
if TYPE_CHECKING:
    from orchestrator.cli.call import Call


def check_config(call: Call) -> int:
    from orchestrator.cli import check

    return check.check_config(call)


def backup(call: Call) -> int:
    from orchestrator.cli import protect

    return protect.backup(call)


def copy_offsite(call: Call) -> int:
    from orchestrator.cli import protect

    return protect.copy_offsite(call)


def verify(call: Call) -> int:
    from orchestrator.cli import verify

    return verify.verify(call)


def drill_run(call: Call) -> int:
    from orchestrator.cli import drill

    return drill.run(call)


def keys_create(call: Call) -> int:
    from orchestrator.cli import evidence

    return evidence.create_key(call)


def keys_create_kek(call: Call) -> int:
    from orchestrator.cli import keys

    return keys.create_kek(call)


def keys_rotate_kek(call: Call) -> int:
    from orchestrator.cli import keys

    return keys.rotate_kek_command(call)


def metrics(call: Call) -> int:
    from orchestrator.cli import service

    return service.metrics(call)


def evidence_keygen(call: Call) -> int:
    from orchestrator.cli import evidence

    return evidence.keygen(call)


def evidence_verify(call: Call) -> int:
    from orchestrator.cli import evidence

    return evidence.verify(call)


def evidence_anchor(call: Call) -> int:
    from orchestrator.cli import evidence

    return evidence.anchor(call)


def calendar_working_days(call: Call) -> int:
    from orchestrator.cli import workdays

    return workdays.working_days(call)


def calendar_is_working_day(call: Call) -> int:
    from orchestrator.cli import workdays

    return workdays.is_working_day(call)


def plan_switchover(call: Call) -> int:
    from orchestrator.cli import switchover

    return switchover.plan_switchover(call)


def replication_probe(call: Call) -> int:
    from orchestrator.cli import replication

    return replication.probe(call)


def status(call: Call) -> int:
    from orchestrator.cli import judge

    return judge.status(call)


def report(call: Call) -> int:
    from orchestrator.cli import report

    return report.report(call)


def issue_add(call: Call) -> int:
    from orchestrator.cli import issues

    return issues.issue_add(call)


def issue_update(call: Call) -> int:
    from orchestrator.cli import issues

    return issues.issue_update(call)


def issue_list(call: Call) -> int:
    from orchestrator.cli import issues

    return issues.issue_list(call)


def run_due(call: Call) -> int:
    from orchestrator.cli import run_due

    return run_due.run_due(call)


def retention(call: Call) -> int:
    from orchestrator.cli import retention

    return retention.retention(call)


def catalog_upgrade(call: Call) -> int:
    from orchestrator.cli import catalog

    return catalog.upgrade(call)


def serve(call: Call) -> int:
    from orchestrator.cli import service

    return service.serve(call)


def catalog_rebuild(call: Call) -> int:
    from orchestrator.cli import catalog_rebuild

    return catalog_rebuild.rebuild(call)
