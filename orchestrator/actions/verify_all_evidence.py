"""The evidence package of `drctl verify --all` (actions/verify_all.py): every store scanned
and unreachable, every problem with both values, the open failures, what was retired or
removed by retention meanwhile, and the scan's measurements."""

from __future__ import annotations

import platform
from typing import TYPE_CHECKING

from orchestrator import __version__
from orchestrator.actions.evidence_setup import write_site_package
from orchestrator.actions.verify_problems import Problem
from orchestrator.evidence.package import Package
from orchestrator.model import catalog as cat
from orchestrator.runtime import Runtime
from orchestrator.timefmt import iso_utc

if TYPE_CHECKING:
    from orchestrator.actions.verify_all import VerifyAllOutcome


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
        "measurements": [
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
        ],
        "versions": {"orchestrator": __version__, "python": platform.python_version()},
        "accountable_person": runtime.config.model.evidence.accountable_person
        or "(not configured: evidence.accountable_person)",
    }
    return write_site_package(runtime.config, "verify", report, {})
