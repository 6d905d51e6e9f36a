"""`drctl catalog rebuild`: the catalog again from the stores and the evidence alone.

The stores are the truth and the catalog is an index (DESIGN); after a lost catalog this puts
back what the stores and the signed evidence prove, and says what it could not:

- recovery points and copies: every point in every reachable store whose manifest is
  authenticated (signed by a trusted manifest key — with no catalog, an unsigned point is an
  intruder and is not recovered; one whose manifest says it is signed but whose signature is
  missing or invalid is listed as such: its store was changed, point_signature.py). A copy
  counts as verified when its manifest was written: drctl writes a manifest last, only after
  the bytes were checked at that store. The key wraps beside an authenticated point that are
  wraps of its data key (checked without a key) are recorded again (model/key_wraps.py).
- drills and sampled checks: from each evidence package in the chain that verifies against a
  trusted signer, through the `record` its report carries (packages written before records
  existed are listed as not recovered).
- bad marks and their closing: the mismatches of every trusted package that mark a point bad
  (verify_problems.evidence_marks_bad: a scan's and a validity check's findings alike, not an
  intruder or an S3 version drift, which a scan reports without marking), then the incidents a
  re-check closed, in chain order.

Not recovered, by design: jobs, leases, scratch journals and network outages (nothing in the
stores or evidence holds them), and the S3 version ids drctl pinned (the next `verify --all`
reads the current versions; the originals stay locked). Running it twice changes nothing the
second time: every row is looked up before it is added.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select, update

from orchestrator.actions.catalog_age import holds_items, holds_record
from orchestrator.actions.evidence_setup import pinned_retired, pinned_trust
from orchestrator.actions.point_keys import KEYS_DIR, held_wraps
from orchestrator.actions.point_trust import BrokenSignature, Intruder, OpenedPoint, open_point
from orchestrator.actions.verify_problems import check_wraps, evidence_marks_bad, row_differences
from orchestrator.errors import CheckFailed, OrchestratorError
from orchestrator.evidence.chain import read_chain
from orchestrator.evidence.verify import check_package
from orchestrator.integrations.stores.base import MANIFEST_NAME, Store
from orchestrator.integrations.transfer import DigestMismatch
from orchestrator.model import catalog as cat
from orchestrator.model import integrity, schema
from orchestrator.model.key_wraps import record_wraps
from orchestrator.model.manifest import Manifest
from orchestrator.runtime import Runtime
from orchestrator.timefmt import epoch_seconds

logger = logging.getLogger(__name__)
_TO_RECORD = "to its signed record"


@dataclass
class RebuildOutcome:
    """What a rebuild put back: the rows it added (counted) and the rows it set back to their
    signed records (`set_back`, each named: an edited row is not a lost one), and what it could
    not, each with why."""

    points: int = 0
    copies: int = 0
    drills: int = 0
    verifications: int = 0
    failures: int = 0
    resolved: int = 0
    set_back: list[str] = field(default_factory=list)
    not_recovered: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def epoch(text: str) -> float:
    """Given an ISO 8601 UTC time as drctl writes it (`…Z`), return epoch seconds."""
    return epoch_seconds(text)


def rebuild_catalog(runtime: Runtime) -> RebuildOutcome:
    """Rebuild the catalog from every reachable store and the evidence directory."""
    outcome = RebuildOutcome()
    for section in runtime.config.model.stores:
        try:
            store = runtime.store(section.name)
            listed = sorted(store.list_points())
        except (OrchestratorError, OSError) as error:
            outcome.unreachable.append(f"{section.name}: {error}")
            continue
        for system, dataset, point in listed:
            _recover_point(runtime, store, (system, dataset, point), outcome)
    _recover_evidence(runtime, outcome)
    return outcome


def _recover_point(
    runtime: Runtime, store: Store, label: tuple[str, str, str], outcome: RebuildOutcome
) -> None:
    system, dataset, point = label
    where = f"{store.name}: {system}/{dataset}/{point}"
    try:
        opened = open_point(runtime, store, system, dataset, point)
    except FileNotFoundError:
        outcome.not_recovered.append(f"{where}: incomplete (no manifest), never counted")
        return
    except BrokenSignature as error:  # not an unknown intruder: say what was done to it
        outcome.not_recovered.append(
            f"{where}: signature {error.kind}: {error.reason}; without the catalog nothing "
            "else vouches for this manifest, so this copy cannot be recovered (another store's "
            "copy with its signature, or a catalog backup, can)"
        )
        return
    except Intruder as error:
        outcome.not_recovered.append(f"{where}: not authenticated: {error}")
        return
    except (CheckFailed, DigestMismatch) as error:
        outcome.not_recovered.append(f"{where}: refused: {error}")
        return
    manifest = opened.manifest
    written = store.written_at(f"{opened.prefix}/{MANIFEST_NAME}")
    with runtime.catalog.begin() as connection:
        row = cat.get_recovery_point(connection, point)
        if row is not None and row_differences(row, manifest):
            _set_back(connection, point, manifest)
            outcome.set_back.append(f"recovery point {point}: to its signed manifest")
        if row is None:
            cat.record_recovery_point(
                connection,
                {
                    "id": point,
                    "system": system,
                    "dataset": dataset,
                    **_manifest_values(manifest),
                    "manifest_sha256": opened.digest,
                    "status": "complete",
                },
            )
            outcome.points += 1
        if not [row for row in cat.list_copies(connection, point) if row.store == store.name]:
            cat.record_copy(
                connection, point, store.name, store.site, written_at=written, verified_at=written
            )
            outcome.copies += 1
        record_wraps(connection, point, store.name, _sound_wraps(store, opened), written)


def _sound_wraps(store: Store, opened: OpenedPoint) -> list[str]:
    """Return the KEK ids of the key wraps beside a point that are wraps of its data key (as
    verify --all checks them, without a key): recorded again, so a later deletion is seen."""
    manifest = opened.manifest
    if manifest.encryption is None:
        return []
    refused = {problem.file for problem in check_wraps(store, "", opened.prefix, manifest)}
    side = held_wraps(store, manifest)[1:]
    return [kek_id for kek_id in side if f"{KEYS_DIR}/{kek_id}.json" not in refused]


def _recover_evidence(runtime: Runtime, outcome: RebuildOutcome) -> None:
    """Put back drills, checks, bad marks and their closing from the trusted packages, in the
    order of the chain."""
    directory = runtime.config.evidence_dir
    try:
        chain = read_chain(directory / "chain.jsonl")
    except ValueError as error:
        outcome.not_recovered.append(f"evidence chain: {error}")
        return
    trust, retired = pinned_trust(runtime.config), pinned_retired(runtime.config)
    rotated = False  # a package signed by a current key seen: retired keys trusted no more
    for entry in chain:
        package = directory / entry.name
        if not package.is_dir():
            outcome.not_recovered.append(f"evidence {entry.name}: in the chain, not on disk")
            continue
        check = check_package(package, trust, retired=retired)
        if not check.ok or (check.retired and rotated):
            problems = "; ".join(check.problems) or (
                f"signed by the retired key {check.signer_fingerprint} after the first package "
                "signed by a current key"
                if check.retired
                else "signer not trusted"
            )
            outcome.not_recovered.append(f"evidence {entry.name}: not trusted: {problems}")
            continue
        rotated = rotated or not check.retired
        report = json.loads((package / "report.json").read_text(encoding="utf-8"))
        with runtime.catalog.begin() as connection:
            _apply_report(connection, report, package, entry.manifest_sha256, outcome)


def _apply_report(
    connection: Connection,
    report: dict[str, Any],
    package: Path,
    manifest_sha256: str,
    outcome: RebuildOutcome,
) -> None:
    evidence = {"evidence_path": str(package), "evidence_manifest_sha256": manifest_sha256}
    record = report.get("record") or {}
    if record.get("table") == "drills":
        _insert_drill(connection, record, evidence, outcome)
    elif record.get("table") == "verifications":
        _insert_verification(connection, record, evidence, outcome)
    elif report.get("kind") in ("drill", "verify") and not report.get("mismatches"):
        if not str(report.get("id", "")).startswith(("all-", "recheck-")):
            outcome.not_recovered.append(
                f"evidence {package.name}: written before reports carried their catalog record"
            )
    finished = epoch(report["finished_at"]) if report.get("finished_at") else cat.now()
    # Only what the scan marked bad: an intruder, a newer S3 version or a delete marker over
    # a locked original is reported by every scan but leaves the point's own bytes intact.
    failures = [_failure(m) for m in report.get("mismatches") or [] if evidence_marks_bad(m)]
    if failures:
        detected_by = str(report.get("detected_by") or f"{report.get('kind')} {report.get('id')}")
        unmarked = _not_marked_bad(connection, {f.recovery_point_id for f in failures})
        new = integrity.record_failures(
            connection, failures, detected_by=detected_by, at=finished, **evidence
        )
        outcome.failures += len(new)
        # A point whose failure the catalog held but which was no longer marked bad was
        # edited; one whose failure was lost is marked bad with the mark added.
        unmarked -= {failure.recovery_point_id for failure in new}
        outcome.set_back += [
            f"recovery point {point}: marked bad again ({package.name})"
            for point in sorted(unmarked)
        ]
    for incident in report.get("incidents") or []:
        if incident.get("resolved"):
            outcome.resolved += integrity.resolve_failures(
                connection,
                incident["system"],
                incident["dataset"],
                by=f"verify --recheck {report.get('id')} (rebuilt)",
                at=finished,
                points=incident.get("bad_points"),  # absent in reports before they named them
            )


def _failure(mismatch: dict[str, Any]) -> integrity.Failure:
    return integrity.Failure(
        mismatch["recovery_point"],
        mismatch["system"],
        mismatch["dataset"],
        mismatch["store"],
        mismatch["file"],
        mismatch["kind"],
        mismatch["expected"],
        mismatch["actual"],
    )


def _insert_drill(
    connection: Connection,
    record: dict[str, Any],
    evidence: dict[str, str],
    outcome: RebuildOutcome,
) -> None:
    table = schema.drills
    columns = (
        "id",
        "scenario",
        "started_at",
        "finished_at",
        "status",
        "rto_seconds",
        "rpo_seconds",
        "failover_ok",
        "failback_ok",
    )
    values = {name: record.get(name) for name in columns}
    held = _held_row(connection, table, values, evidence)
    if held is False:
        outcome.set_back.append(f"drill {values['id']}: {_TO_RECORD} ({_name(evidence)})")
    if held is not None:
        return
    detail = {
        **{key: record.get(key) for key in ("kind", "system", "objectives")},
        "rebuilt_from": evidence["evidence_path"],
    }
    connection.execute(insert(table).values(**values, **evidence, detail=detail))
    outcome.drills += 1


def _insert_verification(
    connection: Connection,
    record: dict[str, Any],
    evidence: dict[str, str],
    outcome: RebuildOutcome,
) -> None:
    table = schema.verifications
    columns = (
        "id",
        "kind",
        "started_at",
        "finished_at",
        "status",
        "counted",
        "seed",
        "population_points",
        "population_bytes",
        "sample_points",
        "sample_bytes",
    )
    values = {name: record.get(name) for name in columns}
    held = _held_row(connection, table, values, evidence)
    if held is not None:
        items_held = holds_items(connection, record)
        if not items_held:  # an item edited since: the record's items replace the catalog's
            _insert_items(connection, record)
        if not (held and items_held):
            outcome.set_back.append(f"check {values['id']}: {_TO_RECORD} ({_name(evidence)})")
        return
    detail = {"rebuilt_from": evidence["evidence_path"]}
    connection.execute(insert(table).values(**values, **evidence, detail=detail))
    _insert_items(connection, record)
    outcome.verifications += 1


def _insert_items(connection: Connection, record: dict[str, Any]) -> None:
    """Put a check's items as its record lists them in place of any the catalog holds (items
    left behind by a deleted check row, or edited since, are not the check's)."""
    items = schema.verification_items
    connection.execute(delete(items).where(items.c.verification_id == record["id"]))
    for item in record.get("items") or []:
        connection.execute(
            insert(schema.verification_items).values(
                verification_id=record["id"], **item, detail={"rebuilt": True}
            )
        )
        if item["status"] == "passed":
            cat.mark_recovery_point(
                connection, item["recovery_point_id"], last_verified_at=item["checked_at"]
            )


