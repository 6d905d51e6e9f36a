"""`drctl verify --all` on a directory store written directly: chunks, SM3, incomplete points."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from orchestrator.actions import verify
from orchestrator.cli import main
from orchestrator.evidence import sign
from orchestrator.model import manifest as manifest_module
from orchestrator.model.manifest import FileEntry, Manifest, serialise_manifest
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.fixtures.signing import pin_evidence_key, pin_manifest_key, sign_manifest_file

CHUNK = 1 << 20


def write_point(
    store: Path, point: str, algorithm: str, files: dict[str, bytes], key: Ed25519PrivateKey
) -> None:
    """Write a point as drctl does: data, then the manifest signed with the site's key."""
    root = store / "sys" / "files" / point
    entries = []
    for name, data in files.items():
        (root / "data" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "data" / name).write_bytes(data)
        chunks = (
            tuple(
                hashlib.new(algorithm, data[i : i + CHUNK]).hexdigest()
                for i in range(0, len(data), CHUNK)
            )
            if len(data) > CHUNK
            else ()
        )
        entries.append(FileEntry(name, len(data), hashlib.new(algorithm, data).hexdigest(), chunks))
    manifest = Manifest(
        point,
        "sys",
        "files",
        "files",
        "2026-01-01",
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:01:00Z",
        "prod",
        "host",
        algorithm,
        tuple(entries),
    )
    (root / "manifest.json").write_bytes(serialise_manifest(manifest))
    sign_manifest_file(key, root / "manifest.json")


@pytest.fixture()
def store_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setattr(manifest_module, "CHUNK_BYTES", CHUNK)
    monkeypatch.setattr(verify, "CHUNK_BYTES", CHUNK)
    store = tmp_path / "store"
    (store / "sys" / "files" / "20260102T000000Z-000003" / "data").mkdir(parents=True)
    (tmp_path / "inventory.ini").write_text("[production]\nhost ansible_connection=local\n")
    (tmp_path / "off").mkdir()
    config = {
        "version": 1,
        "inventory": "inventory.ini",
        "evidence": {"accountable_person": "test"},
        "sites": [
            {
                "name": "prod",
                "role": "production",
                "host": "host",
                "city": "Shanghai",
                "data_root": str(tmp_path / "p"),
                "spool": str(tmp_path / "s"),
            },
            {
                "name": "dr",
                "role": "disaster_recovery",
                "host": "host",
                "city": "Hefei",
                "data_root": str(tmp_path / "d"),
                "spool": str(tmp_path / "s"),
            },
        ],
        "stores": [
            {"name": "primary", "url": f"file://{store}", "site": "prod"},
            {"name": "offsite", "url": f"file://{tmp_path / 'off'}", "site": "dr"},
        ],
        "systems": [
            {
                "name": "sys",
                "production_site": "prod",
                "disaster_recovery_site": "dr",
                "primary_store": "primary",
                "offsite_store": "offsite",
                "datasets": [
                    {"name": "files", "engine": "files", "category": "programs", "path": "files"}
                ],
            }
        ],
    }
    pin_evidence_key(config, tmp_path)
    path = tmp_path / "dr.yml"
    path.write_text(yaml.safe_dump(config))
    key = pin_manifest_key(path)
    rng = os.urandom
    write_point(
        store,
        "20260101T000000Z-000001",
        "sha256",
        {"big.bin": rng(5 * CHUNK + 123), "small/a.txt": b"hello\n"},
        key,
    )
    write_point(
        store,
        "20260101T000000Z-000002",
        "sm3",
        {"ledger.dump": rng(3 * CHUNK), "empty": b""},
        key,
    )
    return path, store


def test_clean_store_passes_with_sm3_and_chunks_and_ignores_incomplete(
    store_config: tuple[Path, Path],
) -> None:
    path, _store = store_config
    with open_runtime(load_site(path)) as runtime:
        result = verify.scan(runtime, workers=2)
    assert result.ok, [p.describe() for p in result.problems]
    assert (result.points, result.files) == (2, 4)
    assert result.bytes == 5 * CHUNK + 123 + 6 + 3 * CHUNK
    assert result.incomplete == ["primary: sys/files/20260102T000000Z-000003"]


