"""When `drctl status` says the site is not shown compliant: a violation, or a rule of severity
violation (the mandatory core clauses) that cannot be judged; a warning-severity rule that
cannot be judged does not change the exit code."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from orchestrator.actions.rule_status import StatusReport
from orchestrator.rules.rule import Severity
from orchestrator.rules.status import Status
from tests.fixtures.catalog_rows import all_datasets_daily, judge, local, snapshot

AT = local(date(2024, 3, 8), 22)


def report(findings: list) -> StatusReport:  # type: ignore[type-arg]
    return StatusReport(AT, [], findings, "calendar", "pack")


def test_a_core_rule_that_cannot_be_judged_is_undetermined_and_a_warning_one_is_not() -> None:
    points = all_datasets_daily(date(2024, 3, 4), 5)
    ups = judge("power.ups", snapshot(points), AT)
    assert ups and all(f.status is Status.UNKNOWN for f in ups)
    assert all(f.severity is Severity.VIOLATION for f in ups)
    assert report(ups).undetermined == ups and report(ups).failing == []
    mirroring = judge("dr.mirroring", snapshot(points), AT)
    content = [replace(f, status=Status.UNKNOWN, severity=Severity.WARNING) for f in mirroring]
    assert report(content).undetermined == []


def test_judged_core_rules_are_not_undetermined() -> None:
    points = all_datasets_daily(date(2024, 3, 4), 5)
    interval = judge("backup.full_interval", snapshot(points), AT)
    assert interval and all(f.status is Status.COMPLIANT for f in interval)
    assert report(interval).undetermined == []
    broken = [replace(interval[0], status=Status.NON_COMPLIANT)]
    assert report(broken).failing == broken and report(broken).undetermined == []
