"""`drctl verify --recheck`: the re-check after remediation of requirements.md A5.

A bad point stays bad for good. What a re-check closes is the *incident*: the open integrity
failures of a dataset. For each dataset with open failures, the newest good (not bad) point
finished after its newest bad point is restored into the verification enclave from every store
holding a present copy, exactly as a validity check does (verify_sample.check_item). When every
copy passes (a copy retention removed while it was checked is not judged, see
actions/removed_copies.py; at least one must pass), the dataset's failures are resolved (by this
re-check's id): its rules stop being non-compliant because of them, `verify --all` lists the old
point as retired, and `dr_recovery_points_bad` drops. A copy that fails marks that point bad too
(evidence included) and the incident stays open. A dataset without a newer good point cannot be
re-checked yet: back it up first. The re-check writes a `verify` evidence package and a
`verifications` row of kind `recheck` (it does not count toward the 30-day clock: it is not a
10 % sample).

Exit: 0 when every open incident was resolved (or there was none); 1 otherwise; 3 when a host
or store failed before any data was compared.
"""

from __future__ import annotations

import logging
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator import __version__
from orchestrator.actions.bad_points import (
    raise_found_before_abort,
    report_failures,
)
from orchestrator.actions.evidence_setup import prepare_evidence, write_site_package
from orchestrator.actions.removed_copies import REMOVED
from orchestrator.actions.verify_enclave import (
    check_enclave_apart,
    enclave_site,
    journal_enclave,
    wipe_journalled,
)
from orchestrator.actions.verify_points import ItemResult, check_item, item_failures
from orchestrator.errors import ExitCode
from orchestrator.model import catalog as cat
from orchestrator.model import integrity, schema
from orchestrator.model.plan import PlanItem
from orchestrator.runtime import Runtime
from orchestrator.timefmt import iso_utc, sortable_id

logger = logging.getLogger(__name__)


@dataclass
class Incident:
    system: str
    dataset: str
    bad_points: list[str]
    point: str | None = None  # the newer good point re-checked
    items: list[PlanItem] = field(default_factory=list)  # one per store holding a copy
    results: list[ItemResult] = field(default_factory=list)
    reason: str = ""

    @property
    def resolved(self) -> bool:
        """Every copy passed, but those retention removed while they were checked (not
        judged), and at least one passed."""
        return (
            bool(self.items)
            and len(self.results) == len(self.items)
            and all(r.status in ("passed", "removed") for r in self.results)
            and any(r.status == "passed" for r in self.results)
        )


@dataclass
class RecheckOutcome:
    recheck_id: str
    incidents: list[Incident]
    wipe: dict[str, Any] = field(default_factory=dict)
    evidence_path: str | None = None

    @property
    def exit_code(self) -> ExitCode:
        ok = all(incident.resolved for incident in self.incidents)
        return ExitCode.OK if ok else ExitCode.CHECK_FAILED


def plan_incidents(runtime: Runtime) -> list[Incident]:
    """Return the datasets with open failures and, for each, the copies of the newest good
    point newer than its bad ones (none: the reason)."""
    with runtime.catalog.begin() as connection:
        grouped = integrity.open_incidents(integrity.list_failures(connection, open_only=True))
        points = {row.id: row for row in cat.list_recovery_points(connection)}
        copies = cat.list_copies(connection)
    incidents = []
    for (system, dataset), rows in sorted(grouped.items()):
        bad = sorted({row.recovery_point_id for row in rows})
        newest_bad = max((points[p].finished_at for p in bad if p in points), default=0.0)
        newer = [
            p
            for p in points.values()
            if (p.system, p.dataset) == (system, dataset)
            and p.status == "complete"
            and p.finished_at > newest_bad
        ]
        incident = Incident(system, dataset, bad)
        if not newer:
            incident.reason = "no good recovery point newer than the bad one: back it up first"
            incidents.append(incident)
            continue
        point = max(newer, key=lambda p: (p.finished_at, p.id))
        incident.point = point.id
        stores = sorted(
            c.store for c in copies if c.recovery_point_id == point.id and c.status == "present"
        )
        incident.items = [
            PlanItem(
                point.id,
                system,
                dataset,
                int(point.total_bytes),
                int(point.file_count),
                store,
                "primary" if c_site == point.source_site else "offsite",
                "recheck",
            )
            for store, c_site in _sites(copies, point.id, stores)
        ]
        if not incident.items:
            incident.reason = f"{point.id} has no present copy to re-check"
        incidents.append(incident)
    return incidents


