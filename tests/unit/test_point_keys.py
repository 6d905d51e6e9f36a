"""Which wrap of a point's data key a restore uses: the manifest's, or a rotation's beside it,
and only when its key-check value matches; without the right KEK, KeyUnavailable (exit 3)
names the key and the file where it was expected. On a real directory store."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from orchestrator.actions.backup_stream import stream_to_store
from orchestrator.actions.copy_offsite import copy_point
from orchestrator.actions.point_keys import WrapMismatch, data_key, new_sealing, rewrap, wrap_key
from orchestrator.actions.sandbox import KEK_FILE, prepare_sandbox
from orchestrator.actions.verify_problems import check_wraps
from orchestrator.config import LoadedConfig, load_config
from orchestrator.errors import ExitCode
from orchestrator.integrations.envelope import (
    FileKek,
    KeyUnavailable,
    create_file_kek,
    load_file_kek,
)
from orchestrator.integrations.hosts import LocalHostFiles
from orchestrator.integrations.stores.file import FileStore
from orchestrator.model.catalog import Catalog
from orchestrator.model.key_wraps import record_wraps
from orchestrator.model.manifest import (
    ENCRYPTED_FORMAT_VERSION,
    FileEntry,
    Manifest,
    manifest_digest,
    serialise_manifest,
)
from orchestrator.model.migrate import upgrade_catalog


def site(tmp_path: Path) -> tuple[LoadedConfig, FileKek, FileStore]:
    config = load_config(prepare_sandbox(tmp_path / "sb"))
    kek = load_file_kek((config.base / KEK_FILE).resolve(), "dr.yml")
    store = FileStore("primary", "production", str(tmp_path / "store"))
    store.prepare()
    return config, kek, store


def point(config: LoadedConfig) -> tuple[Manifest, bytes]:
    sealing = new_sealing(config)
    assert sealing is not None
    manifest = Manifest(
        "20261130T010203Z-abcdef",
        "core",
        "ledger",
        "files",
        "2026-11-30",
        "a",
        "b",
        "p",
        "h",
        "sha256",
        (FileEntry("l.db", 1, "a" * 64, (), 40, "b" * 64),),
        encryption=sealing.encryption,
        format_version=ENCRYPTED_FORMAT_VERSION,
    )
    return manifest, sealing.data_key


def test_the_manifest_wrap_opens_with_the_configured_kek(tmp_path: Path) -> None:
    config, kek, store = site(tmp_path)
    manifest, key = point(config)
    assert manifest.encryption is not None and manifest.encryption.kek_id == kek.kek_id
    assert data_key(config, store, manifest) == key


def test_after_rotation_only_the_new_kek_opens_through_the_side_wrap(tmp_path: Path) -> None:
    config, old, store = site(tmp_path)
    manifest, key = point(config)
    new = create_file_kek(tmp_path / "kek-2027.hex")
    assert rewrap(store, manifest, old, new, dry_run=True) == "would rewrap"
    assert list(store.list_keys(wrap_key(manifest))) == []
    assert rewrap(store, manifest, old, new, dry_run=False) == "rewrapped"
    assert rewrap(store, manifest, old, new, dry_run=False) == "already"
    kek_file = (config.base / KEK_FILE).resolve()
    kek_file.write_text((tmp_path / "kek-2027.hex").read_text())
    assert data_key(config, store, manifest) == key


def test_a_planted_wrap_of_another_key_is_not_used(tmp_path: Path) -> None:
    config, _, store = site(tmp_path)
    manifest, _ = point(config)
    intruder = create_file_kek(tmp_path / "intruder.hex")
    body = {"wrapped_key": intruder.wrap(os.urandom(32)).hex()}  # key_check will not match
    (tmp_path / "store" / wrap_key(manifest)).mkdir(parents=True)
    (tmp_path / "store" / wrap_key(manifest) / f"{intruder.kek_id}.json").write_text(
        json.dumps(body)
    )
    kek_file = (config.base / KEK_FILE).resolve()
    kek_file.write_text((tmp_path / "intruder.hex").read_text())
    assert manifest.encryption is not None
    # A wrap under the KEK held here that is not this point's: a mismatch naming the wrap
    # (the point is passed over, bad), never used and never mistaken for a missing key.
    with pytest.raises(WrapMismatch, match=rf"keys/{intruder.kek_id}\.json: digest mismatch"):
        data_key(config, store, manifest)


def test_without_the_kek_file_the_message_names_the_key_and_the_path(tmp_path: Path) -> None:
    config, kek, store = site(tmp_path)
    manifest, _ = point(config)
    path = (config.base / KEK_FILE).resolve()
    path.unlink()
    with pytest.raises(
        KeyUnavailable, match=rf"key unavailable: .* {kek.kek_id}, expected in {path}"
    ) as caught:
        data_key(config, store, manifest)
    assert caught.value.exit_code == ExitCode.INFRASTRUCTURE


def test_copy_offsite_carries_the_rotations_wraps_and_needs_no_key(tmp_path: Path) -> None:
    config, old, primary = site(tmp_path)
    sealing = new_sealing(config)
    assert sealing is not None
    source = tmp_path / "ledger.db"
    source.write_bytes(b"SQLite format 3\x00" + os.urandom(5000))
    entry = FileEntry("l.db", 5016, hashlib.sha256(source.read_bytes()).hexdigest())
    prefix = "core/ledger/20261130T010203Z-abcdef"
    sealed = stream_to_store(
        LocalHostFiles("prod"), str(source), primary, f"{prefix}/data/l.db", entry, sealing
    )
    manifest = Manifest(
        "20261130T010203Z-abcdef",
        "core",
        "ledger",
        "files",
        "2026-11-30",
        "a",
        "b",
        "p",
        "h",
        "sha256",
        (sealed,),
        encryption=sealing.encryption,
        format_version=ENCRYPTED_FORMAT_VERSION,
    )
    new = create_file_kek(tmp_path / "kek-2027.hex")
    assert rewrap(primary, manifest, old, new, dry_run=False) == "rewrapped"
    offsite = FileStore("offsite", "disaster-recovery", str(tmp_path / "offsite"))
    offsite.prepare()
    raw = serialise_manifest(manifest)
    (config.base / KEK_FILE).resolve().unlink()  # the copy needs no key
    copy_point(primary, offsite, manifest, raw, manifest_digest(raw))
    assert [k.rsplit("/", 1)[-1] for k in offsite.list_keys(wrap_key(manifest))] == [
        f"{new.kek_id}.json"
    ]
    stored = offsite.read_bytes(f"{prefix}/data/l.db")
    assert hashlib.sha256(stored).hexdigest() == sealed.stored_digest
    assert b"SQLite format 3" not in stored


def test_a_recorded_wrap_gone_from_its_store_is_a_missing_file_an_unrecorded_one_a_lost_key(
    tmp_path: Path,
) -> None:
    config, old, store = site(tmp_path)
    manifest, _ = point(config)
    new = create_file_kek(tmp_path / "kek-2027.hex")
    assert rewrap(store, manifest, old, new, dry_run=False) == "rewrapped"
    (config.base / KEK_FILE).resolve().write_text((tmp_path / "kek-2027.hex").read_text())
    config.state_dir.mkdir(parents=True, exist_ok=True)
    catalog = Catalog(config.catalog_url)
    upgrade_catalog(catalog)
    with catalog.begin() as connection:  # what keys rotate-kek records beside the wrap
        record_wraps(connection, manifest.recovery_point_id, "primary", [new.kek_id], 1.0)
    (tmp_path / "store" / wrap_key(manifest) / f"{new.kek_id}.json").unlink()
    prefix = wrap_key(manifest).removesuffix("/keys")
    try:
        with pytest.raises(WrapMismatch, match=rf"keys/{new.kek_id}\.json: .*\(absent\)"):
            data_key(config, store, manifest, catalog)
        (problem,) = check_wraps(store, "core/ledger/p", prefix, manifest, {new.kek_id})
        assert (problem.file, problem.kind) == (f"keys/{new.kek_id}.json", "missing")
        offsite = FileStore("offsite", "disaster_recovery", str(tmp_path / "store"))
        with pytest.raises(KeyUnavailable, match="key unavailable"):  # never recorded there
            data_key(config, offsite, manifest, catalog)
    finally:
        catalog.close()
    assert check_wraps(store, "core/ledger/p", prefix, manifest) == []  # nothing recorded
