"""Encryption at rest on real stores (issue 14's bar): one encrypted sandbox drill through the
real CLI and ansible-runner, then what an auditor and an on-call engineer would check on it:
no seeded plaintext in any store, `verify --all` without the key, a restore without the key
(exit 3, named), a flipped ciphertext byte (exit 1, named, point bad), key rotation; and a
sealed multipart file in real SeaweedFS, copied and restored without and with the key.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.actions.backup_stream import stream_to_store
from orchestrator.actions.copy_offsite import copy_point
from orchestrator.actions.point_keys import Sealing
from orchestrator.actions.restore_selection import fetch_to_host
from orchestrator.actions.sandbox import KEK_FILE, prepare_sandbox
from orchestrator.integrations.envelope import (
    SCHEME,
    FileKek,
    key_check,
    new_data_key,
)
from orchestrator.integrations.hosts import LocalHostFiles
from orchestrator.integrations.stores.base import MANIFEST_NAME
from orchestrator.integrations.stores.file import FileStore
from orchestrator.integrations.stores.s3 import S3Store
from orchestrator.integrations.transfer import DigestMismatch
from orchestrator.model import catalog as cat
from orchestrator.model.manifest import (
    ENCRYPTED_FORMAT_VERSION,
    Encryption,
    FileEntry,
    Manifest,
    manifest_digest,
    parse_manifest,
    serialise_manifest,
)
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.fixtures.s3 import S3Server, create_locked_bucket, s3_client

SYSTEM = "core-banking"
# Plaintext the sandbox seeds at the source: the SQLite ledger's file header and schema, and
# lines of the generated configuration and program files (orchestrator/actions/workload.py).
MARKERS = (
    b"SQLite format 3",
    b"CREATE TABLE",
    b"# core-banking service",
    b"instance_token = ",
    b"end-of-day batch step",
)


def drctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
    )


@pytest.fixture(scope="module")
def drilled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A sandbox (encrypted: the default of a new config) after one full drill via the CLI."""
    config = prepare_sandbox(tmp_path_factory.mktemp("encrypted") / "sb")
    result = drctl("-c", str(config), "drill", "run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "result: PASSED" in result.stdout
    yield config


def stored_files(config: Path) -> list[Path]:
    files = [p for p in (config.parent / "stores").rglob("*") if p.is_file()]
    assert len(files) > 20
    return files


def manifests(config: Path) -> list[tuple[Path, Manifest]]:
    found = [
        (path, parse_manifest(path.read_bytes()))
        for path in (config.parent / "stores").rglob(MANIFEST_NAME)
    ]
    assert found
    return found


def newest_ledger_file(config: Path, store: str) -> Path:
    root = config.parent / "stores" / store / SYSTEM / "ledger"
    return sorted(root.glob("*/data/*"))[-1]


class KeyAway:
    """The KEK file moved out of reach for a block (as on a host that never had it)."""

    def __init__(self, config: Path) -> None:
        self.path = (config.parent / KEK_FILE).resolve()
        self.away = self.path.with_name("kek.hex.away")

    def __enter__(self) -> KeyAway:
        self.path.rename(self.away)
        return self

    def __exit__(self, *_: object) -> None:
        self.away.rename(self.path)


def test_the_drill_passed_on_sealed_points_recorded_with_their_cipher(drilled: Path) -> None:
    kek = (drilled.parent / KEK_FILE).resolve()
    assert oct(kek.stat().st_mode & 0o777) == "0o600"
    for path, manifest in manifests(drilled):
        assert manifest.format_version == ENCRYPTED_FORMAT_VERSION, path
        assert manifest.encryption is not None and manifest.encryption.cipher == "aes-256-gcm"
        for entry in manifest.files:
            data = (path.parent / "data" / entry.path).read_bytes()
            assert (len(data), hashlib.sha256(data).hexdigest()) == (
                entry.stored_size,
                entry.stored_digest,
            )
            assert entry.stored_digest != entry.digest
    with open_runtime(load_site(drilled)) as runtime, runtime.catalog.begin() as connection:
        ciphers = {row.cipher for row in cat.list_recovery_points(connection)}
    assert ciphers == {"aes-256-gcm"}


def test_status_judges_every_point_held_encrypted_per_store(drilled: Path) -> None:
    result = drctl("-c", str(drilled), "--json", "status")
    findings = {
        (f["subject"], f["rule"]): f
        for f in json.loads(result.stdout)["findings"]
        if f["rule"] in ("storage.encryption", "encryption.key_escrow")
    }
    for store in ("primary", "offsite"):
        finding = findings[(store, "storage.encryption")]
        assert finding["status"] == "compliant", finding
        assert "(aes-256-gcm)" in finding["measured"]
    escrow = findings[("all", "encryption.key_escrow")]
    assert escrow["status"] == "unknown" and "docs/keys.md" in escrow["reason"]


def test_no_seeded_plaintext_is_found_in_any_store(drilled: Path) -> None:
    source = drilled.parent / "sites" / "production" / "data"
    seeded = b"".join(p.read_bytes() for p in source.rglob("*") if p.is_file())
    for marker in MARKERS:
        assert marker in seeded, marker  # the grep below would find it in clear
    for path in stored_files(drilled):
        data = path.read_bytes()
        found = [marker for marker in MARKERS if marker in data]
        assert not found, f"{path}: {found}"


def test_verify_all_needs_no_key(drilled: Path) -> None:
    with KeyAway(drilled):
        result = drctl("-c", str(drilled), "--json", "verify", "--all")
    assert result.returncode == 0, result.stdout + result.stderr
    scan = json.loads(result.stdout)
    assert scan["problems"] == [] and scan["files"] > 0


def test_a_restore_without_the_key_is_exit_3_and_names_the_key(drilled: Path) -> None:
    (_, manifest), *_ = manifests(drilled)
    assert manifest.encryption is not None
    with KeyAway(drilled) as away:
        result = drctl("-c", str(drilled), "verify", "--seed", "1")
    assert result.returncode == 3, result.stdout + result.stderr
    message = result.stderr.strip().splitlines()[-1]
    assert "key unavailable" in message and manifest.encryption.kek_id in message
    assert str(away.path) in message and "Traceback" not in result.stderr


def test_rotation_rewraps_beside_the_manifest_and_restores_with_the_new_key(
    drilled: Path, tmp_path: Path
) -> None:
    new = tmp_path / "kek-2027.hex"
    created = drctl("-c", str(drilled), "--json", "keys", "create-kek", "--output", str(new))
    assert created.returncode == 0, created.stderr
    again = drctl("-c", str(drilled), "keys", "create-kek", "--output", str(new))
    assert again.returncode == 2 and "never replaced" in again.stderr
    before = {p: p.read_bytes() for p in stored_files(drilled)}
    dry = drctl("-c", str(drilled), "--json", "keys", "rotate-kek", "--new", str(new), "--dry-run")
    assert dry.returncode == 0 and {p: p.read_bytes() for p in stored_files(drilled)} == before
    rotated = drctl("-c", str(drilled), "--json", "keys", "rotate-kek", "--new", str(new))
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    report = json.loads(rotated.stdout)
    assert report["points"]["rewrapped"] == len(manifests(drilled))
    assert report["new_kek_id"] == json.loads(created.stdout)["kek_id"]
    for path, data in before.items():
        assert path.read_bytes() == data  # no data, no manifest rewritten
    wraps = list((drilled.parent / "stores").rglob(f"keys/{report['new_kek_id']}.json"))
    assert len(wraps) == len(manifests(drilled))
    # Only the new key held: a restore picks the rotation's wrap.
    with KeyAway(drilled) as away:
        shutil.copy2(new, away.path)
        try:
            restored = drctl("-c", str(drilled), "--json", "verify", "--seed", "2")
        finally:
            away.path.unlink()
    assert restored.returncode == 0, restored.stdout + restored.stderr


def test_a_flipped_ciphertext_byte_is_caught_named_and_marks_the_point_bad(drilled: Path) -> None:
    target = newest_ledger_file(drilled, "primary")
    point = target.parents[1].name
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    result = drctl("-c", str(drilled), "--json", "verify", "--all")
    assert result.returncode == 1, result.stdout + result.stderr
    (problem,) = json.loads(result.stdout)["problems"]
    assert problem["kind"] == "mismatch" and problem["file"] == target.name
    assert problem["recovery_point"].endswith(point) and problem["store"] == "primary"
    with open_runtime(load_site(drilled)) as runtime, runtime.catalog.begin() as connection:
        row = cat.get_recovery_point(connection, point)
    assert row is not None and row.status == "bad"


def test_a_flipped_byte_is_caught_by_a_restore_naming_the_file(tmp_path: Path) -> None:
    plain = os.urandom(300_000)
    manifest, store, _ = sealed_point(
        FileStore("primary", "production", str(tmp_path / "s")), plain
    )
    stored = tmp_path / "s" / "core" / "ledger" / manifest.recovery_point_id / "data" / "l.db"
    broken = bytearray(stored.read_bytes())
    broken[100] ^= 0x80
    stored.write_bytes(bytes(broken))
    key = FIXED_KEK.unwrap(bytes.fromhex(manifest.encryption.wrapped_key))  # type: ignore[union-attr]
    with pytest.raises(DigestMismatch, match=r"primary:core/ledger/.*/data/l\.db: digest mis") as e:
        fetch_to_host(store, manifest, LocalHostFiles("vault"), str(tmp_path / "spool"), key)
    assert e.value.expected == manifest.files[0].stored_digest
    assert e.value.actual == hashlib.sha256(broken).hexdigest()
    assert "last chunk 0 fails authentication" in str(e.value)


FIXED_KEK = FileKek(bytes(range(32)))
POINT = "20261130T010203Z-abcdef"


def sealed_point(store: Any, plain: bytes) -> tuple[Manifest, Any, Path]:
    """Back up one file through backup's own streaming path, sealed, into store; return the
    point's manifest (written there), the store and the source file."""
    store.prepare()
    source = Path(f"/tmp/drctl-enc-src-{os.getpid()}-{len(plain)}")
    source.write_bytes(plain)
    data_key = new_data_key("aes-256-gcm")
    sealing = Sealing(
        data_key,
        Encryption(
            SCHEME,
            "aes-256-gcm",
            FIXED_KEK.kek_id,
            key_check(data_key),
            FIXED_KEK.wrap(data_key).hex(),
        ),
    )
    entry = FileEntry("l.db", len(plain), hashlib.sha256(plain).hexdigest())
    key = f"core/ledger/{POINT}/data/l.db"
    try:
        sealed = stream_to_store(
            LocalHostFiles("prod"),
            str(source),
            store,
            key,
            entry,
            sealing,
        )
    finally:
        source.unlink()
    manifest = Manifest(
        POINT,
        "core",
        "ledger",
        "files",
        "2026-11-30",
        "2026-11-30T01:02:03Z",
        "2026-11-30T01:02:04Z",
        "production",
        "prod",
        "sha256",
        (sealed,),
        encryption=sealing.encryption,
        format_version=ENCRYPTED_FORMAT_VERSION,
    )
    raw = serialise_manifest(manifest)
    store.write_stream(
        f"core/ledger/{POINT}/{MANIFEST_NAME}", [raw], size=len(raw), sha256=manifest_digest(raw)
    )
    return manifest, store, source


def test_sealed_multipart_file_in_seaweedfs_copies_without_a_key_and_restores_with_it(
    s3_site_a: S3Server, tmp_path: Path
) -> None:
    plain = b"".join(
        hashlib.sha256(str(i).encode()).digest() * 1024 for i in range(400)
    )  # 12.5 MiB: several multipart parts
    files = FileStore("primary", "production", str(tmp_path / "store"))
    manifest, _, _ = sealed_point(files, plain)
    (entry,) = manifest.files
    assert entry.stored_size is not None and entry.stored_size > entry.size
    bucket = create_locked_bucket(s3_site_a, f"dr-enc-{os.getpid()}")
    s3 = S3Store(
        "offsite",
        "disaster-recovery",
        bucket=bucket,
        prefix="points",
        client=s3_client(s3_site_a),
        rotation_seconds=86400.0,
        endpoint_url=s3_site_a.endpoint_url,
        region=s3_site_a.region,
        part_bytes=5 << 20,
    )
    raw = serialise_manifest(manifest)
    copy_point(files, s3, manifest, raw, manifest_digest(raw))  # no key anywhere
    key = f"core/ledger/{POINT}/data/l.db"
    assert s3.head(key)["Metadata"]["sha256"] == entry.stored_digest
    with s3.open_read(key) as handle:
        assert plain[:4096] not in handle.read()
    data_key = FIXED_KEK.unwrap(bytes.fromhex(manifest.encryption.wrapped_key))  # type: ignore[union-attr]
    fetch_to_host(s3, manifest, LocalHostFiles("vault"), str(tmp_path / "spool"), data_key)
    assert (tmp_path / "spool" / "data" / "l.db").read_bytes() == plain
