"""Each command's own options: one `add_…_arguments(parser)` per command, in table order.

They live here, apart from the handlers, so that building the parser (every `drctl` start,
`--help`, a usage error) imports argparse and nothing of what the commands do: no pydantic,
YAML, SQLAlchemy, Ansible, boto3 or cryptography (docs/benchmarks.md, start-up). Import only
light modules here; tests/unit/test_cli_startup.py fails when building the parser loads a
heavy one.
"""

from __future__ import annotations

import argparse
import re

from exporters import DEFAULT_LISTEN
from orchestrator.network import REPLICATION_PROBE_SECONDS

DRY_RUN_HELP = "say what would be done; write nothing"
PLAN_HELP = "print what would be done (every dataset, where it lives); write nothing"
# The years --year takes: the catalog holds Unix times, and a year is judged up to the first
# instant of the next one (which must exist).
FIRST_YEAR = 1970
LAST_YEAR = 9998
SEED_TEXT = re.compile(r"[0-9A-Za-z:._-]{1,128}")  # the catalog's seed column holds 128


def add_check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--connect",
        action="store_true",
        help="also check password variables, hosts (strict host keys, spool writable) and "
        "stores (writable, locked)",
    )
    parser.add_argument(
        "--scenario",
        action="append",
        default=[],
        metavar="FILE",
        help="also check a drill scenario (repeatable); refuses one that would seed, write or "
        "destroy data at a site not marked sandbox",
    )


def add_backup_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--system", help="only this system (default: every system)")
    parser.add_argument("--dataset", help="only this dataset (default: every dataset)")
    parser.add_argument("--dry-run", action="store_true", help=PLAN_HELP)


def add_copy_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--system", help="only this system (default: every system)")
    parser.add_argument("--dry-run", action="store_true", help=PLAN_HELP)


def add_verify_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--all", action="store_true", help="check every digest of every point")
    parser.add_argument(
        "--plan", "--dry-run", action="store_true", help="print the sample plan only; run nothing"
    )
    parser.add_argument(
        "--recheck",
        action="store_true",
        help="re-check datasets with bad points: verify a newer good point (A5)",
    )
    parser.add_argument(
        "--seed",
        type=sample_seed,
        help="seed of the sample, to reproduce one (a number, or a past check's seed as its "
        "plan shows it): a check run with it is recorded and judged but never counted toward "
        "the 30-day clock (an operator-chosen sample); default: the evidence key's signature "
        "of the schedule window and the last counted check's evidence, recorded",
    )


def add_drill_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", nargs="?", help="scenario file (default: the sandbox drill)")
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="set up a fresh sandbox under .dr/sandbox and use its dr.yml",
    )
    parser.add_argument(
        "--confirm",
        metavar="SYSTEM",
        help="a switchover scenario only: confirm it may replace SYSTEM's live data at the "
        "disaster-recovery site",
    )
    parser.add_argument(
        "--allow-replica-writes",
        action="store_true",
        help="let the drill restore into a database server that feeds replicas (a standby, "
        "a subscriber, a MariaDB replica): its writes then reach them too; refused without it",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="validate the scenario against the config and print its steps; run nothing",
    )


def add_dry_run_argument(parser: argparse.ArgumentParser) -> None:
    """`--dry-run`, the only option of `keys create` and `evidence anchor`."""
    parser.add_argument("--dry-run", action="store_true", help=DRY_RUN_HELP)


def add_keygen_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", help="where to create it (default: evidence.signing_key)")
    add_dry_run_argument(parser)


def add_evidence_verify_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path",
        nargs="?",
        help="package or .tar.gz; with --chain the evidence directory (default: the config's)",
    )
    parser.add_argument("--chain", action="store_true", help="every package, the chain, the anchor")
    parser.add_argument(
        "--public-key", action="append", help="trusted signer public key (PEM), got out of band"
    )
    parser.add_argument(
        "--fingerprint", action="append", help="trusted signer key fingerprint (64 hex)"
    )
    parser.add_argument(
        "--retired-public-key",
        action="append",
        help="rotated-out signer public key (PEM): trusted only for the packages before the "
        "first one a current key signed (checked with --chain)",
    )
    parser.add_argument(
        "--retired-fingerprint",
        action="append",
        help="rotated-out signer key fingerprint (64 hex), as --retired-public-key",
    )
    parser.add_argument(
        "--anchor",
        metavar="DIR",
        help="with --chain: a copy of the chain's file anchor (its NNNNNNNN-<package>.json "
        "files), used instead of the config's anchor store. Given the evidence directory, "
        "--public-key or --fingerprint and --anchor, the chain is checked offline, without a "
        "config. Without any anchor the end of the chain is NOT checked (a package removed "
        "from the end cannot be detected): the output says so and the result is not ok "
        "(exit 1)",
    )


def add_kek_create_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output", help="where to create it (default: encryption.key_encryption_key.file)"
    )
    parser.add_argument("--dry-run", action="store_true", help=DRY_RUN_HELP)


def add_kek_rotate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--new", required=True, help="the new key-encryption key file (0600)")
    parser.add_argument("--dry-run", action="store_true", help=DRY_RUN_HELP)


def add_metrics_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--listen", default=DEFAULT_LISTEN, help=f"ADDRESS:PORT (default {DEFAULT_LISTEN})"
    )


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--listen", default=DEFAULT_LISTEN, help=f"metrics ADDRESS:PORT (default {DEFAULT_LISTEN})"
    )
    parser.add_argument(
        "--once",
        action="store_true",
        help="one probe round of every path and one scheduler pass, then exit",
    )
    parser.add_argument("--no-run-due", action="store_true", help="never run scheduler passes")
    parser.add_argument(
        "--run-due-interval",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="seconds between scheduler passes (default 300)",
    )
    parser.add_argument(
        "--replication-interval",
        type=float,
        default=REPLICATION_PROBE_SECONDS,
        metavar="SECONDS",
        help=f"seconds between replication probe passes (default {REPLICATION_PROBE_SECONDS:g})",
    )
    add_queue_arguments(parser)


