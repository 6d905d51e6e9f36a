"""A manifest's claim that it is signed (`signed_by`), and the signature beside it judged
against that claim (actions/point_signature.py): pure, with real ed25519 keys."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from orchestrator.actions.point_signature import Broken, BrokenSignature, judge_signature
from orchestrator.evidence import sign
from orchestrator.model.manifest import (
    FileEntry,
    Manifest,
    ManifestError,
    parse_manifest,
    serialise_manifest,
)

CURRENT = Ed25519PrivateKey.generate()
RETIRED = Ed25519PrivateKey.generate()
KEYS = (CURRENT.public_key(), RETIRED.public_key())
DATA = b'{"manifest": 1}\n'


def make_manifest(signed_by: str | None) -> Manifest:
    return Manifest(
        recovery_point_id="20261201T010203Z-abcdef",
        system="core-banking",
        dataset="ledger",
        engine="sqlite",
        business_date="2026-11-30",
        started_at="2026-12-01T01:02:03Z",
        finished_at="2026-12-01T01:02:04Z",
        source_site="production",
        source_host="db1",
        hash_algorithm="sha256",
        files=(FileEntry("ledger.db", 3, "a" * 64),),
        signed_by=signed_by,
    )


def test_serialise_manifest_names_the_signing_key_and_parse_reads_it_back() -> None:
    claim = sign.fingerprint(CURRENT)
    data = serialise_manifest(make_manifest(claim))
    assert json.loads(data)["signed_by"] == claim
    assert parse_manifest(data).signed_by == claim


def test_serialise_manifest_without_signing_makes_no_claim() -> None:
    data = serialise_manifest(make_manifest(None))
    assert "signed_by" not in json.loads(data)
    assert parse_manifest(data).signed_by is None


@pytest.mark.parametrize("value", [None, 7, "ABC", "g" * 64, "a" * 63, "a" * 64 + "\n"])
def test_parse_manifest_refuses_a_signed_by_that_is_no_fingerprint(value: object) -> None:
    raw = json.loads(serialise_manifest(make_manifest(None)))
    raw["signed_by"] = value
    with pytest.raises(ManifestError, match="signed_by: expected a key fingerprint"):
        parse_manifest(json.dumps(raw).encode())


def test_judge_signature_claimed_but_missing_is_broken_missing() -> None:
    claim = sign.fingerprint(CURRENT)
    judgement = judge_signature(claim, DATA, None, KEYS)
    assert not judgement.signed and judgement.broken is not None
    assert judgement.broken.kind == "missing" and judgement.broken.actual == "(absent)"
    assert claim in judgement.broken.expected


def test_judge_signature_claimed_but_missing_is_broken_even_without_keys_configured() -> None:
    judgement = judge_signature(sign.fingerprint(CURRENT), DATA, None, ())
    assert judgement.broken is not None and judgement.broken.kind == "missing"


@pytest.mark.parametrize(
    "signature",
    [b"\x00" * 64, b"short", sign.sign(CURRENT, b"another manifest")],
    ids=["garbage", "truncated", "valid-over-other-bytes"],
)
def test_judge_signature_claimed_but_invalid_is_broken_mismatch(signature: bytes) -> None:
    judgement = judge_signature(sign.fingerprint(CURRENT), DATA, signature, KEYS)
    assert not judgement.signed and judgement.broken is not None
    assert judgement.broken.kind == "mismatch"


def test_judge_signature_by_another_trusted_key_than_claimed_is_broken() -> None:
    judgement = judge_signature(sign.fingerprint(RETIRED), DATA, sign.sign(CURRENT, DATA), KEYS)
    assert judgement.broken is not None and judgement.broken.kind == "mismatch"


@pytest.mark.parametrize("key", [CURRENT, RETIRED], ids=["current", "retired"])
def test_judge_signature_by_the_claimed_trusted_key_is_signed(key: Ed25519PrivateKey) -> None:
    judgement = judge_signature(sign.fingerprint(key), DATA, sign.sign(key, DATA), KEYS)
    assert judgement.signed and judgement.broken is None and judgement.problem == ""


def test_judge_signature_by_a_key_no_longer_trusted_is_reported_not_tampering() -> None:
    judgement = judge_signature(
        sign.fingerprint(RETIRED), DATA, sign.sign(RETIRED, DATA), (CURRENT.public_key(),)
    )
    assert not judgement.signed and judgement.broken is None
    assert "does not trust" in judgement.problem


def test_judge_signature_without_a_claim_is_judged_as_before() -> None:
    assert judge_signature(None, DATA, None, KEYS) == judge_signature(None, DATA, None, ())
    assert not judge_signature(None, DATA, None, KEYS).signed
    assert judge_signature(None, DATA, sign.sign(RETIRED, DATA), KEYS).signed
    unclaimed = judge_signature(None, DATA, b"\x00" * 64, KEYS)
    assert not unclaimed.signed and unclaimed.broken is None and unclaimed.problem
    unchecked = judge_signature(None, DATA, sign.sign(CURRENT, DATA), ())
    assert unchecked.broken is None and "no manifest_signing.public_key" in unchecked.problem


def test_broken_signature_is_recorded_only_when_the_catalog_vouches() -> None:
    broken = Broken("missing", "a signature", "(absent)")
    unvouched = BrokenSignature("primary:a/b/c/manifest.json.sig", broken, "f" * 64)
    assert not unvouched.recorded and "f" * 64 in str(unvouched)
    assert "missing" in unvouched.reason
    assert BrokenSignature("w", broken, "f" * 64, opened=object()).recorded
