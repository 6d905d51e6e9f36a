"""Gaps in model/manifest.py that mutation testing found (issue 16).

- A bad file entry must not stop the check: every later entry is still looked at, so an
  operator sees every problem of a hostile manifest in one go, not one per attempt.
- `fingerprint_differences` (what `drctl restore` prints and records when a restored table
  differs from the source) was reached by no unit test: each differing table or tree is named
  with both values, digest first, counts after; an absent side says so.
- `compare_fingerprints` names only the keys that differ.

Problems are compared by where they point (`files[3].digest`), not by their wording.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from orchestrator.model.manifest import (
    CHUNK_BYTES,
    FingerprintDifference,
    ManifestError,
    compare_fingerprints,
    fingerprint_differences,
    parse_manifest,
)
from tests.fixtures.manifest_documents import manifest_document

A, B, C = "a" * 64, "b" * 64, "c" * 64


def document(files: list[Any]) -> bytes:
    return json.dumps(manifest_document(files=files)).encode()


def where_of_problems(files: list[Any]) -> list[str]:
    """Return the field each problem points at (`files[1].digest`), in order."""
    with pytest.raises(ManifestError, match=r"files\[") as raised:
        parse_manifest(document(files), source="rp/manifest.json")
    return [problem.split(": ")[1] for problem in raised.value.problems]


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"path": "a", "size": 1, "digest": "A" * 64}, "digest"),
        ({"path": "a", "size": 1, "digest": A, "chunk_digests": "x"}, "chunk_digests"),
        (
            {"path": "a", "size": CHUNK_BYTES + 1, "digest": A, "chunk_digests": [A]},
            "chunk_digests",
        ),
    ],
)
def test_entries_after_a_bad_one_are_still_checked(bad: dict[str, Any], field: str) -> None:
    files = [bad, {"path": "b", "size": 1, "digest": "not hex"}]
    assert where_of_problems(files) == [f"files[0].{field}", "files[1].digest"]


def test_entries_after_a_duplicate_are_still_checked() -> None:
    files = [
        {"path": "a", "size": 1, "digest": A},
        {"path": "a", "size": 2, "digest": B},
        {"path": "c", "size": 1, "digest": "not hex"},
    ]
    assert where_of_problems(files) == ["files[1].path", "files[2].digest"]


def test_a_good_entry_after_a_bad_one_is_kept_out_and_the_manifest_refused() -> None:
    files = [{"path": "a", "size": 1, "digest": "short"}, {"path": "b", "size": 1, "digest": A}]
    assert where_of_problems(files) == ["files[0].digest"]


def test_fingerprint_differences_name_each_differing_object_with_both_values() -> None:
    expected = {
        "objects": {
            "accounts": {"digest": A, "rows": 40},
            "gone": {"digest": B, "rows": 1, "pages": 2},
            "same": {"digest": C, "rows": 7},
            "tree": {"digest": A},
            "undigested": {"rows": 3},
        }
    }
    actual = {
        "objects": {
            "accounts": {"digest": B, "rows": 41},
            "new": {"digest": C},
            "same": {"digest": C, "rows": 7},
            "tree": {"digest": B},
            "undigested": {"rows": 4},
        }
    }
    assert fingerprint_differences(expected, actual) == [
        FingerprintDifference("accounts", f"{A} (rows 40)", f"{B} (rows 41)"),
        FingerprintDifference("gone", f"{B} (pages 2, rows 1)", "(absent)"),
        FingerprintDifference("new", "(absent)", C),
        FingerprintDifference("tree", A, B),
        FingerprintDifference("undigested", "(no digest) (rows 3)", "(no digest) (rows 4)"),
    ]


def test_fingerprint_differences_with_one_side_empty_or_without_objects() -> None:
    source = {"objects": {"t": {"digest": A, "rows": 2}}}
    assert fingerprint_differences(source, {}) == [
        FingerprintDifference("t", f"{A} (rows 2)", "(absent)")
    ]
    assert fingerprint_differences({}, source) == [
        FingerprintDifference("t", "(absent)", f"{A} (rows 2)")
    ]
    assert fingerprint_differences(source, source) == []
    assert fingerprint_differences({}, {}) == []


def test_compare_fingerprints_names_only_the_keys_that_differ() -> None:
    expected = {"objects": {"t": {"digest": A, "rows": 1, "pages": 2}}}
    actual = {"objects": {"t": {"digest": B, "rows": 1, "pages": 2}}}
    assert compare_fingerprints(expected, actual) == [f"t: digest expected {A!r}, got {B!r}"]
