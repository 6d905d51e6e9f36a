"""A mismatch is a failed check: record the point bad for good and hand the auditor evidence.

Every path that compares data — `verify`, `verify --all`, restore (drills, failover),
`copy-offsite` — ends a mismatch here: `report_failures` writes a `verify` evidence package
naming each recovery point, store, file or table and both digests, then records the failures in
the catalog (model/integrity.py), which marks each point and copy `bad`. The dataset's rules
turn non-compliant and `dr_recovery_points_bad` counts the point until `drctl verify --recheck`
verifies a newer good point (requirements.md A5).
"""

from __future__ import annotations

import logging
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select

from orchestrator import __version__
from orchestrator.actions.evidence_setup import write_site_package
from orchestrator.errors import CatalogUnwritten, CheckFailed, InputError
from orchestrator.evidence.package import Package
from orchestrator.model import catalog as cat
from orchestrator.model import integrity, schema
from orchestrator.model.catalog_errors import catalog_problem, is_catalog_error
from orchestrator.model.integrity import Failure
from orchestrator.runtime import Runtime
from orchestrator.timefmt import iso_utc, sortable_id

logger = logging.getLogger(__name__)


def failure_report(
    runtime: Runtime,
    failures: Sequence[Failure],
    *,
    report_id: str,
    detected_by: str,
    started: float,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return report.json of an integrity failure package."""
    points = sorted({(f.system, f.dataset, f.recovery_point_id, f.store) for f in failures})
    return {
        "kind": "verify",
        "id": report_id,
        "title": {
            "zh": "备份数据完整性校验失败报告（恢复点已标记为损坏）",
            "en": "Backup integrity failure report (recovery points marked bad)",
        },
        "outcome": "failed",
        "started_at": iso_utc(started),
        "finished_at": iso_utc(cat.now()),
        "summary": {
            "zh": f"{detected_by} 发现 {len(failures)} 处不一致，涉及 {len(points)} 个恢复点副本；"
            "这些恢复点永久标记为损坏，不再计为备份、不再用于恢复，"
            "直至较新的恢复点通过复查（drctl verify --recheck）前相关规则判为不符合。",
            "en": f"{detected_by} found {len(failures)} mismatch(es) in {len(points)} "
            "recovery point copies; these points are marked bad for good, no longer count as "
            "backups and are never restored; the dataset's rules stay non-compliant until a "
            "newer point passes a re-check (drctl verify --recheck).",
        },
        "detected_by": detected_by,
        "recovery_points": [
            {"id": point, "system": system, "dataset": dataset, "store": store, "status": "bad"}
            for system, dataset, point, store in points
        ],
        "mismatches": [failure.as_dict() for failure in failures],
        **dict(extra or {}),
        "versions": {"orchestrator": __version__, "python": platform.python_version()},
        "accountable_person": runtime.config.model.evidence.accountable_person
        or "(not configured: evidence.accountable_person)",
    }


def report_failures(
    runtime: Runtime,
    failures: Sequence[Failure],
    *,
    detected_by: str,
    started: float | None = None,
    extra: Mapping[str, Any] | None = None,
    attachments: Mapping[str, Path] | None = None,
) -> Package | None:
    """Record failures (points and copies bad), then write their evidence package and attach
    it to them.

    Return the package, or None when there is nothing to report. The marks are committed
    first: a process killed after the package was written but before the catalog held the
    marks lost them, while the next writer chained the package (evidence/recover.py) and
    nothing read its marks back. A package that cannot be written is raised after them."""
    if not failures:
        return None
    moment = cat.now()
    record_failures(runtime, failures, detected_by=detected_by, package=None, at=moment)
    for failure in failures:
        logger.error("%s: recovery point marked bad: %s", detected_by, failure.describe())
    report = failure_report(
        runtime,
        failures,
        report_id=f"integrity-{sortable_id()}",
        detected_by=detected_by,
        started=started or moment,
        extra=extra,
    )
    package = write_site_package(runtime.config, "verify", report, dict(attachments or {}))
    with runtime.catalog.begin() as connection:
        integrity.attach_evidence(
            connection, detected_by, str(package.path), package.manifest_sha256
        )
    return package


def raise_found_before_abort(
    runtime: Runtime,
    failures: Sequence[Failure],
    error: BaseException,
    *,
    detected_by: str,
    what: str,
) -> None:
    """A check (`detected_by` "verify <id>", `what` "validity check <id>") stopped by a fault
    or an interrupt after it had already found mismatches: those are still failed checks.
    Record them (points bad) and raise CheckFailed (exit 1) from the stop; return when there
    are none (a stop before any mismatch stays what it was).

    * a fault: they are recorded, then their evidence is written; evidence that cannot be
      written (the fault may be the evidence directory itself) does not hide them;
    * an interrupt (Ctrl-C, SIGTERM): they are recorded in the catalog only — writing the
      evidence may be what the interrupt stopped waiting for; the failure package the check
      wrote before the interrupt (before its own) is named when it is on disk, else the next
      `verify --all` finds them again and writes it;
    * the catalog itself failed, or fails now (locked, read-only, unreachable):
      CatalogUnwritten (exit 1) names them and says the catalog could not record them.
    """
    if not failures or isinstance(error, CheckFailed):
        return
    interrupted = not isinstance(error, Exception)
    named = "; ".join(failure.describe() for failure in failures)
    if is_catalog_error(error):  # the catalog just failed: it is not asked again
        found = f"{what} found {len(failures)} mismatch(es): {named}"
        raise _unwritten(runtime, found, error) from error
    stop = "interrupted" if interrupted else f"aborted ({' '.join(str(error).split())})"
    found = f"{what} {stop} after finding {len(failures)} mismatch(es): {named}"
    try:
        if interrupted:
            logger.warning("%s: recording the mismatch(es) it found first", found)
            by = f"{detected_by} (interrupted)"
            record_failures(runtime, failures, detected_by=by, package=None, at=cat.now())
            evidence = written_before(runtime, detected_by) or (
                "not written (interrupted): the next `drctl verify --all` writes it"
            )
        else:
            package = report_failures(runtime, failures, detected_by=f"{detected_by} ({stop})")
            evidence = str(package.path) if package else "(none)"
    except (OSError, ValueError, InputError) as unwritten:  # recorded bad before it raised
        evidence = f"not written ({unwritten})"
    except Exception as unrecorded:  # noqa: BLE001 - only the catalog's errors are caught
        if not is_catalog_error(unrecorded):
            raise
        raise _unwritten(runtime, found, unrecorded) from error
    raise CheckFailed(f"{found}; the points are marked bad; evidence: {evidence}") from error


def written_before(runtime: Runtime, detected_by: str) -> str:
    """Return the failure packages on disk that the check `detected_by` wrote for what it
    found (report_failures writes them before the check's own package), joined; empty when
    there is none."""
    table = schema.integrity_failures.c
    query = select(table.evidence_path).where(
        table.detected_by == detected_by, table.evidence_path.is_not(None)
    )
    with runtime.catalog.begin() as connection:
        paths = {str(row.evidence_path) for row in connection.execute(query)}
    return ", ".join(sorted(path for path in paths if Path(path).is_dir()))


def _unwritten(runtime: Runtime, found: str, error: BaseException) -> CatalogUnwritten:
    """Return the failed check whose mismatches the catalog could not record."""
    problem = catalog_problem(error, runtime.catalog.url)
    return CatalogUnwritten(
        f"{found}; the catalog could not record the check's result (the points may not be "
        f"marked bad): {problem}; then run `drctl verify --all`, which finds them again and "
        "marks them bad"
    )


def record_failures(
    runtime: Runtime,
    failures: Sequence[Failure],
    *,
    detected_by: str,
    package: Package | None,
    at: float,
) -> list[Failure]:
    """Record failures in the catalog with their evidence package; return the new ones."""
    with runtime.catalog.begin() as connection:
        return integrity.record_failures(
            connection,
            failures,
            detected_by=detected_by,
            at=at,
            evidence_path=str(package.path) if package else None,
            evidence_manifest_sha256=package.manifest_sha256 if package else None,
        )