def _held_row(
    connection: Connection, table: Table, values: dict[str, Any], evidence: dict[str, str]
) -> bool | None:
    """Return None when the catalog holds no row of the record's id (insert it); True when its
    row holds the signed record's values; False after setting a row edited since (a failed
    check made `passed`, a drill's RTO shortened: catalog_age.py) or whose outcome was never
    written (a drill killed after its package, recorded `aborted`) back to them, with the
    package that holds the record."""
    row = connection.execute(select(table).where(table.c.id == values["id"])).first()
    if row is None:
        return None
    if holds_record(row._mapping, values):
        return True
    connection.execute(update(table).where(table.c.id == values["id"]).values(**values, **evidence))
    return False


def _name(evidence: dict[str, str]) -> str:
    return Path(evidence["evidence_path"]).name


def _not_marked_bad(connection: Connection, points: set[str]) -> set[str]:
    """Return the points of `points` the catalog holds and does not mark bad."""
    table = schema.recovery_points.c
    query = select(table.id).where(table.id.in_(sorted(points)), table.status != "bad")
    return {row.id for row in connection.execute(query)}


def _set_back(connection: Connection, point: str, manifest: Manifest) -> None:
    """Set the values a point's row took from its manifest back to the authenticated
    manifest's (a business date or time edited in the catalog, verify_problems.row_differences)."""
    table = schema.recovery_points
    connection.execute(
        update(table).where(table.c.id == point).values(**_manifest_values(manifest))
    )


def _manifest_values(manifest: Manifest) -> dict[str, Any]:
    """Return the columns of a point's row that its authenticated manifest gives."""
    return {
        "engine": manifest.engine,
        "business_date": manifest.business_date,
        "started_at": epoch(manifest.started_at),
        "finished_at": epoch(manifest.finished_at),
        "source_site": manifest.source_site,
        "source_host": manifest.source_host,
        "hash_algorithm": manifest.hash_algorithm,
        "total_bytes": manifest.total_bytes,
        "file_count": len(manifest.files),
        "cipher": manifest.encryption.cipher if manifest.encryption else None,
    }
