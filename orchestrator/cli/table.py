"""The command table: every drctl command, its handler and its arguments, in help order.

To add a command: write its handler (`def handler(call: Call) -> int`, which turns
`call.args` into typed values for one action and prints with `call.out.emit`) in the cli
module of its group, a function in `handlers.py` that imports that module and calls it, and,
if it takes options, an `add_*_arguments(parser)` function in `arguments.py`; then add one
row here. Dispatch is this mapping, nothing else. The table imports no command module: the
parser is built, and `--help` answered, without loading what the commands do.
"""

from __future__ import annotations

from orchestrator.cli import arguments, handlers
from orchestrator.cli.parser import Command, Handler

GROUPS = {
    "drill": "drills",
    "evidence": "evidence packages",
    "calendar": "the PRC statutory working-day calendar",
    "plan": "plan checks",
    "keys": "the manifest signing key and the key-encryption key",
    "catalog": "the catalog: its schema, and rebuilding it from the stores and the evidence",
    "issue": "the issue register of the compliance report (问题清单)",
    "replication": "mirroring between the centres (第十一条)",
}

COMMANDS: tuple[Command, ...] = (
    Command(
        "check-config",
        "validate config and inventory (and --scenario files), all errors at once",
        handlers.check_config,
        arguments.add_check_arguments,
        example="drctl -c /etc/drctl/dr.yml check-config --connect "
        "--scenario drills/site-failover.yml",
    ),
    Command(
        "backup",
        "full backup now, each dataset on its own",
        handlers.backup,
        arguments.add_backup_arguments,
        example="drctl -c /etc/drctl/dr.yml backup --system core-banking --dataset ledger",
    ),
    Command(
        "copy-offsite",
        "copy recovery points off-site, verify there",
        handlers.copy_offsite,
        arguments.add_copy_arguments,
        example="drctl -c /etc/drctl/dr.yml copy-offsite --system core-banking --dry-run",
    ),
    Command(
        "verify",
        "restore sampling (≥10 %%), --all integrity scan, or --recheck after a bad point",
        handlers.verify,
        arguments.add_verify_arguments,
        example="drctl -c /etc/drctl/dr.yml verify --plan    (then without --plan)",
    ),
    Command(
        "drill run",
        "run a drill scenario",
        handlers.drill_run,
        arguments.add_drill_arguments,
        example="drctl -c /etc/drctl/dr.yml drill run drills/site-failover.yml --dry-run",
    ),
    Command(
        "keys create",
        "create the key that signs recovery-point manifests",
        handlers.keys_create,
        arguments.add_dry_run_argument,
        example="drctl -c /etc/drctl/dr.yml keys create",
    ),
    Command(
        "keys create-kek",
        "create the key-encryption key that wraps recovery points' data keys",
        handlers.keys_create_kek,
        arguments.add_kek_create_arguments,
        example="drctl -c /etc/drctl/dr.yml keys create-kek --dry-run",
    ),
    Command(
        "keys rotate-kek",
        "re-wrap every encrypted point's data key under a new key-encryption key",
        handlers.keys_rotate_kek,
        arguments.add_kek_rotate_arguments,
        example="drctl -c /etc/drctl/dr.yml keys rotate-kek --new /etc/drctl/keys/kek-2027.hex",
    ),
    Command(
        "metrics",
        "serve /metrics from the catalog",
        handlers.metrics,
        arguments.add_metrics_arguments,
        example="drctl -c /etc/drctl/dr.yml metrics --listen 127.0.0.1:19260",
    ),
    Command(
        "evidence keygen",
        "create the ed25519 key that signs evidence; prints the fingerprint to pin",
        handlers.evidence_keygen,
        arguments.add_keygen_arguments,
        example="drctl -c /etc/drctl/dr.yml evidence keygen",
    ),
    Command(
        "evidence verify",
        "check a package (digests, signature, signer) or, with --chain, the chain and anchor",
        handlers.evidence_verify,
        arguments.add_evidence_verify_arguments,
        example="drctl evidence verify drill-20261130T010203Z-1a2b3c.tar.gz "
        "--public-key bank-evidence.pub.pem\n"
        "  drctl evidence verify --chain evidence/ --public-key bank-evidence.pub.pem "
        "--anchor anchor-copy/",
    ),
    Command(
        "evidence anchor",
        "write the chain lines not yet anchored",
        handlers.evidence_anchor,
        arguments.add_dry_run_argument,
        example="drctl -c /etc/drctl/dr.yml evidence anchor --dry-run",
    ),
    Command(
        "calendar working-days",
        "count working days in (FROM, TO]",
        handlers.calendar_working_days,
        arguments.add_range_arguments,
        example="drctl calendar working-days 2026-09-30 2026-10-09",
        logs=False,
    ),
    Command(
        "calendar is-working-day",
        "exit 0 yes, 1 no, 2 no data",
        handlers.calendar_is_working_day,
        arguments.add_day_arguments,
        exit_codes="exit codes / 退出码: 0 a working day 工作日 · 1 not a working day 非工作日 · "
        "2 no calendar data for that day 无日历数据",
        example="drctl calendar is-working-day 2026-10-10 && echo working day",
        logs=False,
    ),
    Command(
        "plan switchover",
        "第十条: notice ≥ 5 working days before a long switchover",
        handlers.plan_switchover,
        arguments.add_switchover_arguments,
        example="drctl plan switchover --start 2026-12-12 --end 2026-12-13 "
        "--notice-date 2026-12-04",
    ),
    Command(
        "replication probe",
        "read every replication link's state and lag; exit 1 when one is not healthy",
        handlers.replication_probe,
        arguments.add_probe_arguments,
        example="drctl -c /etc/drctl/dr.yml replication probe --system core-banking",
    ),
    Command(
        "status",
        "every rule × subject: status, measured, threshold, clause; exit 1 on a violation",
        handlers.status,
        arguments.add_status_arguments,
        example="drctl -c /etc/drctl/dr.yml status --year 2026",
    ),
    Command(
        "report",
        "the signed compliance report of a year or period: R1–R42, findings, issues, HTML+PDF",
        handlers.report,
        arguments.add_report_arguments,
        example="drctl -c /etc/drctl/dr.yml report --year 2026",
    ),
    Command(
        "issue add",
        "add an issue to the register",
        handlers.issue_add,
        arguments.add_issue_add_arguments,
        example="drctl issue add --description '异地副本延迟' --status 限期整改 --owner 张伟 "
        "--due 2027-01-31 --requirement R24",
    ),
    Command(
        "issue update",
        "change an issue (status, owner, due date …)",
        handlers.issue_update,
        arguments.add_issue_update_arguments,
        example="drctl issue update ISSUE-2026-001 --status 已整改",
    ),
    Command(
        "issue list",
        "list the issue register",
        handlers.issue_list,
        example="drctl -c /etc/drctl/dr.yml --json issue list",
    ),
    Command(
        "run-due",
        "one scheduler pass: run what is due",
        handlers.run_due,
        arguments.add_run_due_arguments,
        example="drctl -c /etc/drctl/dr.yml run-due --dry-run",
    ),
    Command(
        "retention",
        "rotate full recovery points; never below the 7-day and 8-generation floors",
        handlers.retention,
        arguments.add_retention_arguments,
        example="drctl -c /etc/drctl/dr.yml retention --dry-run",
    ),
    Command(
        "catalog upgrade",
        "bring the catalog's schema up to date",
        handlers.catalog_upgrade,
        arguments.add_catalog_upgrade_arguments,
        example="drctl -c /etc/drctl/dr.yml catalog upgrade --dry-run",
    ),
    Command(
        "serve",
        "loop: /metrics, network probes, run-due passes",
        handlers.serve,
        arguments.add_serve_arguments,
        example="drctl -c /etc/drctl/dr.yml serve --no-run-due --listen 127.0.0.1:19260",
    ),
)

COMMANDS += (
    Command(
        "catalog rebuild",
        "rebuild the catalog from the stores and the signed evidence (idempotent)",
        handlers.catalog_rebuild,
        arguments.add_catalog_rebuild_arguments,
        example="drctl -c /etc/drctl/dr.yml catalog rebuild --dry-run",
        exit_codes="exit codes / 退出码:\n"
        "  0  everything recovered                          全部恢复\n"
        "  1  something not recovered (each listed)         部分未恢复\n"
        "  2  usage or config error; nothing was written   用法或配置错误，未写入任何内容\n"
        "  3  a store unreachable: run it again            存储不可达",
    ),
)

HANDLERS: dict[str, Handler] = {command.name: command.handler for command in COMMANDS}
WITHOUT_LOGGING = frozenset(command.name for command in COMMANDS if not command.logs)
