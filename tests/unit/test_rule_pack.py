"""The rule pack: loading playbooks/rules/pack.yml, checking it, and a site's stricter settings."""

from __future__ import annotations

import copy
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.errors import InputError
from orchestrator.rules.evaluate import EVALUATORS
from orchestrator.rules.pack import (
    REQUIRED_RULE_IDS,
    RulePack,
    Severity,
    apply_site_overrides,
    default_pack_path,
    load_pack,
    parse_pack,
)
from orchestrator.rules.status import Status
from orchestrator.rules.threshold import format_number, parse_number

ROTATION_CLAUSE = "银发[2002]260号 第七条 「数据完全备份介质的循环周期不能小于7天」"


@pytest.fixture(scope="module")
def pack() -> RulePack:
    return load_pack()


@pytest.fixture
def raw_pack() -> dict[str, Any]:
    return yaml.safe_load(default_pack_path().read_text(encoding="utf-8"))


def test_load_pack_has_every_rule_of_the_design(pack: RulePack) -> None:
    """Every rule is either one of the design's (judged from data by a listed evaluator) or
    marked attested (judged from dr.yml attestations); nothing is left unjudged."""
    assert set(REQUIRED_RULE_IDS) <= set(pack.ids())
    attested = {rule.id for rule in pack if rule.attested}
    assert set(pack.ids()) - set(REQUIRED_RULE_IDS) == attested
    assert not attested & set(EVALUATORS)
    assert pack.source == str(default_pack_path())
    assert len(pack.sha256) == 64


def test_default_pack_path_is_the_shipped_resource() -> None:
    path = default_pack_path()
    assert path.parts[-4:] == ("resources", "playbooks", "rules", "pack.yml")
    assert path.is_file()
    # In a checkout the resource is the top-level playbooks/ (orchestrator/resources links it;
    # a wheel or a mutation run holds a copy): the same bytes either way.
    top_level = Path(__file__).resolve().parents[2] / "playbooks" / "rules" / "pack.yml"
    assert path.read_bytes() == top_level.read_bytes()


@pytest.mark.parametrize(
    ("rule_id", "name", "value"),
    [
        ("backup.full_interval", "max_working_days", Fraction(1)),
        ("backup.rotation", "min_days", Fraction(7)),
        ("backup.rotation", "min_generations", Fraction(8)),
        ("verify.interval", "max_days", Fraction(30)),
        ("verify.interval", "warn_days", Fraction(25)),
        ("verify.interval", "schedule_days", Fraction(28)),
        ("verify.sample", "min_bytes_ratio", Fraction(1, 10)),
        ("verify.sample", "min_points_ratio", Fraction(1, 10)),
        ("offsite.copy", "max_lag_hours", Fraction(24)),
        ("network.availability", "min_ratio", Fraction(99995, 100000)),
        ("network.max_outage", "max_seconds", Fraction(7200)),
        ("logs.operation_retention", "min_days", Fraction(184)),
        ("logs.accounting_retention", "min_days", Fraction(1096)),
        ("drill.yearly", "max_days_between", Fraction(365)),
        ("switchover.notice", "min_notice_working_days", Fraction(5)),
        ("switchover.notice", "trigger_working_days", Fraction(1)),
        ("power.ups", "min_hours", Fraction(4)),
    ],
)
def test_pack_thresholds_hold_the_clause_numbers(
    pack: RulePack, rule_id: str, name: str, value: Fraction
) -> None:
    assert pack[rule_id].value(name) == value


def test_network_availability_is_exact_not_float(pack: RulePack) -> None:
    threshold = pack["network.availability"].threshold("min_ratio")
    assert not threshold.passes(Fraction(999949999, 1000000000))
    assert threshold.passes(Fraction(99995, 100000))
    assert threshold.display == "0.99995"


def test_max_outage_is_strictly_less_than_two_hours(pack: RulePack) -> None:
    threshold = pack["network.max_outage"].threshold("max_seconds")
    assert threshold.passes(7199)
    assert not threshold.passes(7200)


