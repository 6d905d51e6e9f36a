"""The data keys of encrypted recovery points: made and wrapped at backup, found and unwrapped
at restore, re-wrapped by a key rotation.

A point's data key is wrapped in its manifest under the key-encryption key (KEK) of the day.
Manifests are signed and may sit in write-once stores, so a rotation never rewrites them: the
data key re-wrapped under a new KEK is a small object beside the manifest,
`<point>/keys/<kek_id>.json`. Whichever wrap is used, the unwrapped key must match the
manifest's key-check value, so a planted wrap cannot substitute another key. Without the KEK a
point needs, a restore stops with KeyUnavailable (exit 3) naming the key and where it was
expected — unless the catalog records that drctl wrote the wrap it looked for in that store
(model/key_wraps.py): then the wrap was deleted, a missing file of the point (WrapMismatch, exit
1, the point bad). `verify --all` never needs a key (it checks the stored, ciphertext digests).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from orchestrator.config import LoadedConfig
from orchestrator.integrations.envelope import (
    SCHEME,
    FileKek,
    KeyUnavailable,
    key_check,
    load_file_kek,
    new_data_key,
    open_stream,
    seal_stream,
)
from orchestrator.integrations.stores.base import Store, point_prefix
from orchestrator.integrations.transfer import DigestMismatch
from orchestrator.model.catalog import Catalog
from orchestrator.model.key_wraps import wrapped_under
from orchestrator.model.manifest import Encryption, FileEntry, Manifest

logger = logging.getLogger(__name__)
KEYS_DIR = "keys"
ABSENT = "(absent)"


@dataclass(frozen=True)
class Sealing:
    """One recovery point's data key and the manifest block that records it."""

    data_key: bytes
    encryption: Encryption

    def seal(self, blocks: Iterable[bytes], path: str) -> Iterator[bytes]:
        return seal_stream(blocks, self.data_key, self.encryption.cipher, path)


def kek_path(config: LoadedConfig) -> Path | None:
    """Return the configured KEK file, or None when the site writes points in clear."""
    settings = config.model.encryption
    return None if settings is None else config.resolve(settings.key_encryption_key.file)


def site_kek(config: LoadedConfig, needed_for: str = "") -> FileKek:
    """Return the site's configured KEK. Raise KeyUnavailable (exit 3) when encryption is not
    configured or its file is absent, naming what needed it."""
    path = kek_path(config)
    reason = f" ({needed_for})" if needed_for else ""
    if path is None:
        raise KeyUnavailable(f"no key-encryption key configured in {config.path}{reason}")
    try:
        return load_file_kek(path, str(config.path))
    except KeyUnavailable as error:
        raise KeyUnavailable(f"{error}{reason}") from error


def new_sealing(config: LoadedConfig) -> Sealing | None:
    """Return a fresh data key for one point, wrapped under the site's KEK, or None when the
    site writes in clear. Raise KeyUnavailable when the KEK file is absent."""
    settings = config.model.encryption
    if settings is None:
        return None
    kek = site_kek(config, "to encrypt new recovery points")
    data_key = new_data_key(settings.cipher)
    encryption = Encryption(
        scheme=SCHEME,
        cipher=settings.cipher,
        kek_id=kek.kek_id,
        key_check=key_check(data_key),
        wrapped_key=kek.wrap(data_key).hex(),
    )
    return Sealing(data_key, encryption)


def wrap_key(manifest: Manifest) -> str:
    """Return the store key of a point's wraps directory."""
    prefix = point_prefix(manifest.system, manifest.dataset, manifest.recovery_point_id)
    return f"{prefix}/{KEYS_DIR}"


class WrapMismatch(DigestMismatch):
    """A key wrap beside a point's manifest, under a KEK this site holds, that does not open
    the data key the manifest's key check names: not what drctl wrote (a failed check, exit
    1, naming the wrap), never `key unavailable` — the key is here, the wrap was changed."""

    def __init__(self, where: str, encryption: Encryption, actual: str) -> None:
        expected = f"a wrap of the data key with key check {encryption.key_check}"
        super().__init__(where, expected, actual)


