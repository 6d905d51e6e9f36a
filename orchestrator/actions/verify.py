"""`drctl verify --all`: re-read every stored recovery point and check every digest.

An integrity scan, not the sampled validity check of 第七条 (that restores into an enclave).
A recovery point without a manifest is incomplete: listed, never counted, never an error.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from orchestrator.errors import CheckFailed
from orchestrator.integrations.stores.base import MANIFEST_NAME, Store, point_prefix
from orchestrator.integrations.transfer import DigestMismatch, digest_stream
from orchestrator.model import catalog as cat
from orchestrator.runtime import Runtime

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Problem:
    store: str
    recovery_point: str
    file: str
    kind: str  # mismatch | missing | truncated | extra | manifest
    expected: str = ""
    actual: str = ""

    def describe(self) -> str:
        text = f"{self.store}: {self.recovery_point}: {self.file}: {self.kind}"
        if self.expected or self.actual:
            text += f": expected {self.expected}, actual {self.actual}"
        return text


@dataclass
class ScanResult:
    points: int = 0
    files: int = 0
    bytes: int = 0
    incomplete: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def scan_point(runtime: Runtime, store: Store, system: str, dataset: str, point: str,
               result: ScanResult) -> None:
    """Check every file of one complete recovery point in one store; add problems found."""
    from orchestrator.actions.restore import load_manifest

    prefix = point_prefix(system, dataset, point)
    label = f"{system}/{dataset}/{point}"
    try:
        manifest, _digest = load_manifest(runtime, store, system, dataset, point)
    except DigestMismatch as error:
        result.problems.append(Problem(store.name, label, MANIFEST_NAME, "manifest",
                                       error.expected, error.actual))
        return
    except CheckFailed as error:
        result.problems.append(Problem(store.name, label, MANIFEST_NAME, "manifest",
                                       actual=str(error)))
        return
    result.points += 1
    listed = {f"{prefix}/data/{entry.path}" for entry in manifest.files}
    for entry in manifest.files:
        key = f"{prefix}/data/{entry.path}"
        if not store.exists(key):
            result.problems.append(Problem(store.name, label, entry.path, "missing",
                                           entry.digest, "(absent)"))
            continue
        with store.open_read(key) as handle:
            size, digest = digest_stream(handle, manifest.hash_algorithm)
        result.files += 1
        result.bytes += size
        if size != entry.size:
            result.problems.append(Problem(store.name, label, entry.path, "truncated"
                                           if size < entry.size else "mismatch",
                                           f"{entry.digest} ({entry.size} bytes)",
                                           f"{digest} ({size} bytes)"))
        elif digest != entry.digest:
            result.problems.append(Problem(store.name, label, entry.path, "mismatch",
                                           entry.digest, digest))
    for key in store.list_keys(f"{prefix}/data"):
        if key not in listed:
            result.problems.append(Problem(store.name, label, key.removeprefix(f"{prefix}/data/"),
                                           "extra", "(not in manifest)", "present"))


def run_verify_all(runtime: Runtime) -> ScanResult:
    """Scan every store of the config; record the scan and mark bad copies in the catalog."""
    result = ScanResult()
    started = cat.now()
    verification_id = f"all-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    seen: set[tuple[str, str]] = set()
    for definition in runtime.config.model.stores:
        store = runtime.store(definition.name)
        for system, dataset, point in store.list_points():
            if not store.exists(f"{point_prefix(system, dataset, point)}/{MANIFEST_NAME}"):
                result.incomplete.append(f"{store.name}: {system}/{dataset}/{point}")
                continue
            seen.add((store.name, point))
            scan_point(runtime, store, system, dataset, point, result)
    with runtime.catalog.begin() as connection:
        for copy in cat.list_copies(connection):
            if copy.status == "present" and (copy.store, copy.recovery_point_id) not in seen:
                result.problems.append(Problem(copy.store, copy.recovery_point_id, MANIFEST_NAME,
                                               "missing", "recovery point in the catalog",
                                               "(absent from the store)"))
        for problem in result.problems:
            point_id = problem.recovery_point.rsplit("/", 1)[-1]
            cat.mark_copy(connection, point_id, problem.store, "bad", reason=problem.describe())
        connection.execute(cat.verifications.insert().values(
            id=verification_id, kind="all", started_at=started, finished_at=cat.now(),
            status="passed" if result.ok else "failed", counted=False,
            sample_points=result.points, sample_bytes=result.bytes,
            detail={"problems": [p.describe() for p in result.problems],
                    "incomplete": result.incomplete},
        ))
    for problem in result.problems:
        logger.error("verify --all: %s", problem.describe())
    logger.info("verify --all: %d recovery points, %d files, %d bytes, %d problem(s), "
                "%d incomplete ignored", result.points, result.files, result.bytes,
                len(result.problems), len(result.incomplete))
    return result