def test_offsite_lag_is_marked_bank_policy(pack: RulePack) -> None:
    assert pack["offsite.copy"].threshold("max_lag_hours").basis == "bank_policy"


def test_backup_content_lists_the_five_categories_of_fund_guideline_65(pack: RulePack) -> None:
    rule = pack["backup.content"]
    assert [category.id for category in rule.required_categories] == [
        "programs",
        "customer_data",
        "configuration",
        "logs",
        "audit",
    ]
    assert rule.clause.article == "第六十五条"
    for category in rule.required_categories:
        assert category.title_zh in rule.clause.text
    assert rule.severity is Severity.WARNING


def test_clauses_quote_the_original_chinese(pack: RulePack) -> None:
    assert pack["backup.rotation"].clause.quote() == ROTATION_CLAUSE
    assert pack["backup.full_interval"].clause.text == "数据完全备份的时间间隔不超过一个工作日"


def test_status_has_chinese_labels() -> None:
    assert [status.label_zh for status in Status] == [
        "符合",
        "部分符合",
        "不符合",
        "不适用",
        "无法判定",
    ]
    assert Status("non_compliant") is Status.NON_COMPLIANT


def test_pack_get_unknown_rule_raises_key_error(pack: RulePack) -> None:
    with pytest.raises(KeyError, match="no rule"):
        pack.get("backup.nope")


def test_apply_site_overrides_refuses_weaker_rotation_quoting_the_clause(pack: RulePack) -> None:
    with pytest.raises(InputError, match="3 is weaker than 7 required by") as raised:
        apply_site_overrides(pack, {"backup.rotation": {"min_days": 3}}, "dr.yml")
    assert raised.value.source == "dr.yml"
    assert raised.value.problems == [
        f"rules.backup.rotation.min_days: 3 is weaker than 7 required by {ROTATION_CLAUSE}"
    ]


def test_apply_site_overrides_accepts_stricter_values(pack: RulePack) -> None:
    site = apply_site_overrides(
        pack,
        {"backup.rotation": {"min_days": 30}, "verify.sample": {"min_bytes_ratio": "0.25"}},
        "dr.yml",
    )
    assert site["backup.rotation"].value("min_days") == 30
    assert site["backup.rotation"].threshold("min_days").overridden
    assert site["backup.rotation"].threshold("min_days").pack_value == 7
    assert site["verify.sample"].value("min_bytes_ratio") == Fraction(1, 4)
    assert pack["backup.rotation"].value("min_days") == 7  # the original is untouched


def test_apply_site_overrides_moves_followers_keeping_their_margin(pack: RulePack) -> None:
    site = apply_site_overrides(pack, {"verify.interval": {"max_days": 14}}, "dr.yml")
    rule = site["verify.interval"]
    assert rule.value("max_days") == 14
    assert rule.value("schedule_days") == 12
    assert rule.value("warn_days") == 9


def test_apply_site_overrides_refuses_a_follower_beyond_its_leader(pack: RulePack) -> None:
    with pytest.raises(InputError, match="20 is beyond max_days 14") as raised:
        apply_site_overrides(
            pack, {"verify.interval": {"max_days": 14, "schedule_days": 20}}, "dr.yml"
        )
    assert raised.value.problems == [
        "rules.verify.interval.schedule_days: 20 is beyond max_days 14"
    ]


