"""What `drctl verify --all` (actions/verify_all.py) says of a scan: its evidence package —
every store scanned and unreachable, every problem with both values, the open failures, what
was retired or removed by retention meanwhile, the scan's measurements — and its `--json` data
and terminal text."""

from __future__ import annotations

import platform
from typing import TYPE_CHECKING, Any

from orchestrator import __version__
from orchestrator.actions.evidence_setup import write_site_package
from orchestrator.actions.verify import ScanResult
from orchestrator.actions.verify_problems import Problem
from orchestrator.evidence.package import Package
from orchestrator.model import catalog as cat
from orchestrator.runtime import Runtime
from orchestrator.timefmt import iso_utc

if TYPE_CHECKING:
    from orchestrator.actions.verify_all import VerifyAllOutcome


NOT_IN_CATALOG = (
    "authenticated and checked, but the catalog does not record it, so no rule counts it "
    "(`drctl catalog rebuild` adopts it)"
)


def problem_dict(problem: Problem) -> dict[str, str]:
    """Return a problem as a mismatch row: point id, system, dataset, store, file, both values."""
    system, dataset, point = (problem.recovery_point.split("/") + ["", "", ""])[:3]
    return {
        "recovery_point": point,
        "system": system,
        "dataset": dataset,
        "store": problem.store,
        "file": problem.file,
        "kind": problem.kind,
        "expected": problem.expected,
        "actual": problem.actual,
    }


def write_scan_evidence(runtime: Runtime, outcome: VerifyAllOutcome, started: float) -> Package:
    """Write the `verify` evidence package of a finished integrity scan; return it."""
    result = outcome.scan
    passed = outcome.ok
    problems = [problem_dict(p) for p in result.problems]
    report = {
        "kind": "verify",
        "id": outcome.verification_id,
        "title": {
            "zh": "备份数据完整性扫描报告（全部恢复点）",
            "en": "Backup integrity scan report (every recovery point)",
        },
        "outcome": "passed" if passed else "failed",
        "started_at": iso_utc(started),
        "finished_at": iso_utc(cat.now()),
        "summary": {
            "zh": f"扫描存储 {len(result.scanned)} 个，无法访问 {len(result.unreachable)} 个；"
            f"恢复点 {result.points} 个，文件 {result.files} 个，{result.bytes} 字节；"
            f"发现问题 {len(result.problems)} 处，仍未关闭的损坏记录 "
            f"{len(outcome.open_failures)} 条。",
            "en": f"Scanned {len(result.scanned)} store(s), {len(result.unreachable)} "
            f"unreachable; {result.points} recovery points, {result.files} files, "
            f"{result.bytes} bytes; {len(result.problems)} problem(s), "
            f"{len(outcome.open_failures)} earlier failure(s) still open.",
        },
        "stores": {"scanned": result.scanned, "unreachable": result.unreachable},
        "mismatches": problems,
        "open_failures": outcome.open_failures,
        "retired": [p.describe() for p in outcome.retired],
        "removed_by_retention": outcome.removed,
        "incomplete_ignored": result.incomplete,
        "not_in_catalog": result.not_in_catalog,
        "measurements": _measurements(result),
        "versions": {"orchestrator": __version__, "python": platform.python_version()},
        "accountable_person": runtime.config.model.evidence.accountable_person
        or "(not configured: evidence.accountable_person)",
    }
    return write_site_package(runtime.config, "verify", report, {})


def _measurements(result: ScanResult) -> list[dict[str, Any]]:
    """Return the scan's counts as report measurements."""
    return [
        {
            "name": "recovery_points",
            "label": {"zh": "恢复点数", "en": "Recovery points"},
            "value": result.points,
            "unit": "",
        },
        {
            "name": "files",
            "label": {"zh": "文件数", "en": "Files"},
            "value": result.files,
            "unit": "",
        },
        {
            "name": "bytes",
            "label": {"zh": "字节数", "en": "Bytes"},
            "value": result.bytes,
            "unit": "B",
        },
        {
            "name": "not_in_catalog",
            "label": {
                "zh": "已认证但目录未记录的恢复点（不计入任何规则）",
                "en": "Authenticated recovery points the catalog does not record (no rule "
                "counts them)",
            },
            "value": len(result.not_in_catalog),
            "unit": "",
        },
    ]


def describe(outcome: VerifyAllOutcome) -> tuple[dict[str, Any], str]:
    """Return the `--json` data and the human text of a scan."""
    result = outcome.scan
    data = {
        "ok": outcome.ok,
        "verification": outcome.verification_id,
        "recovery_points": result.points,
        "files": result.files,
        "bytes": result.bytes,
        "scanned": result.scanned,
        "unreachable": result.unreachable,
        "incomplete_ignored": result.incomplete,
        "not_in_catalog": result.not_in_catalog,
        "problems": [problem.__dict__ for problem in result.problems],
        "open_failures": outcome.open_failures,
        "retired": [problem.__dict__ for problem in outcome.retired],
        "removed_by_retention": outcome.removed,
        "evidence": outcome.evidence_path,
    }
    lines = [
        f"{'INTRUDER' if p.kind == 'intruder' else 'MISMATCH'} {p.describe()}"
        for p in result.problems
    ]
    lines += [f"UNREACHABLE store {name}: {why}" for name, why in result.unreachable.items()]
    lines += [
        f"BAD (open since {f['detected_at']}, {f['detected_by']}) {f['store']}: "
        f"{f['system']}/{f['dataset']}/{f['recovery_point']}: {f['file']}: {f['kind']}"
        for f in outcome.open_failures
    ]
    lines += [f"retired bad point (re-checked): {p.describe()}" for p in outcome.retired]
    lines += [f"removed: {line}" for line in outcome.removed]
    lines += [f"incomplete (no manifest, ignored): {item}" for item in result.incomplete]
    lines += [f"NOT IN CATALOG {item}: {NOT_IN_CATALOG}" for item in result.not_in_catalog]
    if outcome.evidence_path:
        lines.append(f"evidence: {outcome.evidence_path}")
    lines.append(
        f"summary: {len(result.scanned)} store(s) scanned, {len(result.unreachable)} "
        f"unreachable; {result.points} recovery points, {result.files} files, "
        f"{result.bytes} bytes checked, {len(result.problems)} problem(s), "
        f"{len(outcome.open_failures)} earlier failure(s) still open"
    )
    lines.append(
        f"小结：扫描 {len(result.scanned)} 个存储，{len(result.unreachable)} 个不可达；"
        f"校验 {result.points} 个恢复点，发现 {len(result.problems)} 个问题；"
        f"此前未关闭的故障 {len(outcome.open_failures)} 个"
    )
    return data, "\n".join(lines)