def _sites(copies: list[Any], point: str, stores: list[str]) -> list[tuple[str, str]]:
    site = {c.store: c.site for c in copies if c.recovery_point_id == point}
    return [(store, site[store]) for store in stores]


def run_recheck(runtime: Runtime) -> RecheckOutcome:
    """Re-check every dataset with open integrity failures; resolve those that pass."""
    prepare_evidence(runtime.config)  # no scan starts that could not be evidenced (exit 2)
    recheck_id = f"recheck-{sortable_id()}"
    incidents = plan_incidents(runtime)
    outcome = RecheckOutcome(recheck_id, incidents)
    planned = [i for i in incidents if i.items]
    started = time.time()
    events: list[Path] = []
    if not planned:
        _record(runtime, outcome, started, events)
        return outcome
    enclave = enclave_site(runtime.config.model, str(runtime.config.path))
    check_enclave_apart(runtime, enclave)
    systems = {i.system for i in planned}
    # Journalled before the first restore, so a killed re-check is wiped by the next run.
    areas = journal_enclave(runtime, enclave, systems, job="verify:recheck")
    try:
        for incident in planned:
            for item in incident.items:
                begun = time.time()
                result = check_item(runtime, enclave, item, events)
                result.started_at, result.checked_at = begun, time.time()
                incident.results.append(result)
    except BaseException as error:  # the enclave is wiped on every way out
        wipe_journalled(runtime, enclave, systems, events, areas)
        _raise_found(runtime, outcome, error)  # a fault or an interrupt after a mismatch: 1
        raise
    outcome.wipe = wipe_journalled(runtime, enclave, systems, events, areas)
    try:
        _record(runtime, outcome, started, events)
    except BaseException as error:  # unrecorded or interrupted: a mismatch found stays exit 1
        _raise_found(runtime, outcome, error)
        raise
    return outcome


def _raise_found(runtime: Runtime, outcome: RecheckOutcome, error: BaseException) -> None:
    """Raise CheckFailed (exit 1) from the fault that stopped the re-check when it had found
    mismatches (bad_points.raise_found_before_abort); return otherwise."""
    raise_found_before_abort(
        runtime,
        item_failures([r for i in outcome.incidents for r in i.results]),
        error,
        detected_by=f"verify --recheck {outcome.recheck_id}",
        what=f"re-check {outcome.recheck_id}",
    )


def _record(runtime: Runtime, outcome: RecheckOutcome, started: float, events: list[Path]) -> None:
    results = [r for i in outcome.incidents for r in i.results if r.checked_at]
    finished = time.time()
    # Bad marks first and for good, with a failure package of their own written just before
    # (as a validity check's): one killed before its package keeps them through a lost
    # catalog. Resolutions are committed with the re-check's row, so it resolves nothing.
    detected_by = f"verify --recheck {outcome.recheck_id}"
    report_failures(runtime, item_failures(results), detected_by=detected_by, started=started)
    package = write_site_package(
        runtime.config,
        "verify",
        _report(runtime, outcome, started),
        {f"events/{p.name}": p for p in events if p.is_file()},
    )
    outcome.evidence_path = str(package.path)
    with runtime.catalog.begin() as connection:
        integrity.attach_evidence(
            connection, detected_by, str(package.path), package.manifest_sha256
        )
        for incident in outcome.incidents:
            if incident.resolved and incident.point:
                integrity.resolve_failures(
                    connection,
                    incident.system,
                    incident.dataset,
                    by=f"{outcome.recheck_id} ({incident.point})",
                    at=finished,
                    points=incident.bad_points,
                )
                cat.mark_recovery_point(connection, incident.point, last_verified_at=finished)
        for result in results:
            connection.execute(
                schema.verification_items.insert().values(
                    verification_id=outcome.recheck_id,
                    recovery_point_id=result.item.recovery_point,
                    store=result.item.store,
                    status=result.status,
                    checked_at=result.checked_at,
                    detail={"reason": "recheck", "mismatches": result.mismatches},
                )
            )
        connection.execute(
            schema.verifications.insert().values(
                id=outcome.recheck_id,
                kind="recheck",
                started_at=started,
                finished_at=finished,
                status="passed" if outcome.exit_code == ExitCode.OK else "failed",
                counted=False,
                sample_points=len(results),
                evidence_path=str(package.path),
                evidence_manifest_sha256=package.manifest_sha256,
                detail={"incidents": [incident_dict(i) for i in outcome.incidents]},
            )
        )


