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
from datetime import date
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from orchestrator.check_window import PERIOD_EPOCH, window_problem
from orchestrator.evidence import sign
from orchestrator.timefmt import epoch_seconds

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


def seed_problems(report: Any, signer: Ed25519PublicKey) -> list[str]:
    """Given a package's report.json and its signer's key, return what is wrong with a signed
    sample seed it records; [] when it records none (another kind, or a seed given by hand)."""
    plan = report.get("plan") if isinstance(report, dict) else None
    if not isinstance(plan, dict):
        return ["report.json: a counted check without its plan"] if counted_sample(report) else []
    derivation = plan.get("seed_derivation")
    if not isinstance(derivation, dict) or derivation.get("method") != SEED_SIGNED:
        return _counted_problems(report, plan)
    message, seed = derivation.get("message"), report.get("seed")
    window = f"{derivation.get('period_start')}:{derivation.get('previous_evidence_sha256')}"
    problems = _counted_problems(report, plan)
    if problems:
        return problems
    if message != window:
        return [f"report.json: the seed's message {message!r} is not its window {window!r}"]
    misplaced = _window_problem(derivation, report)
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


def _counted_problems(report: dict[str, Any], plan: dict[str, Any]) -> list[str]:
    """Return why a check its report calls counted could not count: a seed not drawn (given
    by hand, or no method), or fewer points or bytes judged than its plan's 10 % bars."""
    if not counted_sample(report):
        return []
    derivation = plan.get("seed_derivation")
    method = derivation.get("method") if isinstance(derivation, dict) else None
    if method != SEED_SIGNED:
        return [
            f"report.json: the check is recorded counted, but its seed was not drawn "
            f"(method {method!r}): a chosen sample never counts"
        ]
    record, sample = report.get("record") or {}, plan.get("sample") or {}
    try:
        short = int(record["sample_points"]) < int(sample["required_points"]) or int(
            record["sample_bytes"]
        ) < int(sample["required_bytes"])
    except (KeyError, TypeError, ValueError):
        return ["report.json: the check is recorded counted, but its sample's size is unreadable"]
    if short:
        return [
            "report.json: the check is recorded counted, but it judged fewer points or bytes "
            "than its plan's 10 % bars require"
        ]
    return []


def _window_problem(derivation: dict[str, Any], report: dict[str, Any]) -> str | None:
    """Return why a signed seed's window is not the one its check started in, or None."""
    package = report.get("package")
    try:
        start = date.fromisoformat(str(derivation.get("period_start")))
        days = int(derivation.get("period_days"))  # type: ignore[arg-type]
        started = _moment(report.get("started_at"))
        written = _moment(package.get("created_at") if isinstance(package, dict) else None)
    except (TypeError, ValueError) as error:
        return f"its window, start or package time cannot be read ({error})"
    if derivation.get("period_epoch") != PERIOD_EPOCH.isoformat():
        return f"its windows are not counted from {PERIOD_EPOCH.isoformat()}"
    return window_problem(start, days, started, written)


def _moment(text: Any) -> float:
    """Return an RFC 3339 UTC time as epoch seconds; ValueError when it is not one."""
    return epoch_seconds(str(text))
