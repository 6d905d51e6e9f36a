"""Manifests: build, serialise, parse; hostile input is refused with every problem named."""

from __future__ import annotations

import json

import pytest

from orchestrator.model.manifest import (
    FileEntry,
    Manifest,
    ManifestError,
    check_relative_path,
    compare_fingerprints,
    manifest_digest,
    parse_manifest,
    serialise_manifest,
)

DIGEST = "a" * 64


def make_manifest(**changes: object) -> Manifest:
    values: dict[str, object] = dict(
        recovery_point_id="20261123T020000Z-1a2b3c",
        system="core-banking",
        dataset="ledger",
        engine="sqlite",
        business_date="2026-11-22",
        started_at="2026-11-23T02:00:00Z",
        finished_at="2026-11-23T02:00:05Z",
        source_site="production",
        source_host="prod-1",
        hash_algorithm="sha256",
        files=(FileEntry("ledger.db", 10, DIGEST),),
        fingerprint={"kind": "sqlite", "objects": {"accounts": {"rows": 3, "digest": DIGEST}}},
    )
    values.update(changes)
    return Manifest(**values)  # type: ignore[arg-type]


def raw(manifest: Manifest) -> dict:
    return json.loads(serialise_manifest(manifest))


def test_manifest_round_trips_through_its_canonical_bytes() -> None:
    manifest = make_manifest()
    data = serialise_manifest(manifest)
    parsed = parse_manifest(data)
    assert parsed == manifest
    assert serialise_manifest(parsed) == data
    assert manifest_digest(data) == manifest_digest(serialise_manifest(parsed))


def test_manifest_digest_changes_when_one_field_changes() -> None:
    first = serialise_manifest(make_manifest())
    second = serialise_manifest(make_manifest(business_date="2026-11-23"))
    assert manifest_digest(first) != manifest_digest(second)


@pytest.mark.parametrize(
    "path", ["../etc/passwd", "data/../../x", "/etc/passwd", "a/./b", "C:/windows", "a\\..\\b", ""]
)
def test_manifest_with_escaping_path_is_refused(path: str) -> None:
    data = raw(make_manifest())
    data["files"][0]["path"] = path
    with pytest.raises(ManifestError, match=r"files\[0\]\.path") as error:
        parse_manifest(json.dumps(data).encode())
    assert "files[0].path" in str(error.value)


def test_manifest_with_absurd_size_is_refused() -> None:
    data = raw(make_manifest())
    data["files"][0]["size"] = 1 << 60
    with pytest.raises(ManifestError, match=r"files\[0\]\.size"):
        parse_manifest(json.dumps(data).encode())


def test_manifest_reports_every_problem_at_once() -> None:
    data = raw(make_manifest())
    data["hash_algorithm"] = "md5"
    data["files"][0]["digest"] = "xyz"
    data["recovery_point_id"] = "latest"
    with pytest.raises(ManifestError, match="recovery_point_id: expected") as error:
        parse_manifest(json.dumps(data).encode())
    assert len(error.value.problems) == 3


def test_manifest_with_duplicate_paths_is_refused() -> None:
    data = raw(make_manifest())
    data["files"].append(dict(data["files"][0]))
    with pytest.raises(ManifestError, match="duplicate"):
        parse_manifest(json.dumps(data).encode())


def test_manifest_that_is_not_json_is_refused() -> None:
    with pytest.raises(ManifestError, match="not valid UTF-8 JSON"):
        parse_manifest(b"\xff\xfe not json")


def test_relative_path_check_accepts_plain_nested_paths() -> None:
    assert check_relative_path("etc/service-01.conf", "files[0].path") == []


def test_fingerprints_equal_give_no_differences() -> None:
    fingerprint = {"objects": {"postings": {"rows": 5, "digest": DIGEST}}}
    assert compare_fingerprints(fingerprint, json.loads(json.dumps(fingerprint))) == []


def test_fingerprints_name_the_table_and_both_values() -> None:
    expected = {
        "objects": {
            "postings": {"rows": 5, "digest": DIGEST},
            "accounts": {"rows": 2, "digest": DIGEST},
        }
    }
    actual = {"objects": {"postings": {"rows": 4, "digest": "b" * 64}}}
    differences = compare_fingerprints(expected, actual)
    assert "accounts: missing after restore" in differences
    assert any(d.startswith("postings: ") and "rows expected 5, got 4" in d for d in differences)