def _side_wrap(store: Store, manifest: Manifest, kek_id: str) -> str | None:
    """Return the wrapped key stored beside the manifest for kek_id, or None when there is
    none. Raise WrapMismatch when the file is there but is not a wrap of this point's key."""
    assert manifest.encryption is not None
    key = f"{wrap_key(manifest)}/{kek_id}.json"
    try:
        data = json.loads(store.read_bytes(key))
    except FileNotFoundError:
        return None
    except (ValueError, UnicodeDecodeError):
        data = None
    problem = wrap_problem(data, manifest, kek_id)
    if problem:
        raise WrapMismatch(f"{store.name}:{key}", manifest.encryption, problem)
    return str(data["wrapped_key"])


def wrap_problem(data: object, manifest: Manifest, kek_id: str) -> str:
    """Given a parsed `keys/<kek_id>.json` of a point, return what makes it not a wrap of the
    point's data key that drctl wrote ('' when nothing does): checked without any key, as an
    auditor would (keys.md), so verify --all finds a planted or swapped wrap too."""
    assert manifest.encryption is not None
    if not isinstance(data, dict):
        return "not a key wrap (JSON object)"
    wrapped = data.get("wrapped_key")
    if not isinstance(wrapped, str) or len(wrapped) not in (48, 80):
        return "no wrapped_key of 24 or 40 bytes (hex)"
    named = (data.get("recovery_point_id"), data.get("kek_id"), data.get("key_check"))
    wanted = (manifest.recovery_point_id, kek_id, manifest.encryption.key_check)
    if named != wanted:
        return f"names point {named[0]}, key-encryption key {named[1]}, key check {named[2]}"
    return ""


def held_wraps(store: Store, manifest: Manifest) -> list[str]:
    """Return the ids of every KEK a point's data key is wrapped under (manifest first)."""
    assert manifest.encryption is not None
    ids = [manifest.encryption.kek_id]
    for key in store.list_keys(wrap_key(manifest)):
        name = key.rsplit("/", 1)[-1]
        if name.endswith(".json") and name[:-5] not in ids:
            ids.append(name[:-5])
    return ids


def _unwrap_checked(kek: FileKek, wrapped: str, encryption: Encryption) -> bytes | None:
    try:
        data_key = kek.unwrap(bytes.fromhex(wrapped))
    except (KeyUnavailable, ValueError):
        return None
    if not hmac.compare_digest(key_check(data_key), encryption.key_check):
        return None
    return data_key


