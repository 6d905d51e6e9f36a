"""A manifest that says it is signed: judge its `manifest.json.sig` against that claim.

A point's manifest is authenticated by its signature or by the catalog's recorded digest
(point_trust.py). While the catalog vouches for a manifest, the signature beside it used to
matter to nobody: deleting it, or putting garbage or another manifest's valid signature in its
place, went unnoticed — and after a catalog loss `catalog rebuild` could no longer tell the point
from one someone planted, so it was gone for recovery.

Every manifest drctl signs now names the key it was signed with (`signed_by`: the fingerprint of
the ed25519 public key, `sign.fingerprint`). The claim is inside the signed bytes, so it is
authenticated by whatever authenticates the manifest: the catalog's digest or the signature
itself; nobody without the key can remove it without changing the manifest, which the catalog
then reports as a `manifest` mismatch. Why the manifest and not a catalog column: the claim must
survive the loss of the catalog (a rebuild reads only the stores) and travel with the point to
the off-site store, where the catalog has no row for a copy it has not yet been told about.

A point whose manifest claims a signature that is missing (kind `missing`) or that does not
verify with the claimed key (kind `mismatch`) has had its store tampered with: BrokenSignature.
Readers treat it as any other tampered file of a point (verification.md §8: recorded bad for
good, evidence, exit 1) while the catalog vouches for the manifest, and as an unauthenticated
point (an intruder, reported with this reason) when it does not.

Unchanged, as before the claim existed: a manifest without `signed_by` (written before it, or by
a site without `manifest_signing`), a signature that cannot be checked because dr.yml pins no
key, and one whose claimed key dr.yml no longer trusts (the operator dropped it from
`retired_public_keys`: a change of config, not of the store) are reported (`signature`, not bad)
beside a recorded manifest. A signature by a retired key that is still listed stays valid,
unless dr.yml dates the key's retirement (`{public_key, retired_at}`) and the point finished
after it: then the signature does not authenticate the point (reported, as an untrusted key).
The finish time is in the signed manifest, so a stolen old key can still plant a *backdated*
point; such a point is never newer than the rotation, so it never becomes the newest point.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from orchestrator.errors import CheckFailed
from orchestrator.evidence import sign
from orchestrator.integrations.stores.base import MANIFEST_NAME

SIGNATURE_NAME = f"{MANIFEST_NAME}.sig"


@dataclass(frozen=True)
class Broken:
    """What is wrong with a claimed signature: the failure's kind (`missing` | `mismatch`) and
    both values, as a mismatch of any other file of the point is recorded."""

    kind: str
    expected: str
    actual: str


@dataclass(frozen=True)
class SignatureJudgement:
    """Whether a manifest is signed by a trusted key, a problem only reported (not bad), and
    the tampering found (a claimed signature missing or invalid), if any."""

    signed: bool
    problem: str = ""
    broken: Broken | None = None


class BrokenSignature(CheckFailed):
    """A point whose manifest says it is signed has no valid signature by that key: someone
    changed its store. `opened` is the point (point_trust.OpenedPoint) when the catalog vouches
    for its manifest, so its files can still be checked; None when nothing does."""

    def __init__(self, where: str, broken: Broken, claim: str, opened: Any = None) -> None:
        self.where = where
        self.kind = broken.kind
        self.expected = broken.expected
        self.actual = broken.actual
        self.opened = opened
        self.reason = (
            f"its manifest says it is signed by key {claim}, but {SIGNATURE_NAME} is "
            + ("missing" if broken.kind == "missing" else "not a valid signature of it by that key")
            + ": the store was changed by someone without the key (signature removed or "
            "replaced, or the point planted)"
        )
        super().__init__(f"{where}: {self.reason}")

    @property
    def recorded(self) -> bool:
        """Whether the catalog vouches for the manifest (its digest is the one recorded)."""
        return self.opened is not None


def judge_signature(
    claim: str | None,
    data: bytes,
    signature: bytes | None,
    keys: tuple[Ed25519PublicKey, ...],
    *,
    retired: tuple[str, Mapping[str, datetime]] = ("", {}),
) -> SignatureJudgement:
    """Given a manifest's `signed_by` claim (None when it makes none), its bytes, the bytes of
    its signature file (None when absent), the trusted keys (pinned, then retired) and the
    manifest's finished_at with {fingerprint: retired_at} of the dated retired keys, return
    the judgement: signed, a problem only reported, or the tampering found."""
    expected = f"an ed25519 signature of {MANIFEST_NAME} by key {claim} (its signed_by)"
    if signature is None:
        if claim is None:
            return SignatureJudgement(False)
        return SignatureJudgement(False, broken=Broken("missing", expected, "(absent)"))
    if not keys:
        return SignatureJudgement(
            False, "signed, but no manifest_signing.public_key is configured to check it"
        )
    if claim is None:
        for key in keys:
            if sign.verify_signature(key, data, signature):
                return _judge_retirement(sign.fingerprint(key), *retired)
        return SignatureJudgement(
            False, f"{SIGNATURE_NAME} is not a valid signature by a trusted key"
        )
    claimed = [key for key in keys if sign.fingerprint(key) == claim]
    if not claimed:
        return SignatureJudgement(
            False,
            f"signed by key {claim}, which dr.yml does not trust (neither "
            "manifest_signing.public_key nor one of retired_public_keys)",
        )
    if sign.verify_signature(claimed[0], data, signature):
        return _judge_retirement(claim, *retired)
    actual = f"{len(signature)} bytes that are not a valid signature of these manifest bytes"
    return SignatureJudgement(False, broken=Broken("mismatch", expected, actual))


def _judge_retirement(
    fingerprint: str, finished_at: str, retired_at: Mapping[str, datetime]
) -> SignatureJudgement:
    """Given the fingerprint of the key whose signature verifies, the manifest's finished_at
    and the dated retired keys, return signed, or why not: the point finished after the key
    was rotated out (its private key, kept or leaked, signing a new point)."""
    retired = retired_at.get(fingerprint)
    if retired is None:
        return SignatureJudgement(True)
    try:
        finished = datetime.fromisoformat(finished_at)
    except ValueError:
        finished = None
    if finished is not None and finished.tzinfo is not None and finished <= retired:
        return SignatureJudgement(True)
    return SignatureJudgement(
        False,
        f"signed by key {fingerprint}, retired at {retired.isoformat()} "
        f"(manifest_signing.retired_public_keys), but the point finished at {finished_at!r}, "
        "not before then: a retired key authenticates only points that finished before it was "
        "rotated out",
    )
