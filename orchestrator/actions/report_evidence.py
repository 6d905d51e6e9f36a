"""The period of `drctl report` and the records each rule's findings rest on in it.

A period is a calendar year (`--year`) or two dates (`--from`, `--to`), Asia/Shanghai days.
The evidence listed for a rule comes from the sources playbooks/rules/requirements.yml names
for it (jobs of a kind, verifications or drills with their package and manifest digest,
recorded switchover plans), plus the dr.yml attestations naming the rule (with the sha256 of
the attested document when it is a readable file). Nothing here judges: it lists.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from orchestrator.config import LoadedConfig
from orchestrator.errors import InputError
from orchestrator.evidence.chain import read_chain
from orchestrator.evidence.layout import CHAIN
from orchestrator.model import schema
from orchestrator.model.catalog import Catalog
from orchestrator.rules.requirements import Catalogue
from orchestrator.rules.timezone import SHANGHAI
from orchestrator.timefmt import epoch_seconds


@dataclass(frozen=True)
class Period:
    """The days a report covers (both included) and whether it is a whole calendar year."""

    start: date
    end: date
    year: int | None = None

    @property
    def start_ts(self) -> float:
        """Return the first instant of the period, as UTC epoch seconds."""
        return datetime.combine(self.start, time(0), SHANGHAI).timestamp()

    @property
    def end_ts(self) -> float:
        """Return the instant the period ends (24:00 of its last day), as UTC epoch seconds."""
        return datetime.combine(self.end + timedelta(days=1), time(0), SHANGHAI).timestamp()

    def covers(self, moment: float | None) -> bool:
        """Return whether a UTC epoch time lies in the period."""
        return moment is not None and self.start_ts <= moment < self.end_ts

    def to_dict(self) -> dict[str, Any]:
        """Return the period as JSON-able data."""
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "year": self.year}


def parse_period(year: int | None, start: date | None, end: date | None, today: date) -> Period:
    """Given --year or --from/--to and today's Asia/Shanghai date, return the period. Raise
    InputError (exit 2) for both or neither, half a range, a reversed range or a future end."""
    if year is not None and (start or end):
        raise InputError("command line", ["--year and --from/--to: give one of them"])
    if year is None and not (start and end):
        raise InputError("command line", ["give --year YYYY, or both --from and --to"])
    if year is not None:
        if year > today.year:
            raise InputError("command line", [f"--year {year}: the year has not begun"])
        return Period(date(year, 1, 1), min(date(year, 12, 31), today), year)
    assert start is not None and end is not None
    problems = []
    if start > end:
        problems.append(f"--from {start} is after --to {end}")
    if end > today:
        problems.append(f"--to {end}: the period has not ended (today is {today})")
    if problems:
        raise InputError("command line", problems)
    return Period(start, end)


def chain_packages(config: LoadedConfig, period: Period) -> list[dict[str, Any]]:
    """Return every evidence package of the site's chain written in the period: name, kind,
    time and manifest digest."""
    rows = []
    for entry in read_chain(config.evidence_dir / CHAIN):
        created = epoch_seconds(entry.created_at)
        if period.covers(created):
            rows.append(
                {
                    "name": entry.name,
                    "kind": entry.kind,
                    "created_at": entry.created_at,
                    "manifest_sha256": entry.manifest_sha256,
                }
            )
    return rows


def rule_evidence(
    config: LoadedConfig, catalog: Catalog, catalogue: Catalogue, period: Period
) -> dict[str, dict[str, Any]]:
    """Return, per rule of the evidence map, the records of the period its findings rest on;
    for any other rule with attestations (the attested clauses), those attestations."""
    with catalog.begin() as connection:
        sources = {
            "verifications": _verifications(connection, period),
            "drills": _drills(connection, period),
            "switchover_plans": _plans(connection, period),
        }
        jobs = _jobs(connection, period)
    evidence: dict[str, dict[str, Any]] = {}
    for rule_id, names in catalogue.evidence.items():
        listed: dict[str, Any] = {}
        for name in names:
            if name.startswith("jobs:"):
                kind = name.removeprefix("jobs:")
                listed.setdefault("jobs", []).extend(j for j in jobs if j["kind"] == kind)
            else:
                listed[name] = sources[name]
        listed["attestations"] = _attestations(config, rule_id, period)
        evidence[rule_id] = listed
    for rule_id in sorted({a.rule for a in config.model.attestations} - evidence.keys()):
        evidence[rule_id] = {"attestations": _attestations(config, rule_id, period)}
    return evidence


def _package(path: str | None, digest: str | None) -> dict[str, Any] | None:
    return {"name": Path(path).name, "manifest_sha256": digest} if path else None


def _verifications(connection: Connection, period: Period) -> list[dict[str, Any]]:
    table = schema.verifications
    return [
        {
            "id": row.id,
            "kind": row.kind,
            "status": row.status,
            "counted": bool(row.counted),
            "finished_at": row.finished_at,
            "package": _package(row.evidence_path, row.evidence_manifest_sha256),
        }
        for row in connection.execute(select(table).order_by(table.c.started_at))
        if period.covers(row.finished_at or row.started_at)
    ]


def _drills(connection: Connection, period: Period) -> list[dict[str, Any]]:
    table = schema.drills
    return [
        {
            "id": row.id,
            "scenario": row.scenario,
            "status": row.status,
            "failover_ok": row.failover_ok,
            "failback_ok": row.failback_ok,
            "finished_at": row.finished_at,
            "package": _package(row.evidence_path, row.evidence_manifest_sha256),
        }
        for row in connection.execute(select(table).order_by(table.c.started_at))
        if period.covers(row.finished_at or row.started_at)
    ]


def _plans(connection: Connection, period: Period) -> list[dict[str, Any]]:
    table = schema.switchover_plans
    return [
        {
            "id": row.id,
            "system": row.system,
            "window": f"{row.start_date} – {row.end_date}",
            "notice_date": row.notice_date,
            "status": row.status,
            "recorded_by": row.recorded_by,
        }
        for row in connection.execute(select(table).order_by(table.c.recorded_at))
        if period.covers(row.recorded_at)
        or period.start.isoformat() <= row.start_date <= period.end.isoformat()
    ]


def _jobs(connection: Connection, period: Period) -> list[dict[str, Any]]:
    table = schema.jobs
    return [
        {"id": row.id, "kind": row.kind, "subject": row.subject, "state": row.state}
        for row in connection.execute(select(table).order_by(table.c.id))
        if period.covers(row.started_at)
    ]


def _attestations(config: LoadedConfig, rule_id: str, period: Period) -> list[dict[str, Any]]:
    rows = []
    for attestation in config.model.attestations:
        if attestation.rule != rule_id or attestation.date > period.end:
            continue
        if attestation.expires < period.start:
            continue
        document = config.resolve(attestation.document)
        rows.append(
            {
                "subject": attestation.subject,
                "document": attestation.document,
                "date": attestation.date.isoformat(),
                "expires": attestation.expires.isoformat(),
                "attester": attestation.attester,
                "sha256": _digest(document),
            }
        )
    return rows


def _digest(path: Path) -> str | None:
    try:
        if path.is_file():
            return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
    return None
