"""The command table: every drctl command, its handler and its arguments, in help order.

To add a command: write its handler (`def handler(call: Call) -> int`, which turns
`call.args` into typed values for one action and prints with `call.out.emit`) and, if it
takes options, an `add_*_arguments(parser)` function, in the cli module of its group; then
add one row here. Dispatch is this mapping, nothing else.
"""

from __future__ import annotations

from orchestrator.cli import (
    drill,
    evidence,
    judge,
    protect,
    replication,
    service,
    verify,
    workdays,
)
from orchestrator.cli.parser import Command, Handler

GROUPS = {
    "drill": "drills",
    "evidence": "evidence packages",
    "calendar": "the PRC statutory working-day calendar",
    "plan": "plan checks",
    "keys": "the manifest signing key",
    "replication": "mirroring between the centres (第十一条)",
}

COMMANDS: tuple[Command, ...] = (
    Command(
        "check-config",
        "validate config and inventory (and --scenario files), all errors at once",
        protect.check_config,
        protect.add_check_arguments,
    ),
    Command("backup", "full backup now", protect.backup, protect.add_backup_arguments),
    Command(
        "copy-offsite",
        "copy recovery points off-site, verify there",
        protect.copy_offsite,
        protect.add_copy_arguments,
    ),
    Command(
        "verify",
        "restore sampling (≥10 %%), --all integrity scan, or --recheck after a bad point",
        verify.verify,
        verify.add_arguments,
    ),
    Command("drill run", "run a drill scenario", drill.run, drill.add_arguments),
    Command(
        "keys create", "create the key that signs recovery-point manifests", evidence.create_key
    ),
    Command(
        "metrics",
        "serve /metrics from the catalog",
        service.metrics,
        service.add_metrics_arguments,
    ),
    Command(
        "evidence keygen",
        "create the ed25519 key that signs evidence; prints the fingerprint to pin",
        evidence.keygen,
        evidence.add_keygen_arguments,
    ),
    Command(
        "evidence verify",
        "check a package (digests, signature, signer) or, with --chain, the chain and anchor",
        evidence.verify,
        evidence.add_verify_arguments,
    ),
    Command("evidence anchor", "write the chain lines not yet anchored", evidence.anchor),
    Command(
        "calendar working-days",
        "count working days in (FROM, TO]",
        workdays.working_days,
        workdays.add_range_arguments,
    ),
    Command(
        "calendar is-working-day",
        "exit 0 yes, 1 no, 2 no data",
        workdays.is_working_day,
        workdays.add_day_arguments,
    ),
    Command(
        "plan switchover",
        "第十条: notice ≥ 5 working days before a long switchover",
        workdays.plan_switchover,
        workdays.add_switchover_arguments,
    ),
    Command(
        "replication probe",
        "read every replication link's state and lag; exit 1 when one is not healthy",
        replication.probe,
        replication.add_probe_arguments,
    ),
    Command(
        "status",
        "every rule × subject: status, measured, threshold, clause; exit 1 on a violation",
        judge.status,
        judge.add_status_arguments,
    ),
    Command(
        "run-due",
        "one scheduler pass: run what is due",
        judge.run_due,
        judge.add_run_due_arguments,
    ),
    Command(
        "retention",
        "rotate full recovery points; never below the 7-day and 8-generation floors",
        judge.retention,
        judge.add_retention_arguments,
    ),
    Command(
        "serve",
        "loop: /metrics, network probes, run-due passes",
        service.serve,
        service.add_serve_arguments,
    ),
)

HANDLERS: dict[str, Handler] = {command.name: command.handler for command in COMMANDS}
