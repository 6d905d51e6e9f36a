"""Gap in model/plan.py that mutation testing found (issue 16): the printed plan (plan.json in
the evidence) keeps non-ASCII system and dataset names as themselves, as an auditor reading it
or grepping for `核心系统` expects, not as \\u escapes."""

from __future__ import annotations

import json

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
