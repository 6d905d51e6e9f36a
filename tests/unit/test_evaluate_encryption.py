"""storage.encryption (R46, R61, R107, R121) per store and encryption.key_escrow, judged from
hand-made points, copies and attestations: every status and the figures an auditor reads."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from orchestrator.model.settings import Config
from orchestrator.model.snapshot import PointRow
from orchestrator.rules.evaluate_encryption import escrow_warning
from orchestrator.rules.status import Status
from tests.fixtures.catalog_rows import config_dict, copies, judge, local, one, point, snapshot

FIRST = date(2026, 3, 2)
AT = local(FIRST + timedelta(days=10), 23)
AES = "aes-256-gcm"


def points(count: int, cipher: str | None = AES) -> list[PointRow]:
    return [
        replace(point("ledger", FIRST + timedelta(days=i)), cipher=cipher) for i in range(count)
    ]


def clear_config(**changes: Any) -> Config:
    """The sandbox config without its encryption block (a site that never enabled it)."""
    data = config_dict(**changes)
    data.pop("encryption", None)
    return Config.model_validate(data)


def escrow(day: date, expires: date, subject: str = "all") -> dict[str, Any]:
    return {
        "rule": "encryption.key_escrow",
        "subject": subject,
        "document": "KEK-ESCROW-2026 密钥分持封存记录",
        "date": day.isoformat(),
        "expires": expires.isoformat(),
    }


def test_a_store_whose_points_are_all_encrypted_is_compliant() -> None:
    finding = one("storage.encryption", snapshot(points(5)), AT, "primary")
    assert finding.status is Status.COMPLIANT
    assert finding.measured == f"5 of 5 point(s) encrypted ({AES})"
    assert finding.clause.article == "第八十七条" and "数据加密" in finding.clause.text


def test_one_point_in_clear_makes_the_store_non_compliant_and_is_named() -> None:
    rows = points(4) + points(1, cipher=None)
    rows[-1] = replace(rows[-1], finished_at=rows[-1].finished_at + 3600)
    clear_one = rows[-1]
    finding = one("storage.encryption", snapshot(rows), AT, "offsite")
    assert finding.status is Status.NON_COMPLIANT
    assert "4 of 5 point(s) encrypted" in finding.measured
    assert f"in clear: {clear_one.id}" in finding.measured
    assert "1 recovery point(s)" in finding.reason


def test_only_points_held_in_the_store_count() -> None:
    """A clear point whose off-site copy was deleted before judgement no longer sits there;
    its primary copy still does."""
    encrypted = points(3)
    clear = replace(point("ledger", FIRST + timedelta(days=5)), cipher=None)
    kept = [c for p in encrypted for c in copies(p)]
    gone = [
        c if c.store == "primary" else replace(c, status="deleted", deleted_at=c.written_at + 60)
        for c in copies(clear)
    ]
    snap = snapshot([*encrypted, clear], kept + gone)
    assert one("storage.encryption", snap, AT, "offsite").status is Status.COMPLIANT
    assert one("storage.encryption", snap, AT, "offsite").measured.startswith("3 of 3")
    primary = one("storage.encryption", snap, AT, "primary")
    assert primary.status is Status.NON_COMPLIANT and clear.id in primary.measured


def test_a_point_finished_after_the_judgement_does_not_count() -> None:
    later = replace(point("ledger", FIRST + timedelta(days=20)), cipher=None)
    finding = one("storage.encryption", snapshot([*points(2), later]), AT, "primary")
    assert finding.status is Status.COMPLIANT
    assert finding.measured.startswith("2 of 2")


def test_a_store_that_holds_nothing_cannot_be_judged() -> None:
    finding = one("storage.encryption", snapshot(points(2)), AT, "evidence-anchor")
    assert finding.status is Status.UNKNOWN
    assert finding.measured == "no recovery point held"


def test_every_configured_store_gets_a_finding() -> None:
    subjects = {f.subject for f in judge("storage.encryption", snapshot(points(1)), AT)}
    assert subjects == {store["name"] for store in config_dict()["stores"]}


def test_escrow_is_not_applicable_only_when_no_key_exists() -> None:
    finding = one(
        "encryption.key_escrow", snapshot(points(2, None)), AT, "all", config=clear_config()
    )
    assert finding.status is Status.NOT_APPLICABLE
    encrypted_without_config = one(
        "encryption.key_escrow", snapshot(points(2)), AT, "all", config=clear_config()
    )
    assert encrypted_without_config.status is Status.UNKNOWN
    assert "2 encrypted point(s)" in encrypted_without_config.measured


def test_encryption_configured_without_an_escrow_attestation_is_unknown() -> None:
    finding = one("encryption.key_escrow", snapshot(), AT, "all")
    assert finding.status is Status.UNKNOWN
    assert "docs/keys.md" in finding.reason


def test_a_current_escrow_attestation_is_compliant_and_an_expired_one_is_not() -> None:
    today = AT.date()
    current = Config.model_validate(
        config_dict(attestations=[escrow(today - timedelta(days=30), today + timedelta(days=1))])
    )
    finding = one("encryption.key_escrow", snapshot(), AT, "all", config=current)
    assert finding.status is Status.COMPLIANT
    assert "KEK-ESCROW-2026" in finding.evidence
    expired = Config.model_validate(
        config_dict(attestations=[escrow(today - timedelta(days=400), today - timedelta(days=1))])
    )
    lapsed = one("encryption.key_escrow", snapshot(), AT, "all", config=expired)
    assert lapsed.status is Status.NON_COMPLIANT
    assert "expired" in lapsed.measured


def test_an_attestation_dated_after_the_judgement_or_for_another_rule_is_ignored() -> None:
    today = AT.date()
    future = escrow(today + timedelta(days=1), today + timedelta(days=300))
    other = dict(escrow(today, today + timedelta(days=300)), rule="power.ups")
    config = Config.model_validate(config_dict(attestations=[future, other]))
    assert (
        one("encryption.key_escrow", snapshot(), AT, "all", config=config).status is Status.UNKNOWN
    )


def test_store_findings_word_for_word() -> None:
    finding = one("storage.encryption", snapshot(points(2)), AT, "primary")
    assert finding.threshold == (
        "every recovery point held in the store encrypted (client-side, per point key)"
    )
    assert finding.evidence == "catalog recovery_points.cipher, copies (status present)"
    assert finding.reason == (
        "every recovery point the store holds was encrypted before it left the host"
    )
    mixed = points(1) + [replace(p, cipher="sm4-gcm") for p in points(2)[1:]]
    both = one("storage.encryption", snapshot(mixed), AT, "primary")
    assert both.measured == "2 of 2 point(s) encrypted (aes-256-gcm, sm4-gcm)"


def test_five_clear_points_are_named_and_more_are_marked() -> None:
    five = one("storage.encryption", snapshot(points(5, None)), AT, "primary")
    assert five.measured.endswith(points(5, None)[-1].id)
    six = one("storage.encryption", snapshot(points(6, None)), AT, "primary")
    assert six.measured.endswith(" …") and points(6, None)[-1].id not in six.measured


def test_a_point_finished_at_the_moment_of_judgement_is_held() -> None:
    now = replace(points(1, None)[0], finished_at=AT.timestamp())
    rows = [replace(c, written_at=AT.timestamp()) for c in copies(now)]
    finding = one("storage.encryption", snapshot([now], rows), AT, "primary")
    assert finding.status is Status.NON_COMPLIANT


def test_not_applicable_escrow_says_why_word_for_word() -> None:
    finding = one("encryption.key_escrow", snapshot(), AT, "all", config=clear_config())
    assert finding.measured == "no encryption configured, no encrypted point"
    assert finding.evidence == "dr.yml, catalog recovery_points.cipher"
    assert finding.reason == "no key-encryption key exists, so there is nothing to escrow"
    assert finding.threshold == (
        "an escrow attestation of the key-encryption key, dated and not expired"
    )


def test_the_newest_escrow_attestation_of_the_site_decides() -> None:
    today = AT.date()
    newer = escrow(today, today + timedelta(days=300), subject="production")
    older = escrow(today - timedelta(days=500), today - timedelta(days=100))
    config = Config.model_validate(config_dict(attestations=[newer, older]))
    finding = one("encryption.key_escrow", snapshot(), AT, "all", config=config)
    assert finding.status is Status.COMPLIANT
    assert f"escrow attested {today}" in finding.measured
    system = escrow(today, today + timedelta(days=300), subject="core-banking")
    other = Config.model_validate(config_dict(attestations=[system]))
    assert one("encryption.key_escrow", snapshot(), AT, "all", config=other).status is (
        Status.UNKNOWN
    )


def test_check_config_warns_only_without_a_current_escrow() -> None:
    today = AT.date()
    assert "docs/keys.md" in (escrow_warning(Config.model_validate(config_dict()), today) or "")
    current = Config.model_validate(
        config_dict(attestations=[escrow(today, today + timedelta(days=1))])
    )
    assert escrow_warning(current, today) is None
    expired = Config.model_validate(
        config_dict(attestations=[escrow(today - timedelta(days=9), today - timedelta(days=1))])
    )
    assert escrow_warning(expired, today) is not None
    assert escrow_warning(clear_config(), today) is None


def test_escrow_valid_through_its_expiry_day_and_its_texts_word_for_word() -> None:
    today = AT.date()
    last_day = Config.model_validate(config_dict(attestations=[escrow(today, today)]))
    assert escrow_warning(last_day, today) is None
    finding = one("encryption.key_escrow", snapshot(), AT, "all", config=last_day)
    assert finding.status is Status.COMPLIANT
    assert finding.reason == "the key-encryption key is attested as escrowed"
    yesterday = Config.model_validate(
        config_dict(attestations=[escrow(today - timedelta(days=9), today - timedelta(days=1))])
    )
    lapsed = one("encryption.key_escrow", snapshot(), AT, "all", config=yesterday)
    assert lapsed.reason == (
        "the newest escrow attestation has expired; re-check the escrow and attest again"
    )
    assert lapsed.evidence.startswith("dr.yml attestations: KEK-ESCROW-2026")
    assert escrow_warning(yesterday, today) == (
        "encryption: no current escrow attestation of the key-encryption key "
        "(attestations rule encryption.key_escrow); a lost key loses every encrypted backup "
        "— see docs/keys.md"
    )
