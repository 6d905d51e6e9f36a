"""Only authenticated recovery points exist: sign manifests, open points, find intruders.

A recovery point in a store counts only if drctl can authenticate its manifest:

* **signed**: `manifest.json.sig` beside it is a valid ed25519 signature over the manifest's
  bytes by the site's key pinned in dr.yml (`manifest_signing.public_key`, or one of
  `retired_public_keys`; one dated with `retired_at` only for points that finished by then,
  point_signature.py) — what a catalog rebuild may trust; or
* **recorded**: the catalog holds the point and the manifest's sha256 equals the digest it
  recorded when drctl wrote the point.

Anything else in a store is an intruder: reported by `verify --all` (exit 1), never restored,
never copied. On S3 every read is pinned to the version drctl wrote (stores/s3_versions.py).

A manifest that names the key it was signed with (`signed_by`) must have that key's signature
beside it, whatever the catalog says: a missing or invalid one is tampering with the store
(point_signature.BrokenSignature). Manifests without the claim are judged as before it existed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from orchestrator.actions.point_signature import (
    SIGNATURE_NAME,
    BrokenSignature,
    judge_signature,
)
from orchestrator.config import LoadedConfig
from orchestrator.errors import CheckFailed, InputError
from orchestrator.evidence import sign
from orchestrator.integrations.stores.base import MANIFEST_NAME, Store, point_prefix
from orchestrator.integrations.stores.s3_pinned import is_versioned, pin
from orchestrator.integrations.stores.s3_versions import Drift, point_versions
from orchestrator.integrations.transfer import DigestMismatch
from orchestrator.model import catalog as cat
from orchestrator.model import integrity
from orchestrator.model.manifest import Manifest, ManifestError, manifest_digest, parse_manifest
from orchestrator.runtime import Runtime

logger = logging.getLogger(__name__)


class Intruder(CheckFailed):
    """A point in a store whose manifest drctl cannot authenticate (neither signed by a
    trusted key nor recorded in the catalog)."""

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: not an authenticated recovery point ({reason}); never used")


@dataclass
class OpenedPoint:
    """A point's manifest, read at the version drctl wrote and authenticated."""

    store: Any  # the store, pinned to the recorded versions where it keeps versions
    system: str
    dataset: str
    point: str
    manifest: Manifest
    manifest_bytes: bytes
    digest: str
    signed: bool
    recorded: bool
    versions: dict[str, str] = field(default_factory=dict)
    drift: list[Drift] = field(default_factory=list)
    signature_problem: str = ""
    signature: bytes | None = None  # the bytes of manifest.json.sig read and judged, if any

    @property
    def prefix(self) -> str:
        return point_prefix(self.system, self.dataset, self.point)

    @property
    def label(self) -> str:
        return f"{self.system}/{self.dataset}/{self.point}"


def _where(config: LoadedConfig) -> str:
    return str(config.path)


def trusted_keys(config: LoadedConfig) -> tuple[Ed25519PublicKey, ...]:
    """Return the public keys a manifest signature may be made with (pinned, then retired)."""
    section = config.model.manifest_signing
    if section is None:
        return ()
    retired = [
        entry if isinstance(entry, str) else entry.public_key
        for entry in section.retired_public_keys
    ]
    lines = ([section.public_key] if section.public_key else []) + retired
    keys = []
    for index, line in enumerate(lines):
        try:
            keys.append(sign.load_public_key_line(line, f"manifest_signing key {index}"))
        except ValueError as error:
            raise InputError(_where(config), [f"manifest_signing: {error}"]) from error
    return tuple(keys)


