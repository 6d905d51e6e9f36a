"""`drctl verify --all`: record an integrity scan, mark what it found bad, hand over evidence.

The scan itself is `orchestrator.actions.verify.scan`. Then:

* every problem that shows a recovery point's bytes are not what drctl wrote (`MARKS_BAD`) marks
  that point and copy bad for good (model/integrity.py), with a failure package of its own
  written first (bad_points.report_failures, as a validity check's and a restore's);
* every open integrity failure of earlier checks is reported again, found or not (a bad point
  stays reported until `drctl verify --recheck` has verified a newer good point, A5);
* problems of points whose failures were all resolved by a re-check are listed as retired;
* a file or manifest found missing (or unreadable: gone since the listing) of a copy the
  catalog, read again, records deleted was removed by retention during the scan: not judged,
  listed as such (actions/removed_copies.py); a copy still present stays a failure;
* one `verify` evidence package holds the stores scanned and unreachable and every problem
  with both values; the catalog gets a `verifications` row of kind `all` (never counted).

Exit: 3 when no store could be scanned (nothing was compared); else 1 when anything is bad,
open, an intruder, drifted or unreachable; else 0.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from orchestrator.actions.bad_points import raise_found_before_abort, report_failures
from orchestrator.actions.evidence_setup import evidence_problems
from orchestrator.actions.removed_copies import removed_by_retention, removed_note
from orchestrator.actions.verify import ScanResult, scan
from orchestrator.actions.verify_all_evidence import write_scan_evidence
from orchestrator.actions.verify_problems import Problem
from orchestrator.errors import CheckFailed, ExitCode, InfrastructureError, InputError
from orchestrator.evidence.package import Package
from orchestrator.model import catalog as cat
from orchestrator.model import integrity, schema
from orchestrator.model.catalog_errors import catalog_problem, is_catalog_error
from orchestrator.model.integrity import Failure
from orchestrator.runtime import Runtime
from orchestrator.timefmt import iso_utc, sortable_id

logger = logging.getLogger(__name__)


@dataclass
class VerifyAllOutcome:
    verification_id: str
    scan: ScanResult
    open_failures: list[dict[str, Any]] = field(default_factory=list)  # not found this time
    retired: list[Problem] = field(default_factory=list)
    evidence_path: str | None = None
    removed: list[str] = field(default_factory=list)  # copies retention removed meanwhile

    @property
    def problems(self) -> list[Problem]:
        return self.scan.problems

    @property
    def exit_code(self) -> ExitCode:
        if not self.scan.scanned:
            return ExitCode.INFRASTRUCTURE
        if self.scan.problems or self.scan.unreachable or self.open_failures:
            return ExitCode.CHECK_FAILED
        return ExitCode.OK

    @property
    def ok(self) -> bool:
        return self.exit_code == ExitCode.OK


def _owners(runtime: Runtime) -> dict[str, tuple[str, str, str]]:
    """Return {point id: (system, dataset, status)} of the catalog."""
    with runtime.catalog.begin() as connection:
        return {
            row.id: (row.system, row.dataset, row.status)
            for row in cat.list_recovery_points(connection)
        }


def _split(runtime: Runtime, result: ScanResult) -> tuple[list[Failure], list[Problem]]:
    """Return the failures to record (problems marking a recorded point bad) and the problems
    of points already retired (bad, with every failure resolved by a re-check) that a failure
    recorded what they show (the store, file and kind). Anything else on a retired point — a
    file changed since, another copy tampered with — is a new finding: the store holding it
    changed after the incident was closed."""
    owners = _owners(runtime)
    with runtime.catalog.begin() as connection:
        rows = integrity.list_failures(connection)
    open_points = {row.recovery_point_id for row in rows if row.resolved_at is None}
    resolved_points = {row.recovery_point_id for row in rows if row.resolved_at is not None}
    recorded = {(row.recovery_point_id, row.store, row.file, row.kind) for row in rows}
    failures: list[Failure] = []
    retired: list[Problem] = []
    for problem in result.problems:
        owner = owners.get(problem.point_id)
        if owner is None:
            continue
        system, dataset, status = owner
        seen = (problem.point_id, problem.store, problem.file, problem.kind) in recorded
        if status == "bad" and problem.point_id in resolved_points - open_points and seen:
            retired.append(problem)
            continue
        if problem.marks_bad:
            failures.append(
                Failure(
                    problem.point_id,
                    system,
                    dataset,
                    problem.store,
                    problem.file,
                    problem.kind,
                    problem.expected,
                    problem.actual,
                )
            )
    result.problems = [p for p in result.problems if p not in retired]
    return failures, retired


GONE_KINDS = frozenset({"missing", "unreadable"})  # what a copy removed meanwhile looks like


def _spare_removed(runtime: Runtime, result: ScanResult) -> list[str]:
    """Drop the missing or unreadable files of copies the catalog, read again now, records
    deleted (retention removed them during the scan): they are not judged. Return one line
    per such copy; a copy still present keeps its problems."""
    gone = sorted({(p.store, p.recovery_point) for p in result.problems if p.kind in GONE_KINDS})
    spared = {
        (store, label)
        for store, label in gone
        if removed_by_retention(runtime, label.rsplit("/", 1)[-1], store)
    }
    result.problems = [
        p
        for p in result.problems
        if p.kind not in GONE_KINDS or (p.store, p.recovery_point) not in spared
    ]
    return [removed_note("verify --all", label, store) for store, label in sorted(spared)]


def _still_open(runtime: Runtime, result: ScanResult) -> list[dict[str, Any]]:
    """Return the open failures of earlier checks this scan did not find again."""
    found = {(p.point_id, p.store, p.file) for p in result.problems}
    with runtime.catalog.begin() as connection:
        rows = integrity.list_failures(connection, open_only=True)
    return [
        {
            "recovery_point": row.recovery_point_id,
            "system": row.system,
            "dataset": row.dataset,
            "store": row.store,
            "file": row.file,
            "kind": row.kind,
            "expected": row.expected,
            "actual": row.actual,
            "detected_at": iso_utc(row.detected_at),
            "detected_by": row.detected_by,
            "evidence": row.evidence_path,
        }
        for row in rows
        if (row.recovery_point_id, row.store, row.file) not in found
    ]


def run_verify_all(runtime: Runtime, *, workers: int | None = None) -> VerifyAllOutcome:
    """Scan every reachable store; record the scan, mark bad points, write the evidence."""
    # No scan starts that could not be evidenced (exit 2). Offline: the anchor store may be one
    # of the stores this scan is about to find unreachable, and that is its finding to report.
    problems = evidence_problems(runtime.config)
    if problems:
        raise InputError(str(runtime.config.path), problems)
    started = cat.now()
    verification_id = f"all-{sortable_id()}"
    detected_by = f"verify --all {verification_id}"
    result = ScanResult()
    try:
        scan(runtime, workers=workers, result=result)
        outcome = _record(runtime, verification_id, result, detected_by, started)
    except BaseException as error:
        # Interrupted (Ctrl-C, SIGTERM) or the catalog failed after the scan had found
        # mismatches: still a failed check, exit 1 naming them (bad_points).
        raise_found_before_abort(
            runtime,
            _found_so_far(runtime, result),
            error,
            detected_by=detected_by,
            what=f"integrity scan {verification_id}",
        )
        _raise_reported_before_abort(result, error, f"integrity scan {verification_id}")
        raise
    for problem in result.problems:
        logger.error("verify --all: %s", problem.describe())
    logger.info(
        "verify --all: %d recovery points, %d files, %d bytes, %d problem(s), %d store(s) "
        "unreachable, %d incomplete ignored",
        result.points,
        result.files,
        result.bytes,
        len(result.problems),
        len(result.unreachable),
        len(result.incomplete),
    )
    return outcome


# What a scan reports without marking a point bad, yet is a failed check: bytes or versions
# in a store that drctl did not write there, a catalog row that its manifest contradicts (an
# unreadable file may be retention's removal: left out).
TAMPER_KINDS = frozenset(
    {"intruder", "overwritten", "delete-marker", "version-missing", "signature", "catalog"}
)


def _raise_reported_before_abort(result: ScanResult, error: BaseException, what: str) -> None:
    """A scan stopped (interrupt or fault) after finding only problems that mark no point bad:
    an intruder, an overwritten object or a missing signature is still a failed check (exit 1,
    as the finished scan's), named here since nothing records it; return when there are none.
    Called after _found_so_far, whose _split has dropped the problems of retired points."""
    if isinstance(error, CheckFailed):
        return
    found = [problem for problem in result.problems if problem.kind in TAMPER_KINDS]
    if not found:
        return
    stop = "interrupted" if not isinstance(error, Exception) else "aborted"
    named = "; ".join(problem.describe() for problem in found)
    raise CheckFailed(
        f"{what} {stop} after finding {len(found)} problem(s) that no store of drctl's should "
        f"show: {named}; not recorded: run `drctl verify --all` again to record them and "
        f"write their evidence ({' '.join(str(error).split()) or type(error).__name__})"
    ) from error


def _found_so_far(runtime: Runtime, result: ScanResult) -> list[Failure]:
    """Return the failures a scan stopped part-way had found: its problems that mark a point
    bad, of points the catalog records (read from the problems alone when the catalog cannot
    be read)."""
    try:
        return _split(runtime, result)[0]
    except Exception as error:  # noqa: BLE001 - the catalog's errors only
        if not is_catalog_error(error):
            raise
    failures = []
    for problem in result.problems:
        system, dataset, point = (problem.recovery_point.split("/") + ["", "", ""])[:3]
        if problem.marks_bad:
            where = (point, system, dataset, problem.store, problem.file)
            failures.append(Failure(*where, problem.kind, problem.expected, problem.actual))
    return failures


def _record(
    runtime: Runtime, verification_id: str, result: ScanResult, detected_by: str, started: float
) -> VerifyAllOutcome:
    """Record a finished scan: its bad marks, evidence and `verifications` row."""
    removed = _spare_removed(runtime, result)
    failures, retired = _split(runtime, result)
    outcome = VerifyAllOutcome(verification_id, result, _still_open(runtime, result), retired)
    outcome.removed = removed
    package = _evidence(runtime, outcome, failures, detected_by, started)
    try:
        _insert_scan(runtime, outcome, package, detected_by, started)
    except Exception as error:
        if package is None or not is_catalog_error(error):
            raise
        verdict = "passed" if outcome.ok else "failed"
        raise InfrastructureError(
            f"{detected_by}: its evidence package {package.path} is written and says the scan "
            f"{verdict}, but the scan is not recorded in the catalog "
            f"({catalog_problem(error, runtime.catalog.url)}); the package stands as its "
            "record; run `drctl verify --all` again to record a scan"
        ) from error
    return outcome


def _insert_scan(
    runtime: Runtime,
    outcome: VerifyAllOutcome,
    package: Package | None,
    detected_by: str,
    started: float,
) -> None:
    """Attach the scan's evidence to the failures it recorded and insert its row."""
    result, verification_id = outcome.scan, outcome.verification_id
    with runtime.catalog.begin() as connection:
        if package is not None:
            integrity.attach_evidence(
                connection, detected_by, str(package.path), package.manifest_sha256
            )
        connection.execute(
            schema.verifications.insert().values(
                id=verification_id,
                kind="all",
                started_at=started,
                finished_at=cat.now(),
                status="passed" if outcome.ok else "aborted" if not result.scanned else "failed",
                counted=False,
                sample_points=result.points,
                sample_bytes=result.bytes,
                evidence_path=str(package.path) if package else None,
                evidence_manifest_sha256=package.manifest_sha256 if package else None,
                detail=_detail(outcome),
            )
        )


def _evidence(
    runtime: Runtime,
    outcome: VerifyAllOutcome,
    failures: list[Failure],
    detected_by: str,
    started: float,
) -> Package | None:
    """Record the scan's bad marks and write its evidence; return its package (None when it
    scanned nothing). Bad marks first and for good, each with a failure package of its own
    written just before (as a validity check's): a scan killed before its own package leaves
    what it found bad in the catalog and in the evidence, so a catalog lost and rebuilt gets
    the marks back. Evidence that cannot be written (an unwritable directory, a full disk)
    after the scan found problems does not turn them into a fault: CheckFailed (exit 1) names
    them, the points already marked bad, and the failure package when it was written."""
    written: Package | None = None
    try:
        written = report_failures(runtime, failures, detected_by=detected_by, started=started)
        if not outcome.scan.scanned:
            return None
        package = write_scan_evidence(runtime, outcome, started)
    except (OSError, ValueError, InputError) as error:
        if outcome.exit_code is not ExitCode.CHECK_FAILED:
            raise
        named = [problem.describe() for problem in outcome.problems]
        named += [
            f"store {store} unreachable ({why})" for store, why in outcome.scan.unreachable.items()
        ]
        if outcome.open_failures:
            named.append(f"{len(outcome.open_failures)} bad point(s) still open")
        marked = "the points with a mismatch are marked bad"
        if written is not None:
            marked += f", their failure package written: {written.path}"
        raise CheckFailed(
            f"{detected_by}: {'its own ' if written else ''}evidence not written ({error}) "
            f"after the scan failed: {'; '.join(named)}; {marked}"
        ) from error
    outcome.evidence_path = str(package.path)
    return package


def _detail(outcome: VerifyAllOutcome) -> dict[str, Any]:
    result = outcome.scan
    return {
        "problems": [p.describe() for p in result.problems],
        "incomplete": result.incomplete,
        "not_in_catalog": result.not_in_catalog,
        "scanned": result.scanned,
        "unreachable": result.unreachable,
        "open_failures": outcome.open_failures,
        "retired": [p.describe() for p in outcome.retired],
        "removed_by_retention": outcome.removed,
    }
