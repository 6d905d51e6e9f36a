"""The report's evidence step (actions/report_proof.py): which findings rest on a package that
cannot be shown, and the snapshot judged without its rows."""

from __future__ import annotations

import dataclasses

from orchestrator.actions.report_proof import Cited, Proof, reconcile, without_unproven
from orchestrator.model.restore_times import RestoreTiming
from orchestrator.model.snapshot import DrillRow, Snapshot, VerificationRow
from orchestrator.rules.finding import Finding
from orchestrator.rules.rule import Clause, Severity
from orchestrator.rules.status import Status

CLAUSE = Clause("银发[2002]260号", "第十三条", "每年至少演练一次")
GONE = Proof(Cited("drills", "d-2", "sandbox", "passed", "/e/drill-x", "ab" * 32), "missing")


def finding(rule: str, status: Status, reason: str = "as measured") -> Finding:
    return Finding(rule, "all", status, "m", "t", CLAUSE, Severity.VIOLATION, "rows", reason)


def timing(source: str) -> RestoreTiming:
    return RestoreTiming("s", "d", "failover", source, 0.0, 1.0, 1.0, None, "passed")


def test_a_verdict_better_with_the_unproven_rows_becomes_unknown_naming_the_package() -> None:
    full = [finding("drill.yearly", Status.COMPLIANT), finding("dr.bidirectional", Status.PARTIAL)]
    proven = [finding("drill.yearly", Status.NON_COMPLIANT, "no drill"), full[1]]
    stated = reconcile(full, proven, [GONE])
    assert [f.status for f in stated] == [Status.UNKNOWN, Status.PARTIAL]
    assert "drill-x (package missing)" in stated[0].reason
    assert (
        "would be compliant" in stated[0].reason and "non-compliant (no drill)" in stated[0].reason
    )
    assert stated[1] is full[1]


def test_a_verdict_never_improves_nor_softens_without_the_unproven_rows() -> None:
    # a failed drill's row whose package is gone still counts against the rule
    failed = [finding("drill.objectives", Status.NON_COMPLIANT)]
    assert reconcile(failed, [finding("drill.objectives", Status.COMPLIANT)], [GONE]) == failed
    unknown = [finding("drill.yearly", Status.UNKNOWN)]
    assert reconcile(unknown, [finding("drill.yearly", Status.NON_COMPLIANT)], [GONE]) == unknown


def test_a_verdict_kept_says_what_the_packages_that_verify_measure() -> None:
    # Two passed drills in the catalog, one without its package: still compliant on the one
    # that verifies, but "2 passed drill(s)" used to stand unqualified in the signed report.
    full = [dataclasses.replace(finding("drill.yearly", Status.COMPLIANT), measured="2 passed")]
    proven = [dataclasses.replace(full[0], measured="1 passed")]
    (stated,) = reconcile(full, proven, [GONE])
    assert stated.status is Status.COMPLIANT and stated.measured == "2 passed"
    assert stated.reason == (
        "as measured; measured from the catalog's rows, of which some evidence cannot be shown "
        "/ 部分证据无法证实: drill-x (package missing); from the packages that verify: 1 passed"
    )
    assert reconcile(full, full, [GONE]) == full  # measured alike: nothing to say
    failed = [dataclasses.replace(full[0], status=Status.NON_COMPLIANT)]
    assert reconcile(failed, proven, [GONE]) == failed  # a failure claims no compliance


def test_the_snapshot_loses_the_unproven_rows_and_the_timings_they_recorded() -> None:
    snapshot = Snapshot(
        0.0,
        verifications=(VerificationRow("v-1", "sample", 0.0, 1.0, "passed", True),),
        drills=(
            DrillRow("d-1", "sandbox", 0.0, 1.0, "passed"),
            DrillRow("d-2", "sandbox", 2.0, 3.0, "passed"),
        ),
        restore_timings=(timing("drill d-1"), timing("drill d-2"), timing("verify v-1")),
    )
    stripped = without_unproven(snapshot, [GONE])
    assert [d.id for d in stripped.drills] == ["d-1"]
    assert [v.id for v in stripped.verifications] == ["v-1"]
    assert [t.source for t in stripped.restore_timings] == ["drill d-1", "verify v-1"]