def retirement_times(config: LoadedConfig) -> dict[str, datetime]:
    """Return {fingerprint: retired_at} of the retired manifest keys dr.yml dates: a point
    such a key signed is trusted only when it finished by then (point_signature.py)."""
    section = config.model.manifest_signing
    times = {}
    for index, entry in enumerate(section.retired_public_keys if section else ()):
        if isinstance(entry, str):
            continue
        source = f"manifest_signing.retired_public_keys[{index}]"
        try:
            key = sign.load_public_key_line(entry.public_key, source)
        except ValueError as error:
            raise InputError(_where(config), [f"manifest_signing: {error}"]) from error
        times[sign.fingerprint(key)] = entry.retired_at
    return times


def manifest_signer(config: LoadedConfig) -> Ed25519PrivateKey | None:
    """Return the key that signs new manifests, or None when signing is not configured.
    Raise InputError (exit 2) when the key is missing, unpinned or not the pinned one."""
    section = config.model.manifest_signing
    if section is None:
        return None
    path = config.resolve(section.key)
    if not path.is_file():
        raise InputError(
            _where(config),
            [f"manifest_signing.key: {path} does not exist; create it with `drctl keys create`"],
        )
    try:
        key = sign.load_signing_key(path)
    except ValueError as error:
        raise InputError(_where(config), [f"manifest_signing.key: {error}"]) from error
    line = sign.public_key_line(key)
    if section.public_key is None:
        raise InputError(
            _where(config),
            [f"manifest_signing.public_key: not pinned; expected {line} (the key at {path})"],
        )
    if line != section.public_key:
        raise InputError(
            _where(config),
            [
                f"manifest_signing.key: {path} is not the pinned public_key "
                f"(the file's public key is {line})"
            ],
        )
    return key


def create_manifest_key(config: LoadedConfig) -> tuple[str, str]:
    """Create the manifest signing key at its configured path; return (path, public key line).
    Raise InputError when signing is not configured or a key already exists there."""
    section = config.model.manifest_signing
    if section is None:
        raise InputError(_where(config), ["manifest_signing: not configured (add the section)"])
    path = config.resolve(section.key)
    try:
        key = sign.create_signing_key(path)
    except FileExistsError as error:
        raise InputError(_where(config), [f"manifest_signing.key: {error}"]) from error
    return str(path), sign.public_key_line(key)


def signer_fingerprint(signer: Ed25519PrivateKey | None) -> str | None:
    """Given the key that signs new manifests (None without signing), return the `signed_by`
    claim a new manifest carries: the fingerprint of its public key (point_signature.py)."""
    return None if signer is None else sign.fingerprint(signer)


def write_manifest(
    store: Store,
    prefix: str,
    data: bytes,
    digest: str,
    signer: Ed25519PrivateKey | None,
    *,
    signature: bytes | None = None,
) -> None:
    """Write a point's signature (signed now by signer, or the given one, copied from another
    store), then its manifest: the manifest goes last, so a point with a manifest is whole."""
    if signature is None and signer is not None:
        signature = sign.sign(signer, data)
    if signature is not None:
        store.write_stream(
            f"{prefix}/{SIGNATURE_NAME}",
            [signature],
            size=len(signature),
            sha256=manifest_digest(signature),
        )
    store.write_stream(f"{prefix}/{MANIFEST_NAME}", [data], size=len(data), sha256=digest)


def written_versions(store: Store, keys: list[str]) -> dict[str, str]:
    """Return {key: version id} of what this process just wrote (empty where unversioned)."""
    versions = {}
    for key in keys:
        version = store.written_version(key)
        if version:
            versions[key] = version
    return versions


def _pinned(
    runtime: Runtime, store: Store, prefix: str, point: str
) -> tuple[Any, dict[str, str], list[Drift]]:
    if not is_versioned(store):
        return store, {}, []
    with runtime.catalog.begin() as connection:
        recorded = integrity.get_versions(connection, point, store.name)
    versions, drift = point_versions(cast(Any, store), prefix, recorded)
    return pin(store, versions), versions, drift


def _read_signature(view: Any, prefix: str) -> bytes | None:
    """Return the bytes of a point's signature file, or None when it has none."""
    try:
        signature: bytes = view.read_bytes(f"{prefix}/{SIGNATURE_NAME}")
    except FileNotFoundError:
        return None
    return signature