def data_key(
    config: LoadedConfig, store: Store, manifest: Manifest, catalog: Catalog | None = None
) -> bytes | None:
    """Return the data key of an encrypted point (None for a clear one), unwrapped with the
    KEK this site holds: the manifest's wrap, or a rotation's wrap beside it. Raise
    KeyUnavailable (exit 3) naming the KEK(s) the point needs and where one was expected;
    WrapMismatch (exit 1) when that wrap is gone although the catalog records drctl wrote it
    in this store (model/key_wraps.py): a missing file of the point, not a key this site lacks."""
    encryption = manifest.encryption
    if encryption is None:
        return None
    label = f"{store.name}: {manifest.system}/{manifest.dataset}/{manifest.recovery_point_id}"
    path = kek_path(config)
    needs = f"{label}: key unavailable: the point is encrypted under key-encryption key "
    if path is None:
        raise KeyUnavailable(
            f"{needs}{encryption.kek_id}; {config.path} has no encryption block naming its file"
        )
    try:
        kek = load_file_kek(path, str(config.path))
    except KeyUnavailable as error:
        cause = error.__cause__
        why = "not found" if isinstance(cause, FileNotFoundError) else f"unreadable: {cause}"
        raise KeyUnavailable(f"{needs}{encryption.kek_id}, expected in {path} ({why})") from error
    wrapped = (
        encryption.wrapped_key
        if kek.kek_id == encryption.kek_id
        else _side_wrap(store, manifest, kek.kek_id)
    )
    found = None if wrapped is None else _unwrap_checked(kek, wrapped, encryption)
    if found is None and wrapped is not None:
        key = (
            f"{point_prefix(manifest.system, manifest.dataset, manifest.recovery_point_id)}/"
            "manifest.json"
            if kek.kek_id == encryption.kek_id
            else f"{wrap_key(manifest)}/{kek.kek_id}.json"
        )
        actual = f"a key that does not match that key check under {kek.kek_id}"
        raise WrapMismatch(f"{store.name}:{key}", encryption, actual)
    if wrapped is None and catalog is not None:
        _require_recorded_wraps(catalog, store, manifest, kek.kek_id)
    if found is None:
        needed = ", ".join(held_wraps(store, manifest))
        raise KeyUnavailable(
            f"{label}: key unavailable: the point's data key is wrapped under key-encryption "
            f"key(s) {needed}; the key in {path} is {kek.kek_id}"
        )
    return found


def _require_recorded_wraps(catalog: Catalog, store: Store, manifest: Manifest, kek: str) -> None:
    """Raise WrapMismatch when the catalog records a wrap under kek beside the point in store
    (a rotation or a copy wrote it) and it is not there now."""
    assert manifest.encryption is not None
    with catalog.begin() as connection:
        recorded = kek in wrapped_under(connection, manifest.recovery_point_id, store.name)
    if recorded:
        where = f"{store.name}:{wrap_key(manifest)}/{kek}.json"
        raise WrapMismatch(where, manifest.encryption, f"{ABSENT} (drctl wrote it: key_wraps)")


def unsealed(
    blocks: Iterable[bytes], manifest: Manifest, entry: FileEntry, key: bytes, where: str
) -> Iterator[bytes]:
    """Return the plaintext of one stored file of an encrypted point (SealBroken on tamper)."""
    assert manifest.encryption is not None
    return open_stream(blocks, key, manifest.encryption.cipher, entry.path, where)


def rewrap(store: Store, manifest: Manifest, old: FileKek, new: FileKek, dry_run: bool) -> str:
    """Wrap a point's data key under `new` beside its manifest; return what was done
    ("rewrapped", "already", "would rewrap"). Raise KeyUnavailable when `old` cannot unwrap it."""
    encryption = manifest.encryption
    assert encryption is not None
    if new.kek_id == encryption.kek_id:
        return "already"
    existing = _side_wrap(store, manifest, new.kek_id)
    if existing is not None:
        if _unwrap_checked(new, existing, encryption) is None:
            where = f"{store.name}:{wrap_key(manifest)}/{new.kek_id}.json"
            raise WrapMismatch(where, encryption, f"a key that does not match under {new.kek_id}")
        return "already"
    wrapped = (
        encryption.wrapped_key
        if old.kek_id == encryption.kek_id
        else _side_wrap(store, manifest, old.kek_id)
    )
    key = None if wrapped is None else _unwrap_checked(old, wrapped, encryption)
    if key is None:
        raise KeyUnavailable(
            f"{store.name}: {manifest.recovery_point_id}: not wrapped under {old.kek_id}"
        )
    if dry_run:
        return "would rewrap"
    body = {
        "recovery_point_id": manifest.recovery_point_id,
        "kek_id": new.kek_id,
        "key_check": encryption.key_check,
        "wrapped_key": new.wrap(key).hex(),
    }
    data = (json.dumps(body, indent=2, sort_keys=True) + "\n").encode()
    store.write_stream(
        f"{wrap_key(manifest)}/{new.kek_id}.json",
        [data],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    return "rewrapped"
