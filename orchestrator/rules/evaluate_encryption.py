"""Judge encryption at rest: `storage.encryption` per store (R46, R61, R107, R121) and
`encryption.key_escrow` for the site (a lost key-encryption key is lost backups).

storage.encryption, per store of dr.yml, over the recovery points the store holds at the time
of judgement (a copy present there) — what an intruder who takes the store's media would get:

- no point held → 无法判定 (nothing stored, nothing to judge);
- every point held was written encrypted (catalog `recovery_points.cipher` set) → 符合;
- one or more in clear → 不符合, naming the oldest clear ones (they leave the store only as
  retention rotates them out, so the finding stays until then — on purpose).

encryption.key_escrow: an attestation (rule `encryption.key_escrow`, subject `all` or the site's
name) that the key-encryption key is escrowed. 不适用 only when no key exists: dr.yml has no
`encryption` block and no point held anywhere is encrypted. Otherwise the newest attestation
dated by today decides: none → 无法判定, expired → 不符合, current → 符合.
"""

from __future__ import annotations

from datetime import date

from orchestrator.model.settings import Attestation, Config
from orchestrator.model.snapshot import PointRow
from orchestrator.rules.evaluate_attested import dated_attestations
from orchestrator.rules.finding import ALL_SUBJECT, Context, Finding
from orchestrator.rules.status import Status

STORAGE_ENCRYPTION = "storage.encryption"
KEY_ESCROW = "encryption.key_escrow"
LISTED = 5
THRESHOLD = "every recovery point held in the store encrypted (client-side, per point key)"
EVIDENCE = "catalog recovery_points.cipher, copies (status present)"


def held_points(ctx: Context, store: str) -> list[PointRow]:
    """Return the points with a copy present in `store` at the time of judgement, oldest
    first (bad points too: their bytes are still on the media)."""
    present = {
        c.recovery_point_id
        for c in ctx.snapshot.copies
        if c.store == store and c.present_at(ctx.at_ts)
    }
    return [p for p in ctx.points_in_order if p.id in present and p.finished_at <= ctx.at_ts]


def judge_store(ctx: Context, store: str) -> Finding:
    """Return the storage.encryption finding of one store."""
    points = held_points(ctx, store)
    if not points:
        return ctx.finding(
            STORAGE_ENCRYPTION,
            store,
            Status.UNKNOWN,
            measured="no recovery point held",
            threshold=THRESHOLD,
            evidence=EVIDENCE,
            reason="the store holds no recovery point, so nothing can be judged",
        )
    clear = [p for p in points if not p.cipher]
    ciphers = sorted({p.cipher for p in points if p.cipher})
    measured = f"{len(points) - len(clear)} of {len(points)} point(s) encrypted" + (
        f" ({', '.join(ciphers)})" if ciphers else ""
    )
    if not clear:
        return ctx.finding(
            STORAGE_ENCRYPTION,
            store,
            Status.COMPLIANT,
            measured=measured,
            threshold=THRESHOLD,
            evidence=EVIDENCE,
            reason="every recovery point the store holds was encrypted before it left the host",
        )
    named = ", ".join(p.id for p in clear[:LISTED]) + (" …" if len(clear) > LISTED else "")
    return ctx.finding(
        STORAGE_ENCRYPTION,
        store,
        Status.NON_COMPLIANT,
        measured=f"{measured}; in clear: {named}",
        threshold=THRESHOLD,
        evidence=EVIDENCE,
        reason=f"{len(clear)} recovery point(s) in the store are not encrypted at rest",
    )


def evaluate_storage_encryption(ctx: Context) -> list[Finding]:
    """Judge storage.encryption for every store of the site."""
    return [judge_store(ctx, store.name) for store in ctx.config.stores]


def escrow_attestations(config: Config, day: date) -> list[Attestation]:
    """Return the key-escrow attestations of the site (`all` or a site's name) dated by `day`,
    oldest first."""
    subjects = {ALL_SUBJECT, *(site.name for site in config.sites)}
    return dated_attestations(config, KEY_ESCROW, subjects, day)


def escrow_warning(config: Config, day: date) -> str | None:
    """Return what check-config warns when dr.yml encrypts backups but no current escrow
    attestation of the key-encryption key is recorded on `day`; None when all is well."""
    if config.encryption is None:
        return None
    current = [a for a in escrow_attestations(config, day) if a.expires >= day]
    if current:
        return None
    return (
        "encryption: no current escrow attestation of the key-encryption key "
        f"(attestations rule {KEY_ESCROW}); a lost key loses every encrypted backup — "
        "see docs/keys.md"
    )


def evaluate_key_escrow(ctx: Context) -> list[Finding]:
    """Judge encryption.key_escrow for the site (subject `all`)."""
    encrypted = ctx.encrypted_points()
    threshold = "an escrow attestation of the key-encryption key, dated and not expired"
    configured = ctx.config.encryption is not None

    def finding(status: Status, measured: str, evidence: str, reason: str) -> Finding:
        return ctx.finding(
            KEY_ESCROW,
            ALL_SUBJECT,
            status,
            measured=measured,
            threshold=threshold,
            evidence=evidence,
            reason=reason,
        )

    if not configured and not encrypted:
        return [
            finding(
                Status.NOT_APPLICABLE,
                "no encryption configured, no encrypted point",
                "dr.yml, catalog recovery_points.cipher",
                "no key-encryption key exists, so there is nothing to escrow",
            )
        ]
    attestations = escrow_attestations(ctx.config, ctx.local_date)
    if not attestations:
        return [
            finding(
                Status.UNKNOWN,
                f"no attestation ({encrypted} encrypted point(s) in the catalog)",
                "dr.yml attestations",
                "nothing records that the key-encryption key is escrowed; "
                "losing it loses every encrypted backup (docs/keys.md)",
            )
        ]
    latest = attestations[-1]
    evidence = f"dr.yml attestations: {latest.document} ({latest.date}, expires {latest.expires})"
    if latest.expires < ctx.local_date:
        return [
            finding(
                Status.NON_COMPLIANT,
                f"attestation of {latest.date} expired on {latest.expires}",
                evidence,
                "the newest escrow attestation has expired; re-check the escrow and attest again",
            )
        ]
    return [
        finding(
            Status.COMPLIANT,
            f"escrow attested {latest.date}, valid until {latest.expires}",
            evidence,
            "the key-encryption key is attested as escrowed",
        )
    ]
