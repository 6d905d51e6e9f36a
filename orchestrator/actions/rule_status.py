"""`drctl status [--at DATE]`: the per-dataset freshness table and every rule × subject with
its status (Chinese and English), measured value, threshold, clause and evidence.

Exit 1 when a rule of severity violation (the mandatory core clauses) is non-compliant, or
cannot be judged (无法判定: no data, no attestation) — the site is then not shown compliant;
the CLI decides from `StatusReport.failing` and `.undetermined`. What it prints:
actions/status_output.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Connection

from orchestrator.actions.status import collect_dataset_status
from orchestrator.errors import InputError
from orchestrator.model.snapshot import Snapshot, read_catalog, read_snapshot
from orchestrator.rules.evaluate import evaluate_all
from orchestrator.rules.evaluate_network import network_status
from orchestrator.rules.finding import Finding
from orchestrator.rules.judged import judged_snapshot
from orchestrator.rules.rule import Severity
from orchestrator.rules.status import Status
from orchestrator.rules.timezone import SHANGHAI
from orchestrator.rules.whole_year import evaluate_year, year_end
from orchestrator.runtime import Runtime

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_END_OF_DAY = time(23, 59, 59)


@dataclass(frozen=True)
class StatusReport:
    """The status as judged at `at`: dataset rows, findings, and the data sources used."""

    at: datetime
    datasets: list[dict[str, Any]]
    findings: list[Finding]
    calendar: str
    rule_pack: str
    network: list[dict[str, Any]] = field(default_factory=list)
    year: int | None = None  # a past calendar year judged in full

    @property
    def failing(self) -> list[Finding]:
        """Return the non-compliant findings of rules of severity violation."""
        return [finding for finding in self.findings if finding.breaks_violation]

    @property
    def undetermined(self) -> list[Finding]:
        """Return the findings of rules of severity violation that cannot be judged."""
        return [
            f
            for f in self.findings
            if f.status is Status.UNKNOWN and f.severity is Severity.VIOLATION
        ]


def parse_at(text: str | None) -> datetime | None:
    """Given `--at` (YYYY-MM-DD: the end of that day in Asia/Shanghai; or an ISO date-time,
    Asia/Shanghai when it has no zone), return the time. Raise InputError if unparseable."""
    if text is None:
        return None
    try:
        if _DATE.match(text):
            return datetime.combine(date.fromisoformat(text), _END_OF_DAY, SHANGHAI)
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None:
        raise InputError(
            "command line",
            [f"--at: {text!r} is not a date (expected YYYY-MM-DD or an ISO date-time)"],
        )
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def collect_status(
    runtime: Runtime,
    at: datetime | None = None,
    year: int | None = None,
    *,
    adjust: Callable[[Snapshot], Snapshot] | None = None,
) -> StatusReport:
    """Given the runtime and a time (default now), return the dataset table and every
    finding, judged from one catalog snapshot. With a year (that is over), judge that whole
    year: at its last instant, with every record known now (rules.evaluate.evaluate_year).
    `adjust` (the report's: actions/report_proof.py) changes the snapshot before it is judged.
    Raise InputError for a year that is not over or given together with a time."""
    if year is not None and at is not None:
        raise InputError("command line", ["--year and --at: give one of them"])
    now = datetime.now(UTC)
    moment = year_end(year) if year is not None else at or now
    pack, calendar = runtime.pack, runtime.calendar
    model = runtime.config.model
    if year is not None:
        snapshot = read_catalog(runtime.catalog)
        snapshot = adjust(snapshot) if adjust else snapshot
        findings = evaluate_year(model, pack, calendar, snapshot, year, now)
    else:  # copies bounded by what is held at `moment` (rules/judged.py)
        with runtime.catalog.begin() as connection:
            cutoff = model.calendar.business_date_cutoff_hour
            snapshot = judged_snapshot(connection, pack, moment.timestamp(), calendar, cutoff)
        snapshot = adjust(snapshot) if adjust else snapshot
        findings = evaluate_all(model, pack, calendar, snapshot, moment)
    rows = collect_dataset_status(runtime, moment.timestamp())
    known = now.timestamp() if year is not None else None
    network = (
        network_status(model, snapshot.network, moment.timestamp(), known)
        if runtime.config.model.network.paths
        else []
    )
    return StatusReport(
        moment,
        rows,
        findings,
        calendar.source_description(),
        f"{pack.source} (sha256 {pack.sha256[:16]})",
        network,
        year,
    )


def rule_findings(
    runtime: Runtime,
    rule_ids: Sequence[str],
    pending: Callable[[Connection], None] | None = None,
) -> list[Finding]:
    """Return the current findings of the given rules, judged exactly as `status` judges them
    (a package that states a verdict takes it from here, never from its own arithmetic).

    `pending` writes a verdict not yet committed (a check or drill whose evidence does not
    exist yet): the rules judge the catalog with it inside one transaction that is then rolled
    back, so the verdict is committed only together with its evidence and a process killed
    in between leaves nothing counted (docs/crash-safety.md)."""
    with runtime.catalog.engine.connect() as connection, connection.begin() as transaction:
        if pending is not None:
            pending(connection)
        snapshot = read_snapshot(connection)
        transaction.rollback()
    model, pack, calendar = runtime.config.model, runtime.pack, runtime.calendar
    findings = evaluate_all(model, pack, calendar, snapshot, datetime.now(UTC))
    return [f for f in findings if f.rule in rule_ids]