def test_apply_site_overrides_collects_every_problem(pack: RulePack) -> None:
    overrides: dict[str, dict[str, Any]] = {
        "backup.rotaton": {"min_days": 30},
        "verify.interval": {"max_dayz": 14, "max_days": 31},
        "verify.sample": {"min_bytes_ratio": "ten percent"},
        "offsite.copy": {"max_lag_hours": 48},
        "logs.operation_retention": {"min_days": 200.5},
        "network.availability": {"min_ratio": 1.5},
    }
    with pytest.raises(InputError, match="did you mean backup.rotation") as raised:
        apply_site_overrides(pack, overrides, "site/dr.yml")
    problems = raised.value.problems
    assert problems[0] == "rules.backup.rotaton: unknown rule; did you mean backup.rotation?"
    assert "rules.verify.interval.max_dayz: unknown setting; did you mean max_days?" in problems
    assert any(
        p.startswith("rules.verify.interval.max_days: 31 is weaker than 30") for p in problems
    )
    assert "rules.verify.sample.min_bytes_ratio: expected a number, got 'ten percent'" in problems
    assert any(
        "max_lag_hours: 48 is weaker than 24 set by the rule pack (bank policy" in p
        for p in problems
    )
    assert (
        "rules.logs.operation_retention.min_days: 200.5: expected a whole number of days"
        in problems
    )
    assert "rules.network.availability.min_ratio: 1.5: expected a ratio between 0 and 1" in problems
    assert len(problems) == 7


def test_apply_site_overrides_raises_severity_but_never_lowers_it(pack: RulePack) -> None:
    site = apply_site_overrides(pack, {"backup.content": {"severity": "violation"}}, "dr.yml")
    assert site["backup.content"].severity is Severity.VIOLATION
    with pytest.raises(InputError, match="warning is lower than violation") as raised:
        apply_site_overrides(pack, {"backup.rotation": {"severity": "warning"}}, "dr.yml")
    assert "warning is lower than violation" in raised.value.problems[0]
    assert ROTATION_CLAUSE in raised.value.problems[0]


def test_parse_pack_reports_a_non_number_value_with_its_path(raw_pack: dict[str, Any]) -> None:
    data = copy.deepcopy(raw_pack)
    index = next(
        i for i, rule in enumerate(data["rules"]) if rule["id"] == "logs.operation_retention"
    )
    data["rules"][index]["thresholds"]["min_days"]["value"] = "six months"
    with pytest.raises(InputError, match="expected a number, got 'six months'") as raised:
        parse_pack(data, "pack.yml")
    assert raised.value.problems == [
        f"rules[{index}].thresholds.min_days.value: expected a number, got 'six months'"
    ]


def test_parse_pack_reports_duplicates_missing_rules_and_bad_fields(
    raw_pack: dict[str, Any],
) -> None:
    data = copy.deepcopy(raw_pack)
    data["rules"][1]["id"] = "backup.full_interval"
    data["rules"][2]["severity"] = "fatal"
    data["rules"][3]["clause"].pop("text")
    data["rules"][0]["thresholds"]["max_working_days"]["stricter"] = "higher"
    with pytest.raises(InputError, match="is listed twice") as raised:
        parse_pack(data, "pack.yml")
    problems = raised.value.problems
    assert "rules[1].id: backup.full_interval is listed twice" in problems
    assert any(p.startswith("rules[2].severity: expected one of") for p in problems)
    assert "rules[3].clause.text: expected non-empty text, got nothing" in problems
    assert (
        "rules[0].thresholds.max_working_days.comparison: le contradicts stricter: higher"
        in problems
    )
    assert "rules: missing rule backup.rotation (DESIGN §1)" in problems


def test_parse_pack_refuses_a_non_mapping() -> None:
    with pytest.raises(InputError, match="expected a mapping"):
        parse_pack(["rules"], "pack.yml")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (7, Fraction(7)),
        (0.1, Fraction(1, 10)),
        ("0.99995", Fraction(99995, 100000)),
        (True, None),
        ("abc", None),
        (None, None),
    ],
)
def test_parse_number_is_exact(raw: object, expected: Fraction | None) -> None:
    assert parse_number(raw) == expected


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Fraction(7), "7"),
        (Fraction(1, 10), "0.1"),
        (Fraction(99995, 100000), "0.99995"),
        (Fraction(1, 3), "1/3"),
    ],
)
def test_format_number_prints_plain_decimals(value: Fraction, text: str) -> None:
    assert format_number(value) == text
