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
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from orchestrator.check_window import PERIOD_EPOCH, window_problem
from orchestrator.evidence import sign
from orchestrator.evidence.chain import read_chain
from orchestrator.evidence.chain_lock import chain_read_lock
from orchestrator.evidence.layout import CHAIN, ZERO_DIGEST
from orchestrator.evidence.untrusted_read import parse_json, read_regular

SEED_SIGNED = "ed25519_signature(period_start:previous_evidence_manifest_sha256)"


def signed_seed(key: Ed25519PrivateKey, message: str) -> tuple[str, dict[str, str]]:
    """Given the evidence key and the seed's message, return the seed (the signature's hex)
    and what a package records to check it: the method, the message and the signer."""
    seed = sign.sign(key, message.encode()).hex()
    return seed, {"method": SEED_SIGNED, "message": message, "signed_by": sign.fingerprint(key)}


def counted_sample(report: Any) -> bool:
    """Return whether a package's report.json is a sample check's that counted: the check the
    next window's seed is bound to."""
    if not isinstance(report, dict) or report.get("kind") != "verify":
        return False
    record = report.get("record")
    return (
        isinstance(record, dict)
        and record.get("kind") == "sample"
        and record.get("counted") is True
    )


def bound_previous(report: Any) -> str | None:
    """Return the previous check's evidence digest a package's signed seed is bound to, or
    None when it records no signed seed."""
    plan = report.get("plan") if isinstance(report, dict) else None
    derivation = plan.get("seed_derivation") if isinstance(plan, dict) else None
    if not isinstance(derivation, dict) or derivation.get("method") != SEED_SIGNED:
        return None
    return str(derivation.get("previous_evidence_sha256"))


def previous_counted_check(evidence_dir: Path) -> str:
    """Given the evidence directory, return the manifest digest of its chain's newest counted
    sample check (zeros when it has none): the `previous` a new check's seed is signed over.

    Raise ChainUnreadable (exit 3) when chain.jsonl cannot be read."""
    chain = evidence_dir / CHAIN
    if not chain.is_file():
        return ZERO_DIGEST
    with chain_read_lock(evidence_dir):
        entries = read_chain(chain)
    for entry in reversed(entries):
        if entry.kind != "verify":
            continue
        try:
            report = parse_json(read_regular(evidence_dir / entry.name / "report.json"))
        except (OSError, ValueError):
            continue  # a package missing or unreadable: `evidence verify` names it
        if counted_sample(report):
            return entry.manifest_sha256
    return ZERO_DIGEST


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
    misplaced = _window_problem(derivation, report.get("started_at"))
    if misplaced:
        return [f"report.json: the sample's seed is signed over another window: {misplaced}"]
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


def _window_problem(derivation: dict[str, Any], started_at: Any) -> str | None:
    """Return why a signed seed's window is not the one its check started in, or None."""
    try:
        start = date.fromisoformat(str(derivation.get("period_start")))
        days = int(derivation.get("period_days"))  # type: ignore[arg-type]
        started = datetime.fromisoformat(str(started_at).replace("Z", "+00:00")).timestamp()
    except (TypeError, ValueError) as error:
        return f"its window or start time cannot be read ({error})"
    if derivation.get("period_epoch") != PERIOD_EPOCH.isoformat():
        return f"its windows are not counted from {PERIOD_EPOCH.isoformat()}"
    return window_problem(start, days, started)
