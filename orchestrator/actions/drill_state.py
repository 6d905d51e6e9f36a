"""What the steps of one drill share, and the measurements made from it.

RTO = disaster declared → failover verified. A sandbox drill declares the disaster when it
destroys production; a test failover declares it when it has fingerprinted production's live
state, right before it restores. RPO = declaration − the snapshot start of the oldest recovery
point restored; rows behind = production's live rows − the restored rows, per table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.actions.restore import RestoreOutcome
from orchestrator.model.drill_targets import DrillTarget
from orchestrator.model.manifest import manifest_digest, parse_manifest
from orchestrator.model.scenario import Scenario
from orchestrator.runtime import Runtime
from orchestrator.timefmt import epoch_seconds, iso_utc

# What "production unchanged" means in a test failover's evidence (docs/operators.md).
COMPARED = (
    "per dataset, before and after: whether it exists; per table its row count and the digest "
    "of its rows (a file tree: its listing and file digests); per database the schema digest "
    "of each kind of object (relations, columns, indexes, views, functions, sequences, "
    "constraints, triggers, types, privileges ...). Not compared: sequence values, statistics, "
    "sessions, anything outside the system's datasets"
)


@dataclass(frozen=True)
class SiteFingerprint:
    """A system's live datasets at a site, fingerprinted at one moment."""

    site: str
    taken_at: float
    datasets: Mapping[str, Mapping[str, Any]]  # {dataset: {exists, fingerprint, invariants}}

    def rows(self, dataset: str, table: str) -> int | None:
        objects = self.datasets.get(dataset, {}).get("fingerprint", {}).get("objects", {})
        value = objects.get(table, {}).get("rows")
        return int(value) if value is not None else None

    def as_record(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "taken_at": iso_utc(self.taken_at),
            "datasets": {
                name: {
                    "exists": result.get("exists", True),
                    "objects": dict(result.get("fingerprint", {}).get("objects", {})),
                    "invariants": dict(result.get("invariants", {})),
                    **({"schema": result["schema"]} if "schema" in result else {}),
                }
                for name, result in sorted(self.datasets.items())
            },
        }


