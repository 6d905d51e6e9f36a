"""Gaps in model/plan.py that mutation testing found (issue 16). Of two verified points the one
verified longest ago is checked first, whatever the seed. The printed plan (plan.json in
the evidence) keeps non-ASCII system and dataset names as themselves, as an auditor reading it
or grepping for `核心系统` expects, not as \\u escapes."""

from __future__ import annotations

import json
from fractions import Fraction

from orchestrator.model.plan import PlanPolicy, PointRow, make_plan, plan_json


def test_the_plan_keeps_chinese_names_as_written() -> None:
    point = PointRow(
        "20260101T010000Z-000001",
        "核心系统",
        "总账",
        9_000,
        3,
        1_700_000_000.0,
        None,
        "primary",
        "offsite",
    )
    text = plan_json(make_plan([point], [], seed="s", policy=PlanPolicy()))
    assert "核心系统" in text and "总账" in text
    assert "\\u" not in text
    assert json.loads(text)["population"]["systems"] == ["核心系统"]


def test_of_two_verified_points_the_one_verified_longest_ago_is_checked() -> None:
    # Whatever the seed: the draw only breaks ties between points equally overdue.
    older = PointRow(
        "20260101T010000Z-000001", "core", "ledger", 100, 3, 1.7e9, 1.60e9, "primary", None
    )
    newer = PointRow(
        "20260102T010000Z-000002", "core", "ledger", 100, 3, 1.7e9, 1.69e9, "primary", None
    )
    policy = PlanPolicy(Fraction(1, 10), Fraction(1, 10), Fraction(0), "in_rotation")
    for seed in (str(n) for n in range(24)):
        plan = make_plan([newer, older], [], seed=seed, policy=policy)
        assert [item.recovery_point for item in plan.items] == [older.id], seed
