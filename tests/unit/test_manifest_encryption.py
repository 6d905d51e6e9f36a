"""Encrypted manifests (format_version 2): the stored size and digest per file and the
encryption block round-trip; hostile or misplaced blocks are refused, each problem named;
clear manifests stay byte for byte what they were."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orchestrator.model.manifest import (
    Encryption,
    FileEntry,
    Manifest,
    ManifestError,
    parse_manifest,
    serialise_manifest,
)
from tests.fixtures.manifest_documents import manifest_document

A, B, C = "a" * 64, "b" * 64, "c" * 64
ENCRYPTION = {
    "scheme": "drctl-envelope-v1",
    "cipher": "aes-256-gcm",
    "kek_id": "0123456789abcdef",
    "key_check": C,
    "wrapped_key": "d" * 80,
}


def document(**changes: Any) -> dict[str, Any]:
    files = [{"path": "ledger.db", "size": 10, "digest": A, "stored_size": 48, "stored_digest": B}]
    return manifest_document(
        **{"format_version": 2, "files": files, "encryption": dict(ENCRYPTION), **changes}
    )


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ManifestError, match=r"^m\.json: ") as raised:
        parse_manifest(json.dumps(data).encode(), source="m.json")
    return [problem.removeprefix("m.json: ") for problem in raised.value.problems]


def test_an_encrypted_manifest_round_trips_with_both_digests() -> None:
    manifest = parse_manifest(json.dumps(document()).encode())
    (entry,) = manifest.files
    assert (entry.size, entry.digest, entry.stored_size, entry.stored_digest) == (10, A, 48, B)
    assert (entry.at_rest_size, entry.at_rest_digest) == (48, B)
    assert manifest.encryption == Encryption(**ENCRYPTION)
    assert manifest.stored_bytes == 48 and manifest.total_bytes == 10
    assert parse_manifest(serialise_manifest(manifest)) == manifest


def test_a_clear_manifest_is_unchanged_and_at_rest_is_the_plaintext() -> None:
    entry = FileEntry("ledger.db", 10, A)
    manifest = Manifest(
        "20261123T020000Z-1a2b3c",
        "s",
        "d",
        "files",
        "2026-11-22",
        "x",
        "y",
        "p",
        "h",
        "sha256",
        (entry,),
    )
    raw = json.loads(serialise_manifest(manifest))
    assert raw["format_version"] == 1 and "encryption" not in raw
    assert raw["files"] == [{"path": "ledger.db", "size": 10, "digest": A}]
    assert (entry.at_rest_size, entry.at_rest_digest) == (10, A)


def test_the_block_is_required_in_version_2_and_refused_in_version_1() -> None:
    without = document()
    del without["encryption"]
    assert problems(without) == ["encryption: required when format_version is 2"]
    clear = document(format_version=1, files=[{"path": "a", "size": 1, "digest": A}])
    assert problems(clear) == ["encryption: only a format_version 2 manifest"]
    stray = document(
        format_version=1,
        files=[{"path": "a", "size": 1, "digest": A, "stored_size": 40, "stored_digest": B}],
    )
    del stray["encryption"]
    assert problems(stray) == [
        "files[0].stored_size: only an encrypted manifest has it",
        "files[0].stored_digest: only an encrypted manifest has it",
    ]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("cipher", "aes-128-cbc", "encryption.cipher: expected aes-256-gcm|sm4-gcm"),
        ("scheme", "other", "encryption.scheme: expected drctl-envelope-v1"),
        ("kek_id", "../../etc", "encryption.kek_id: expected [0-9a-f]{16}"),
        ("key_check", "A" * 64, "encryption.key_check: expected [0-9a-f]{64}"),
        ("wrapped_key", "d" * 81, "encryption.wrapped_key: expected [0-9a-f]{48}|[0-9a-f]{80}"),
        ("wrapped_key", 5, "encryption.wrapped_key: expected [0-9a-f]{48}|[0-9a-f]{80}"),
    ],
)
def test_every_field_of_the_block_is_checked(field: str, value: object, expected: str) -> None:
    assert problems(document(encryption={**ENCRYPTION, field: value})) == [expected]


def test_a_block_with_missing_or_extra_fields_or_of_the_wrong_type_is_refused() -> None:
    shape = "encryption: expected an object with scheme, cipher, kek_id, key_check, wrapped_key"
    assert problems(document(encryption={**ENCRYPTION, "data_key": "00"})) == [shape]
    partial = dict(ENCRYPTION)
    del partial["wrapped_key"]
    assert problems(document(encryption=partial)) == [shape]
    assert problems(document(encryption=["aes-256-gcm"])) == [shape]


def test_stored_size_and_digest_are_required_and_checked_in_version_2() -> None:
    entry = {"path": "a", "size": 10, "digest": A}
    assert problems(document(files=[entry])) == [
        "files[0].stored_size: expected an integer between 1 and 1125899906842624",
        "files[0].stored_digest: expected 64 lowercase hex characters",
    ]
    assert problems(document(files=[{**entry, "stored_size": 10, "stored_digest": B}])) == [
        "files[0].stored_size: expected more than size (header and tags)"
    ]
    assert problems(document(files=[{**entry, "stored_size": True, "stored_digest": "x"}])) == [
        "files[0].stored_size: expected an integer between 1 and 1125899906842624",
        "files[0].stored_digest: expected 64 lowercase hex characters",
    ]
