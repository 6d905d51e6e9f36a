"""parse_manifest refuses hostile input naming each problem exactly; the canonical bytes and
the fingerprint comparison are pinned to the character."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orchestrator.model.manifest import (
    CHUNK_BYTES,
    MAX_FILE_BYTES,
    MAX_FILES,
    FileEntry,
    Manifest,
    ManifestError,
    check_relative_path,
    compare_fingerprints,
    make_manifest_dict,
    parse_manifest,
    serialise_manifest,
)
from tests.fixtures.manifest_documents import manifest_document

A, B = "a" * 64, "b" * 64


def document(**changes: Any) -> dict[str, Any]:
    return manifest_document(**changes)


def problems(data: object, source: str = "rp/manifest.json") -> list[str]:
    with pytest.raises(ManifestError, match=source) as raised:
        parse_manifest(json.dumps(data).encode(), source=source)
    assert str(raised.value) == "; ".join(raised.value.problems)
    return raised.value.problems


def file_problems(**entry: Any) -> list[str]:
    return problems(document(files=[{"path": "a", "size": 1, "digest": A, **entry}]))


def test_a_good_document_parses_to_every_field() -> None:
    manifest = parse_manifest(json.dumps(document(fingerprint={"objects": {}})).encode())
    assert manifest == Manifest(
        "20261123T020000Z-1a2b3c",
        "core-banking",
        "ledger",
        "sqlite",
        "2026-11-22",
        "2026-11-23T02:00:00Z",
        "2026-11-23T02:00:05Z",
        "production",
        "prod-1",
        "sha256",
        (FileEntry("ledger.db", 10, A),),
        {"objects": {}},
    )
    without = document()
    del without["fingerprint"]
    assert parse_manifest(json.dumps(without).encode()).fingerprint == {}
    sm3 = parse_manifest(json.dumps(document(hash_algorithm="sm3")).encode())
    assert sm3.hash_algorithm == "sm3"


def test_not_json_and_not_an_object() -> None:
    with pytest.raises(ManifestError, match=r"^m\.json: not valid UTF-8 JSON \("):
        parse_manifest(b"{", source="m.json")
    with pytest.raises(ManifestError, match=r"^m\.json: not valid UTF-8 JSON \("):
        parse_manifest(b"\xff", source="m.json")
    assert problems([1, 2], "m.json") == ["m.json: expected a JSON object"]
    with pytest.raises(ManifestError, match=r"^manifest\.json: expected a JSON object$"):
        parse_manifest(b"[]")


def test_format_kind_and_every_string_field_are_checked() -> None:
    data = document(format_version=3, kind="incremental", system=5, engine=None, source_host=True)
    del data["dataset"]
    assert problems(data) == [
        "rp/manifest.json: format_version: expected 1 or 2",
        "rp/manifest.json: kind: expected 'full'",
        "rp/manifest.json: system: expected str, got int",
        "rp/manifest.json: dataset: expected str, got NoneType",
        "rp/manifest.json: engine: expected str, got NoneType",
        "rp/manifest.json: source_host: expected str, got bool",
    ]


@pytest.mark.parametrize(
    "point_id",
    ["latest", "20261123T020000Z-1A2B3C", "20261123T020000Z-1a2b3", "x20261123T020000Z-1a2b3c"],
)
def test_the_recovery_point_id_pattern(point_id: str) -> None:
    assert problems(document(recovery_point_id=point_id)) == [
        "rp/manifest.json: recovery_point_id: expected YYYYMMDDTHHMMSSZ-xxxxxx"
    ]


def test_an_unknown_algorithm_and_a_non_object_fingerprint() -> None:
    assert problems(document(hash_algorithm="md5", fingerprint=["rows"])) == [
        "rp/manifest.json: hash_algorithm: expected one of sha256, sm3",
        "rp/manifest.json: fingerprint: expected an object",
    ]


@pytest.mark.parametrize("files", [None, [], {}, "ledger.db"])
def test_files_must_be_a_non_empty_list(files: object) -> None:
    assert problems(document(files=files)) == ["rp/manifest.json: files: expected a non-empty list"]


def test_too_many_files_are_refused_without_looking_at_them() -> None:
    assert problems(document(files=[0] * (MAX_FILES + 1))) == [
        f"rp/manifest.json: files: {MAX_FILES + 1} entries is more than the {MAX_FILES} allowed"
    ]


def test_exactly_the_maximum_number_of_files_is_looked_at() -> None:
    found = problems(document(files=[0] * MAX_FILES))
    assert len(found) == MAX_FILES
    assert found[-1] == f"rp/manifest.json: files[{MAX_FILES - 1}]: expected an object"


@pytest.mark.parametrize("size", [-1, MAX_FILE_BYTES + 1, "10", 1.5, True, None])
def test_sizes_outside_the_range_are_refused(size: object) -> None:
    assert file_problems(size=size) == [
        f"rp/manifest.json: files[0].size: expected an integer between 0 and {MAX_FILE_BYTES}"
    ]


@pytest.mark.parametrize("size", [0, MAX_FILE_BYTES])
def test_sizes_at_the_edges_are_accepted(size: int) -> None:
    data = document(files=[{"path": "a", "size": size, "digest": A}])
    assert parse_manifest(json.dumps(data).encode()).files == (FileEntry("a", size, A),)


@pytest.mark.parametrize("digest", ["A" * 64, "a" * 63, "a" * 65, None, "g" * 64])
def test_digests_must_be_lowercase_hex_of_64(digest: object) -> None:
    assert file_problems(digest=digest) == [
        "rp/manifest.json: files[0].digest: expected 64 lowercase hex characters"
    ]


@pytest.mark.parametrize("chunks", ["abc", [1], ["A" * 64], [A, "x"]])
def test_chunk_digests_must_be_a_list_of_hex_digests(chunks: object) -> None:
    assert file_problems(chunk_digests=chunks) == [
        "rp/manifest.json: files[0].chunk_digests: expected a list of hex digests"
    ]


@pytest.mark.parametrize(
    ("size", "count", "good"),
    [
        (0, 1, True),
        (0, 2, False),
        (CHUNK_BYTES, 1, True),
        (CHUNK_BYTES, 2, False),
        (CHUNK_BYTES + 1, 2, True),
        (CHUNK_BYTES + 1, 1, False),
        (3 * CHUNK_BYTES, 3, True),
    ],
)
def test_one_chunk_digest_per_chunk(size: int, count: int, good: bool) -> None:
    entry = {"path": "a", "size": size, "digest": A, "chunk_digests": [B] * count}
    data = document(files=[entry])
    if good:
        (parsed,) = parse_manifest(json.dumps(data).encode()).files
        assert parsed.chunk_digests == (B,) * count
    else:
        assert problems(data) == [
            f"rp/manifest.json: files[0].chunk_digests: expected one digest per {CHUNK_BYTES} bytes"
        ]


def test_each_entry_is_named_by_its_index_and_bad_entries_are_left_out() -> None:
    files = [
        {"path": "ok", "size": 1, "digest": A},
        "not an object",
        {"path": "../x", "size": 1, "digest": A},
        {"path": "../y", "size": -1, "digest": A},
        {"path": "ok", "size": 2, "digest": B},
    ]
    assert problems(document(files=files)) == [
        "rp/manifest.json: files[1]: expected an object",
        "rp/manifest.json: files[2].path: '../x' leaves the recovery point; "
        "'..', '.', '\\' are refused",
        "rp/manifest.json: files[3].path: '../y' leaves the recovery point; "
        "'..', '.', '\\' are refused",
        f"rp/manifest.json: files[3].size: expected an integer between 0 and {MAX_FILE_BYTES}",
        "rp/manifest.json: files[4].path: duplicate 'ok'",
    ]


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        (None, "expected a non-empty relative path"),
        (7, "expected a non-empty relative path"),
        ("", "expected a non-empty relative path"),
        ("/etc/passwd", "'/etc/passwd' is absolute; expected a relative path"),
        ("\\share\\x", "'\\\\share\\\\x' is absolute; expected a relative path"),
        ("C:x", "'C:x' is absolute; expected a relative path"),
        ("z:/x", "'z:/x' is absolute; expected a relative path"),
        ("a/../b", "'a/../b' leaves the recovery point; '..', '.', '\\' are refused"),
        ("./a", "'./a' leaves the recovery point; '..', '.', '\\' are refused"),
        ("a//b", "'a//b' leaves the recovery point; '..', '.', '\\' are refused"),
        ("a/", "'a/' leaves the recovery point; '..', '.', '\\' are refused"),
        ("a\\b", "'a\\\\b' leaves the recovery point; '..', '.', '\\' are refused"),
        ("a\x00b", "'a\\x00b' leaves the recovery point; '..', '.', '\\' are refused"),
    ],
)
def test_relative_paths_are_checked(path: object, problem: str) -> None:
    assert check_relative_path(path, "files[0].path") == [f"files[0].path: {problem}"]


@pytest.mark.parametrize("path", ["a", "a/b/c.db", "1:2", "..x/y.", "ab:/x"])
def test_plain_relative_paths_pass(path: str) -> None:
    assert check_relative_path(path, "p") == []


def test_canonical_bytes_are_sorted_indented_utf8_with_a_newline() -> None:
    manifest = Manifest(
        "20261123T020000Z-1a2b3c",
        "核心系统",
        "ledger",
        "files",
        "2026-11-22",
        "s",
        "f",
        "production",
        "prod-1",
        "sm3",
        (FileEntry("b", 1, A, (B,)), FileEntry("a", 2, B)),
        {"kind": "tree"},
    )
    data = serialise_manifest(manifest)
    assert data.endswith(b"}\n") and "核心系统".encode() in data
    assert json.loads(data) == make_manifest_dict(manifest)
    assert data.decode().splitlines()[:3] == [
        "{",
        '  "business_date": "2026-11-22",',
        '  "dataset": "ledger",',
    ]
    assert make_manifest_dict(manifest)["files"] == [
        {"path": "b", "size": 1, "digest": A, "chunk_digests": [B]},
        {"path": "a", "size": 2, "digest": B},
    ]
    assert make_manifest_dict(manifest)["format_version"] == 1
    assert make_manifest_dict(manifest)["kind"] == "full"
    assert manifest.total_bytes == 3
    assert manifest.file("a") == FileEntry("a", 2, B)
    assert manifest.file("c") is None


def test_fingerprint_differences_are_named_one_per_line() -> None:
    expected = {
        "objects": {
            "accounts": {"rows": 2, "digest": A},
            "postings": {"rows": 5, "digest": A},
            "same": {"rows": 1},
        }
    }
    actual = {
        "objects": {
            "postings": {"rows": 4, "digest": B, "pages": 3},
            "same": {"rows": 1},
            "zebra": {"rows": 0},
        }
    }
    assert compare_fingerprints(expected, actual) == [
        "accounts: missing after restore",
        f"postings: digest expected {A!r}, got {B!r}, pages expected None, got 3, "
        "rows expected 5, got 4",
        "zebra: unexpected (not in the source fingerprint)",
    ]
    assert compare_fingerprints({}, {}) == []
    assert compare_fingerprints({}, {"objects": {"t": {}}}) == [
        "t: unexpected (not in the source fingerprint)"
    ]