def add_queue_arguments(parser: argparse.ArgumentParser) -> None:
    """The shared task queue of serve nodes on a PostgreSQL catalog (docs/deploy.md)."""
    group = parser.add_argument_group("task queue (PostgreSQL catalog only)")
    group.add_argument(
        "--no-queue", action="store_true", help="run scheduler passes in this process instead"
    )
    for flag, kind, default, text in (
        ("--workers", int, 1, "queued actions this node runs at once"),
        ("--per-host", int, 2, "actions at once on one host (backup or verify), over all nodes"),
        ("--per-store", int, 4, "actions at once on one store, over all nodes"),
        ("--heartbeat", float, 10.0, "seconds between this node's worker heartbeats"),
        ("--stalled-after", float, 60.0, "seconds without heartbeat before a node's jobs move"),
    ):
        group.add_argument(
            flag,
            type=kind,
            default=default,
            metavar="N" if kind is int else "SECONDS",
            help=f"{text} (default {default:g})",
        )


def add_range_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("start", metavar="FROM", help="first day, not counted (YYYY-MM-DD)")
    parser.add_argument("end", metavar="TO", help="last day, counted (YYYY-MM-DD)")


def add_day_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("date", metavar="DATE", help="the day to look up (YYYY-MM-DD)")


def add_switchover_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--start", required=True, help="first day of the switchover (YYYY-MM-DD)")
    parser.add_argument("--end", required=True, help="last day of the switchover (YYYY-MM-DD)")
    parser.add_argument(
        "--notice-date", required=True, help="day customers were notified (YYYY-MM-DD)"
    )
    parser.add_argument("--convention", default="strict", help="strict (default) or inclusive")
    parser.add_argument("--emergency-channel", help="the emergency service channel offered")
    parser.add_argument("--system", help="the system to switch over (needed with --record)")
    parser.add_argument(
        "--record",
        action="store_true",
        help="store the checked plan in the catalog; a switchover scenario runs only inside "
        "the window of a recorded plan that passed",
    )


def add_probe_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--system", help="only this system's links")


def sample_seed(text: str) -> str:
    """Given --seed's text, return it. Raise ArgumentTypeError (exit 2) unless it is 1 to 128
    letters, digits or `:._-`: what a number, a drawn seed (128 hex digits) or one of the
    older `<period start>:<digest>` seeds holds, and what the catalog keeps."""
    if not SEED_TEXT.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r}: expected 1 to 128 letters, digits or ':._-' (a number, or a past "
            "check's seed as its plan shows it)"
        )
    return text


def calendar_year(text: str) -> int:
    """Given --year's text, return the year. Raise ArgumentTypeError (exit 2) for one that is
    not a whole number or not a year the catalog can hold (1970 to 9998: a year is judged up to
    the start of the next one)."""
    try:
        year = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a year (YYYY)") from None
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise argparse.ArgumentTypeError(
            f"{year}: expected a year from {FIRST_YEAR} to {LAST_YEAR}"
        )
    return year


def add_status_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--at", help="judge as of this date (YYYY-MM-DD, end of day Asia/Shanghai) or ISO date-time"
    )
    parser.add_argument(
        "--year",
        type=calendar_year,
        metavar="YYYY",
        help="judge a calendar year that is over, in full, with every record known now "
        "(a fault across New Year counts with its full length)",
    )


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--year", type=calendar_year, metavar="YYYY", help="the calendar year to report"
    )
    parser.add_argument("--from", dest="start", metavar="DATE", help="first day (YYYY-MM-DD)")
    parser.add_argument("--to", dest="end", metavar="DATE", help="last day (YYYY-MM-DD)")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check the period and the evidence settings, say where the package would go",
    )


def add_issue_add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--id", help="问题编号 (default: the next ISSUE-<year>-<nnn>)")
    _issue_value_arguments(parser, required=True)
    parser.add_argument("--dry-run", action="store_true", help="check the values; store nothing")


def add_issue_update_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("issue", metavar="ISSUE", help="问题编号 of the issue to change")
    _issue_value_arguments(parser, required=False)
    parser.add_argument("--dry-run", action="store_true", help="check the values; change nothing")


def _issue_value_arguments(parser: argparse.ArgumentParser, *, required: bool) -> None:
    from orchestrator.model.issue import STATUS_CHOICES  # only when `issue` is on the line

    parser.add_argument("--description", required=required, help="问题描述")
    parser.add_argument("--status", required=required, help=f"整改状态: {STATUS_CHOICES}")
    parser.add_argument("--owner", required=required, help="责任人")
    parser.add_argument("--due", dest="due_date", help="整改期限 YYYY-MM-DD ('' clears it)")
    parser.add_argument("--requirement", help="the requirement (R24) or rule id it concerns")


def add_run_due_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--plan", "--dry-run", action="store_true", help="print what is due, run nothing"
    )


def add_retention_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="print the plan, delete nothing")
    parser.add_argument("--approver", help="who approved the destruction (T/TJSFB 009 §8 b)")


def add_catalog_upgrade_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run", action="store_true", help="say which revision it would move to; change nothing"
    )


def add_catalog_rebuild_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="rebuild into a throw-away copy of the catalog and say what would be added",
    )