def _recorded_row(runtime: Runtime, point: tuple[str, str, str]) -> Any:
    """Return the catalog's row of a point, or None when it holds no such point of that
    system and dataset (a point id under another dataset's prefix is not the catalog's)."""
    system, dataset, point_id = point
    with runtime.catalog.begin() as connection:
        row = cat.get_recovery_point(connection, point_id)
    if row is not None and (row.system, row.dataset) != (system, dataset):
        return None
    return row


def open_point(
    runtime: Runtime,
    store: Store,
    system: str,
    dataset: str,
    point: str,
    *,
    keys: tuple[Ed25519PublicKey, ...] | None = None,
) -> OpenedPoint:
    """Read a point's manifest (at the version drctl wrote), parse it and authenticate it.

    Raise FileNotFoundError when it has no manifest, CheckFailed for a hostile or malformed
    manifest, DigestMismatch when it differs from the catalog's record, BrokenSignature when
    it says it is signed and its signature is missing or invalid, Intruder when it is
    neither recorded nor signed by a trusted key."""
    prefix = point_prefix(system, dataset, point)
    where = f"{store.name}:{prefix}/{MANIFEST_NAME}"
    view, versions, drift = _pinned(runtime, store, prefix, point)
    data = view.read_bytes(f"{prefix}/{MANIFEST_NAME}")
    digest = manifest_digest(data)
    try:
        manifest = parse_manifest(data, source=where)
    except ManifestError as error:
        raise CheckFailed(f"refused manifest: {error}") from error
    row = _recorded_row(runtime, (system, dataset, point))
    if (manifest.system, manifest.dataset, manifest.recovery_point_id) != (system, dataset, point):
        if row is None:  # a copy put here under a name it never had: nothing of ours changed
            raise Intruder(where, "its manifest names another recovery point")
        raise CheckFailed(f"{where}: manifest names another recovery point")
    if row is not None and row.manifest_sha256 != digest:
        raise DigestMismatch(
            where, row.manifest_sha256, digest, "manifest changed after it was written"
        )
    signature = _read_signature(view, prefix)
    trusted = trusted_keys(runtime.config) if keys is None else keys
    judgement = judge_signature(
        manifest.signed_by,
        data,
        signature,
        trusted,
        retired=(manifest.finished_at, retirement_times(runtime.config)),
    )
    opened = OpenedPoint(
        view, system, dataset, point, manifest, data, digest, judgement.signed, row is not None
    )
    opened.versions, opened.drift = versions, drift
    opened.signature_problem, opened.signature = judgement.problem, signature
    if judgement.broken is not None:
        vouched = opened if row is not None else None
        raise BrokenSignature(
            f"{store.name}:{prefix}/{SIGNATURE_NAME}",
            judgement.broken,
            str(manifest.signed_by),
            vouched,
        )
    if row is None and not judgement.signed:
        raise Intruder(where, judgement.problem or "no signature and not in the catalog")
    return opened


def point_ids_by_dataset(
    runtime: Runtime, store: Store, system: str, dataset: str | None = None
) -> dict[str, list[str]]:
    """Return every point id of each of system's datasets (or of one) in a store, oldest first:
    those listed by the store and those the catalog records there (a delete marker can hide a
    point from a listing). One listing of the store and one catalog query per call, however
    many datasets the system has."""
    found: dict[str, set[str]] = {}
    for point_system, point_dataset, point in store.list_points():
        if point_system == system and dataset in (None, point_dataset):
            found.setdefault(point_dataset, set()).add(point)
    with runtime.catalog.begin() as connection:
        recorded = cat.recorded_in_store(connection, store.name, system, dataset)
    for point_dataset, point in recorded:
        found.setdefault(point_dataset, set()).add(point)
    return {name: sorted(points) for name, points in found.items()}
