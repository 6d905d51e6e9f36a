"""What an integrity scan finds in a recovery point, and which findings mark it bad.

`Problem` is one finding of `drctl verify --all` (actions/verify.py) with both values; the
listing checks (files missing or extra, key wraps that do not name the point) are shared with
the sampled validity check (actions/verify_points.py). Which kinds mark a point bad for good
(`MARKS_BAD`) and which are only reported (`REPORTED_ONLY`) is decided here, for a scan's
findings and for any check's evidence (`evidence_marks_bad`, read again by a catalog rebuild).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from orchestrator.actions.point_keys import KEYS_DIR, wrap_problem
from orchestrator.model.manifest import Manifest
from orchestrator.timefmt import epoch_seconds, iso_utc

# Problems that show the stored bytes of a recovery point are not what drctl wrote mark the
# point bad for good (a claimed signature missing or invalid is one: `missing` / `mismatch` of
# manifest.json.sig, point_signature.py). The others (an intruder, a newer S3 version or delete
# marker over a locked original, an unclaimed signature that does not verify beside a recorded
# manifest, a read error) are reported on every scan and fail it, but the point's own bytes
# are intact.
MARKS_BAD = frozenset({"mismatch", "missing", "truncated", "extra", "manifest"})
REPORTED_ONLY = frozenset(
    {
        "intruder",
        "overwritten",
        "delete-marker",
        "version-missing",
        "signature",
        "unreadable",
        "catalog",  # the catalog's row of the point says otherwise than its manifest
    }
)
_CLOCK_TICK = 0.002  # a manifest's times are to the millisecond (timefmt.iso_utc), the row's not


def evidence_marks_bad(mismatch: object) -> bool:
    """Given a mismatch of any check's evidence (report.json), return whether it marked its
    point bad: every kind but those a scan only reports (REPORTED_ONLY) — a validity check's
    `size`, `fingerprint`, `invariant` and `restore` findings too, not only a scan's
    MARKS_BAD. A mismatch with no kind (a drill's: its restore wrote its own) marks nothing."""
    kind = mismatch.get("kind") if isinstance(mismatch, dict) else None
    return isinstance(kind, str) and kind not in REPORTED_ONLY


@dataclass(frozen=True)
class Problem:
    store: str
    recovery_point: str  # system/dataset/point id
    file: str
    kind: str  # MARKS_BAD | intruder | overwritten | delete-marker | version-missing | ...
    expected: str = ""
    actual: str = ""

    def describe(self) -> str:
        text = f"{self.store}: {self.recovery_point}: {self.file}: {self.kind}"
        if self.expected:
            text += f": expected {self.expected}, actual {self.actual}"
        elif self.actual:
            text += f": {self.actual}"
        return text

    @property
    def point_id(self) -> str:
        return self.recovery_point.rsplit("/", 1)[-1]

    @property
    def marks_bad(self) -> bool:
        return self.kind in MARKS_BAD


def extra_files(store: Any, prefix: str, manifest: Manifest) -> Iterator[str]:
    """Yield the path (under data/) of each file in a point's data its manifest does not list."""
    listed = {f"{prefix}/data/{entry.path}" for entry in manifest.files}
    for key in store.list_keys(f"{prefix}/data"):
        if key not in listed:
            yield key.removeprefix(f"{prefix}/data/")


def check_listing(store: Any, label: str, prefix: str, manifest: Manifest) -> list[Problem]:
    """Given a recovery point's manifest, return the missing and extra files in the store."""
    problems = []
    for entry in manifest.files:
        if not store.exists(f"{prefix}/data/{entry.path}"):
            problems.append(
                Problem(store.name, label, entry.path, "missing", entry.at_rest_digest, "(absent)")
            )
    for path in extra_files(store, prefix, manifest):
        problems.append(
            Problem(store.name, label, path, "extra", "(not in the manifest)", "present")
        )
    return problems


def check_wraps(
    store: Any, label: str, prefix: str, manifest: Manifest, recorded: Collection[str] = ()
) -> list[Problem]:
    """Given an encrypted point's manifest (and the KEK ids of the wraps the catalog records
    drctl wrote beside it in this store), return a mismatch for each key wrap beside it
    (`keys/<kek_id>.json`) that does not name the point and its key check (point_keys), and a
    missing file for each recorded wrap that is not there."""
    if manifest.encryption is None:
        return []
    problems = []
    expected = f"a wrap of the data key with key check {manifest.encryption.key_check}"
    listed = [key.rsplit("/", 1)[-1] for key in store.list_keys(f"{prefix}/{KEYS_DIR}")]
    for kek_id in sorted(set(recorded) - {name.removesuffix(".json") for name in listed}):
        file = f"{KEYS_DIR}/{kek_id}.json"
        problems.append(Problem(store.name, label, file, "missing", expected, "(absent)"))
    for name in listed:
        key = f"{prefix}/{KEYS_DIR}/{name}"
        try:
            data = json.loads(store.read_bytes(key))
        except FileNotFoundError:
            continue  # gone since it was listed: no wrap, nothing planted
        except (ValueError, UnicodeDecodeError):
            data = None
        problem = wrap_problem(data, manifest, name.removesuffix(".json"))
        if problem:
            file = f"{KEYS_DIR}/{name}"
            problems.append(Problem(store.name, label, file, "mismatch", expected, problem))
    return problems


def row_differences(row: Any, manifest: Manifest) -> list[tuple[str, str, str]]:
    """Given the catalog's row of a recorded point and its authenticated manifest, return
    (column, the row's value, the manifest's) for each column the row took from the manifest
    and holds otherwise: the rules judge from the row (its business date, its times), so a row
    edited after the backup claims what was never measured (the encryption rule judges
    `cipher`: a clear point's row set to a cipher would pass it for encrypted at rest)."""
    expected: dict[str, object] = {
        "cipher": manifest.encryption.cipher if manifest.encryption else None,
        "engine": manifest.engine,
        "business_date": manifest.business_date,
        "source_site": manifest.source_site,
        "source_host": manifest.source_host,
        "hash_algorithm": manifest.hash_algorithm,
        "total_bytes": manifest.total_bytes,
        "file_count": len(manifest.files),
    }
    found = [
        (column, str(getattr(row, column)), str(value))
        for column, value in expected.items()
        if (getattr(row, column) or None) != (value or None)
    ]
    for column in ("started_at", "finished_at"):
        text = getattr(manifest, column)
        moment = epoch_seconds(text)
        held = float(getattr(row, column))
        if abs(held - moment) > _CLOCK_TICK:
            found.append((column, iso_utc(held), text))
    return found