@dataclass
class DrillState:
    """What the steps of one drill share: timings, recovery points, events, verdicts."""

    scenario: Scenario
    runtime: Runtime
    drill_id: str = ""
    events: list[Path] = field(default_factory=list)
    manifests: dict[str, bytes] = field(default_factory=dict)
    ledger_dataset: str | None = None
    ledger_table: str = "postings"
    disaster_time: float | None = None
    postings_at_disaster: int | None = None
    failover: RestoreOutcome | None = None
    failover_verified_time: float | None = None
    failover_ok: bool = False
    failback_ok: bool = False
    mismatches: list[dict[str, str]] = field(default_factory=list)
    # a test failover: drill-scoped targets (recorded before they are created), production's
    # fingerprint before and after, the wipe
    targets: list[DrillTarget] = field(default_factory=list)
    production_before: SiteFingerprint | None = None
    production_after: SiteFingerprint | None = None
    production_changes: list[str] = field(default_factory=list)
    production_unread: list[str] = field(default_factory=list)  # absent before and after
    wipe: dict[str, Any] | None = None
    # the scratch-area journal rows of the drill targets, by site (drill_wipe.journal_targets)
    areas: dict[str, int] = field(default_factory=dict)
    # a switchover: the recovery points cleared before it started, by dataset
    cleared_points: Mapping[str, str] | None = None
    # the operator's --allow-replica-writes: restores may write into a server feeding replicas
    allow_replica_writes: bool = False

    def attachments(self) -> dict[str, Path]:
        work = self.runtime.work_dir / "manifests"
        work.mkdir(parents=True, exist_ok=True)
        files = {f"events/{path.name}": path for path in self.events if path.is_file()}
        for point, data in self.manifests.items():
            target = work / f"{point}.json"
            target.write_bytes(data)
            files[f"manifests/{point}.json"] = target
        return files

    def point_rows(self) -> list[dict[str, Any]]:
        """Return one row per recovery point the drill wrote (every manifest it attaches),
        oldest first, marking those the failover restored."""
        restored = {d.recovery_point_id for d in self.failover.datasets} if self.failover else set()
        rows = []
        for point, data in self.manifests.items():
            manifest = parse_manifest(data)
            rows.append(
                {
                    "id": point,
                    "system": manifest.system,
                    "dataset": manifest.dataset,
                    "business_date": manifest.business_date,
                    "finished_at": manifest.finished_at,
                    "manifest_sha256": manifest_digest(data),
                    "files": len(manifest.files),
                    "bytes": manifest.total_bytes,
                    "restored_by": "failover" if point in restored else None,
                }
            )
        return sorted(rows, key=lambda row: (row["finished_at"], row["id"]))

    def measurements(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            "mismatches": self.mismatches,
            "failover_ok": self.failover_ok,
            "failback_ok": self.failback_ok,
        }
        if self.disaster_time and self.failover_verified_time:
            values["rto_seconds"] = round(self.failover_verified_time - self.disaster_time, 3)
        if self.disaster_time and self.failover:
            snapshot = min(_epoch(d.manifest.started_at) for d in self.failover.datasets)
            values["rpo_seconds"] = round(self.disaster_time - snapshot, 3)
            values["failover_points"] = [_point_row(d) for d in self.failover.datasets]
            values.update(self._postings())
        values["points"] = self.point_rows()
        if self.production_before is not None:
            values["rows_behind"] = self._rows_behind()
            values["production"] = self._production_record()
        if self.targets:
            values["drill_targets"] = [target.as_record() for target in self.targets]
        if self.wipe is not None:
            values["wipe"] = self.wipe
        return values

    def _postings(self) -> dict[str, Any]:
        assert self.failover is not None
        ledger = next((d for d in self.failover.datasets if d.dataset == self.ledger_dataset), None)
        if ledger is None or self.postings_at_disaster is None:
            return {}
        restored = ledger.fingerprint.get("objects", {}).get(self.ledger_table, {}).get("rows")
        if restored is None:
            return {}
        return {
            "postings_at_disaster": self.postings_at_disaster,
            "postings_restored": restored,
            "postings_lost": self.postings_at_disaster - restored,
        }

    def _rows_behind(self) -> dict[str, dict[str, int]]:
        """Return {dataset: {table: production's live rows − restored rows}}."""
        if self.failover is None or self.production_before is None:
            return {}
        behind: dict[str, dict[str, int]] = {}
        for restored in self.failover.datasets:
            objects = restored.fingerprint.get("objects", {})
            for table, entry in sorted(objects.items()):
                live = self.production_before.rows(restored.dataset, table)
                if live is not None and entry.get("rows") is not None:
                    behind.setdefault(restored.dataset, {})[table] = live - int(entry["rows"])
        return behind

    def _production_record(self) -> dict[str, Any]:
        assert self.production_before is not None
        after = self.production_after
        return {
            "before": self.production_before.as_record(),
            "after": after.as_record() if after else None,
            "unchanged": None
            if after is None or self.production_unread
            else not self.production_changes,
            "differences": list(self.production_changes),
            "unread": list(self.production_unread),
            "compared": COMPARED,
            "may_change": self.scenario.production_may_change,
        }


def both(zh: str, en: str) -> str:
    """Return a step message as reports and the console show it: Chinese first, English
    second."""
    return f"{zh} / {en}"


def _point_row(restored: Any) -> dict[str, Any]:
    return {
        "id": restored.recovery_point_id,
        "system": restored.manifest.system,
        "dataset": restored.dataset,
        "business_date": restored.manifest.business_date,
        "finished_at": restored.manifest.finished_at,
        "manifest_sha256": restored.manifest_sha256,
        "files": len(restored.manifest.files),
        "bytes": restored.manifest.total_bytes,
        "store": restored.store,
    }


def _epoch(text: str) -> float:
    return epoch_seconds(text)