def incident_dict(incident: Incident) -> dict[str, Any]:
    return {
        "system": incident.system,
        "dataset": incident.dataset,
        "bad_points": incident.bad_points,
        "rechecked_point": incident.point,
        "resolved": incident.resolved,
        "reason": incident.reason,
        "copies": [
            {"store": r.item.store, "status": r.status, "mismatches": r.mismatches}
            for r in incident.results
        ],
    }


def _report(runtime: Runtime, outcome: RecheckOutcome, started: float) -> dict[str, Any]:
    resolved = sum(i.resolved for i in outcome.incidents)
    return {
        "kind": "verify",
        "id": outcome.recheck_id,
        "title": {
            "zh": "损坏恢复点整改后复查报告",
            "en": "Re-check after remediation of bad recovery points",
        },
        "outcome": "passed" if outcome.exit_code == ExitCode.OK else "failed",
        "started_at": iso_utc(started),
        "finished_at": iso_utc(time.time()),
        "summary": {
            "zh": f"复查 {len(outcome.incidents)} 个存在损坏恢复点的数据集，"
            f"{resolved} 个已由较新的恢复点通过复查而关闭。",
            "en": f"Re-checked {len(outcome.incidents)} dataset(s) with bad recovery points; "
            f"{resolved} closed by a newer point that passed.",
        },
        "incidents": [incident_dict(i) for i in outcome.incidents],
        "mismatches": [m for i in outcome.incidents for r in i.results for m in r.mismatches],
        "enclave": {"wipe": outcome.wipe},
        "versions": {"orchestrator": __version__, "python": platform.python_version()},
        "accountable_person": runtime.config.model.evidence.accountable_person
        or "(not configured: evidence.accountable_person)",
    }


def describe(outcome: RecheckOutcome) -> tuple[dict[str, Any], str]:
    """Return the `--json` data and the human text of a re-check."""
    data = {
        "recheck": outcome.recheck_id,
        "incidents": [incident_dict(i) for i in outcome.incidents],
        "evidence": outcome.evidence_path,
    }
    lines = []
    for incident in outcome.incidents:
        subject = f"{incident.system}/{incident.dataset}"
        for result in incident.results:
            if result.status == "removed":
                lines.append(f"{subject} {incident.point} in {result.item.store}: {REMOVED}")
        if incident.resolved:
            lines.append(f"resolved {subject}: {incident.point} passed from every copy")
        else:
            failed = [m for r in incident.results for m in r.mismatches]
            removed = [
                f"{r.item.store}: {REMOVED}" for r in incident.results if r.status == "removed"
            ]
            why = incident.reason or "; ".join(
                [f"{m['store']}: {m['file']}: {m['kind']}" for m in failed] + removed
            )
            lines.append(f"OPEN {subject} (bad: {', '.join(incident.bad_points)}): {why}")
    if outcome.evidence_path:
        lines.append(f"evidence: {outcome.evidence_path}")
    resolved = sum(i.resolved for i in outcome.incidents)
    lines.append(f"summary: {resolved} of {len(outcome.incidents)} incident(s) resolved")
    lines.append(f"小结：{len(outcome.incidents)} 个事件中 {resolved} 个已关闭")
    return data, "\n".join(lines)
