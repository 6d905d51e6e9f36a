"""The seed of a validity check's sample, signed: unpredictable without the key, checkable with it.

A check's default seed is the hex of the site's ed25519 evidence key's signature of
`<period start>:<previous evidence digest>` (actions/verify_plan.py). Ed25519 signs
deterministically (RFC 8032 §5.1.6), so every retry in one window draws the same sample; nobody
without the key — a catalog reader, a store's administrator — can compute it ahead and know which
recovery points a window's check will leave unread. The package carries the message, and its
SIGNER.pub.pem checks the seed: `evidence verify` does, and an auditor can with `openssl`
(docs/verification.md §3). A package whose seed is not the signer's signature of its message had
its sample chosen, not drawn.
"""

from __future__ import annotations

import binascii
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from orchestrator.evidence import sign

SEED_SIGNED = "ed25519_signature(period_start:previous_evidence_manifest_sha256)"


def signed_seed(key: Ed25519PrivateKey, message: str) -> tuple[str, dict[str, str]]:
    """Given the evidence key and the seed's message, return the seed (the signature's hex)
    and what a package records to check it: the method, the message and the signer."""
    seed = sign.sign(key, message.encode()).hex()
    return seed, {"method": SEED_SIGNED, "message": message, "signed_by": sign.fingerprint(key)}


def seed_problems(report: Any, signer: Ed25519PublicKey) -> list[str]:
    """Given a package's report.json and its signer's key, return what is wrong with a signed
    sample seed it records; [] when it records none (another kind, or a seed given by hand)."""
    plan = report.get("plan") if isinstance(report, dict) else None
    if not isinstance(plan, dict):
        return []
    derivation = plan.get("seed_derivation")
    if not isinstance(derivation, dict) or derivation.get("method") != SEED_SIGNED:
        return []
    message, seed = derivation.get("message"), report.get("seed")
    window = f"{derivation.get('period_start')}:{derivation.get('previous_evidence_sha256')}"
    if message != window:
        return [f"report.json: the seed's message {message!r} is not its window {window!r}"]
    try:
        signature = binascii.unhexlify(str(seed))
    except (binascii.Error, ValueError):
        signature = b""
    if plan.get("seed") != seed or not sign.verify_signature(signer, window.encode(), signature):
        return [
            "report.json: the sample's seed is not the signer's signature of its window "
            f"{window!r}: the sample was chosen, not drawn"
        ]
    return []