def test_points_are_read_one_at_a_time_as_their_files_are_hashed(
    store_config: tuple[Path, Path],
) -> None:
    # Manifests are streamed (issue 15, memory flat in the number of files): the first job
    # is handed out once the first point is authenticated, before the second is opened.
    path, store = store_config
    (store / "sys" / "files" / "20260101T000000Z-000002" / "data" / "empty").unlink()
    with open_runtime(load_site(path)) as runtime:
        result = verify.ScanResult()
        progress = verify.Progress(0, label="test", enabled=False)
        jobs = verify._every_job(runtime, result, progress)
        first = next(jobs)
        assert first.tag.label.endswith("-000001")
        assert (result.points, progress.total) == (1, 5 * CHUNK + 123 + 6)
        rest = list(jobs)
    assert result.points == 2 and progress.total == 5 * CHUNK + 123 + 6 + 3 * CHUNK
    assert result.scanned == ["primary", "offsite"]
    # The second point's missing file is reported and not handed out to be hashed.
    assert [(p.file, p.kind) for p in result.problems] == [("empty", "missing")]
    assert "empty" not in {job.tag.entry.path for job in rest}


def test_a_flipped_byte_in_one_chunk_is_named_with_its_offset(
    store_config: tuple[Path, Path],
) -> None:
    path, store = store_config
    big = store / "sys" / "files" / "20260101T000000Z-000001" / "data" / "big.bin"
    data = bytearray(big.read_bytes())
    data[3 * CHUNK + 10] ^= 0xFF
    big.write_bytes(bytes(data))
    with open_runtime(load_site(path)) as runtime:
        result = verify.scan(runtime, workers=2)
    (problem,) = result.problems
    assert (problem.file, problem.kind) == ("big.bin", "mismatch")
    assert f"chunk 3 at byte {3 * CHUNK}" in problem.expected


def test_a_flipped_byte_in_an_sm3_point_fails_the_cli(
    store_config: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path, store = store_config
    dump = store / "sys" / "files" / "20260101T000000Z-000002" / "data" / "ledger.dump"
    data = bytearray(dump.read_bytes())
    data[-1] ^= 1
    dump.write_bytes(bytes(data))
    code = main(["-c", str(path), "verify", "--all"])
    out = capsys.readouterr().out
    assert code == 1
    assert "MISMATCH primary: sys/files/20260101T000000Z-000002: ledger.dump: mismatch" in out


def test_points_not_signed_by_the_pinned_key_are_intruders(
    store_config: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path, store = store_config
    # Someone with write access copies a good point under a later id: consistent manifest and
    # digests, the original signature (which does not cover the new bytes) ...
    real = store / "sys" / "files" / "20260101T000000Z-000001"
    copied = store / "sys" / "files" / "20260301T000000Z-0000aa"
    shutil.copytree(real, copied)
    manifest = copied / "manifest.json"
    manifest.write_text(manifest.read_text().replace(real.name, copied.name))
    # ... or writes a fresh point and signs it with a key of their own.
    stranger = Ed25519PrivateKey.generate()
    write_point(store, "20260302T000000Z-0000bb", "sha256", {"x.bin": b"planted"}, stranger)
    code = main(["-c", str(path), "--json", "verify", "--all"])
    result = json.loads(capsys.readouterr().out)
    assert code == 1
    intruders = {(p["recovery_point"], p["kind"]) for p in result["problems"]}
    assert intruders == {
        ("sys/files/20260301T000000Z-0000aa", "intruder"),
        ("sys/files/20260302T000000Z-0000bb", "intruder"),
    }
    assert result["recovery_points"] == 2  # only the two authenticated points were read


def test_an_unpinned_or_foreign_signing_key_refuses_to_back_up(
    store_config: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _store = store_config
    config = yaml.safe_load(path.read_text())
    config["manifest_signing"]["public_key"] = sign.public_key_line(Ed25519PrivateKey.generate())
    path.write_text(yaml.safe_dump(config))
    assert main(["-c", str(path), "backup"]) == 2
    assert "is not the pinned public_key" in capsys.readouterr().err
    assert main(["-c", str(path), "keys", "create"]) == 2  # never replaces a key
    assert "never replaced" in capsys.readouterr().err
