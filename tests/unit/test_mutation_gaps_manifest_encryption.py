"""Gaps in model/manifest.py's encrypted format (version 2) that mutation testing found
(issue 16): the bounds of a file's stored size are exactly those the message names, 1 and
MAX_FILE_BYTES, both included; 0 is refused as out of range, not as "not more than size"."""

from __future__ import annotations

import json

import pytest

from orchestrator.model.manifest import MAX_FILE_BYTES, ManifestError, parse_manifest
from tests.fixtures.manifest_documents import manifest_document

ENCRYPTION = {
    "scheme": "drctl-envelope-v1",
    "cipher": "aes-256-gcm",
    "kek_id": "0123456789abcdef",
    "key_check": "c" * 64,
    "wrapped_key": "d" * 80,
}


def encrypted(size: int, stored_size: int) -> bytes:
    entry = {
        "path": "ledger.db",
        "size": size,
        "digest": "a" * 64,
        "stored_size": stored_size,
        "stored_digest": "b" * 64,
    }
    document = manifest_document(format_version=2, files=[entry], encryption=dict(ENCRYPTION))
    return json.dumps(document).encode()


@pytest.mark.parametrize(("size", "stored_size"), [(0, 1), (10, MAX_FILE_BYTES)])
def test_stored_size_bounds_are_included(size: int, stored_size: int) -> None:
    (entry,) = parse_manifest(encrypted(size, stored_size)).files
    assert entry.stored_size == stored_size


@pytest.mark.parametrize("stored_size", [0, MAX_FILE_BYTES + 1])
def test_stored_size_out_of_range_is_refused_as_such(stored_size: int) -> None:
    with pytest.raises(
        ManifestError, match=r"stored_size: expected an integer between 1 and "
    ) as raised:
        parse_manifest(encrypted(0, stored_size), source="m.json")
    assert raised.value.problems == [
        f"m.json: files[0].stored_size: expected an integer between 1 and {MAX_FILE_BYTES}"
    ]
