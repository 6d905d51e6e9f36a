"""`drctl keys rotate-kek`: re-wrap every encrypted point's data key under a new key-encryption
key, without rewriting any data or manifest (actions/point_keys.py: the new wrap is an object
beside the manifest). Every reachable store is walked; a point whose data key the current KEK
cannot unwrap is listed and the rotation is incomplete; a store that cannot be reached is
listed. Every wrap written (or found in place) is recorded in the catalog per point and store
(model/key_wraps.py), so one deleted later is a missing file, not a key this site lacks. Once
every point is re-wrapped, point dr.yml at the new key."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from orchestrator.actions.point_keys import WrapMismatch, rewrap, site_kek
from orchestrator.actions.point_trust import Intruder, open_point
from orchestrator.errors import CheckFailed, InfrastructureError
from orchestrator.integrations.envelope import FileKek, KeyUnavailable
from orchestrator.integrations.transfer import DigestMismatch
from orchestrator.model.catalog import now
from orchestrator.model.key_wraps import record_wraps
from orchestrator.runtime import Runtime

logger = logging.getLogger(__name__)


@dataclass
class RotationReport:
    old_kek: str
    new_kek: str
    counts: dict[str, int] = field(default_factory=dict)  # rewrapped | already | clear | ...
    not_rewrapped: list[str] = field(default_factory=list)
    unreachable: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "old_kek_id": self.old_kek,
            "new_kek_id": self.new_kek,
            "points": dict(sorted(self.counts.items())),
            "not_rewrapped": self.not_rewrapped,
            "unreachable": self.unreachable,
        }


def rotate_kek(runtime: Runtime, new: FileKek, *, dry_run: bool) -> RotationReport:
    """Re-wrap every encrypted point's data key in every reachable store under `new`."""
    old = site_kek(runtime.config, "to unwrap the data keys being rotated")
    report = RotationReport(old.kek_id, new.kek_id)
    for definition in runtime.config.model.stores:
        try:
            store = runtime.store(definition.name)
            points = sorted(store.list_points())
        except InfrastructureError as error:
            report.unreachable[definition.name] = str(error)
            continue
        for system, dataset, point in points:
            outcome = _rotate_point(runtime, store, (system, dataset, point), old, new, dry_run)
            if outcome.startswith("not rewrapped: "):
                report.not_rewrapped.append(outcome.removeprefix("not rewrapped: "))
            else:
                report.counts[outcome] = report.counts.get(outcome, 0) + 1
    return report


def _rotate_point(
    runtime: Runtime,
    store: Any,
    point: tuple[str, str, str],
    old: FileKek,
    new: FileKek,
    dry_run: bool,
) -> str:
    label = f"{store.name}: {'/'.join(point)}"
    try:
        opened = open_point(runtime, store, *point)
    except FileNotFoundError:
        return "incomplete"
    except (Intruder, DigestMismatch, CheckFailed) as error:
        return f"not rewrapped: {label}: not authenticated ({error})"
    if opened.manifest.encryption is None:
        return "clear"
    try:
        done = rewrap(store, opened.manifest, old, new, dry_run)
    except (KeyUnavailable, WrapMismatch) as error:
        return f"not rewrapped: {label}: {error}"
    if not dry_run and new.kek_id != opened.manifest.encryption.kek_id:
        with runtime.catalog.begin() as connection:
            record_wraps(connection, point[2], store.name, [new.kek_id], now())
    logger.info("keys rotate-kek: %s: %s", label, done)
    return done
