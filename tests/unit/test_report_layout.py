"""The drill and check page an auditor prints: records in appendices, never inline in the
body; every recovery point listed; objectives beside the measurements they bound."""

from __future__ import annotations

from typing import Any

from orchestrator.evidence.render import STEP_ACTIONS, render_report_html
from orchestrator.model.scenario import ACTIONS


def drill_report(points: int = 15) -> dict[str, Any]:
    return {
        "kind": "drill",
        "id": "drill-20261130T000000Z-abcdef",
        "title": {"zh": "灾难恢复演练报告", "en": "Disaster-recovery drill report"},
        "outcome": "passed",
        "measurements": [
            {
                "name": "rto_seconds",
                "label": {"zh": "恢复时间", "en": "RTO"},
                "value": 9.6,
                "unit": "s",
                "objective": 600,
            },
            {
                "name": "postings_lost",
                "label": {"zh": "丢失笔数", "en": "Postings lost"},
                "value": 750,
                "unit": "",
                "objective": None,
            },
        ],
        "steps": [
            {
                "name": "disaster",
                "action": "disaster",
                "status": "passed",
                "message": "destroyed",
                "detail": {"datasets": {"ledger": {"destroyed": True, "marker": "DETAIL-1"}}},
            },
            {
                "name": "consistency",
                "action": "compare_sites",
                "status": "passed",
                "message": "equal",
                "detail": {},
            },
        ],
        "recovery_points": [
            {
                "id": f"20261130T0000{n:02d}Z-abcdef",
                "system": "core-banking",
                "dataset": "ledger",
                "manifest_sha256": f"{n:064x}",
                "files": 1,
                "bytes": 10,
                "restored_by": "failover" if n < 5 else None,
            }
            for n in range(points)
        ],
    }


def test_step_records_are_in_an_appendix_not_in_the_steps_table() -> None:
    page = render_report_html(drill_report())
    appendix = page.index("Appendix B · Step records")
    assert page.index("DETAIL-1") > appendix
    assert "<pre>" not in page[:appendix].split("How to verify this package")[0]
    assert "full record in Appendix B1" in page
    assert "Appendix B2" not in page  # a step with no record gets no reference
    assert "B1 · disaster" in page[appendix:]


def test_every_recovery_point_is_listed_and_the_failover_ones_marked() -> None:
    page = render_report_html(drill_report(points=15))
    for n in range(15):
        assert f"20261130T0000{n:02d}Z-abcdef" in page
    assert "Restored by failover" in page
    assert page.count("是 yes") == 5


def test_objectives_stand_beside_the_measurements_they_bound() -> None:
    page = render_report_html(drill_report())
    assert "Objective" in page and "≤ 600" in page
    without = drill_report()
    for row in without["measurements"]:
        row.pop("objective")
    assert "Objective" not in render_report_html(without)


def test_every_step_action_is_named_in_both_languages() -> None:
    assert set(ACTIONS) <= set(STEP_ACTIONS)
    page = render_report_html(drill_report())
    assert "模拟灾难" in page and "disaster simulated" in page
    assert "两中心数据一致性比对" in page
