"""The report of a validity check: report.json of its `verify` evidence package and the
manifests attached to it (what `drctl verify` prints: actions/verify_outcome.py)."""

from __future__ import annotations

import platform
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator import __version__
from orchestrator.actions.removed_copies import REMOVED
from orchestrator.actions.restore_timing import verify_timings
from orchestrator.actions.restore_timing_report import timing_dict, timing_text
from orchestrator.model.plan import SamplePlan, plan_dict
from orchestrator.model.settings import Site
from orchestrator.runtime import Runtime
from orchestrator.timefmt import iso_utc

if TYPE_CHECKING:
    from orchestrator.actions.verify_points import ItemResult
    from orchestrator.actions.verify_sample import SampleOutcome


def _item_message(r: ItemResult) -> str:
    """Return what was done with one sampled point, Chinese first, English second."""
    offsite = r.item.source == "offsite"
    copy, copy_zh = ("off-site copy", "异地副本") if offsite else ("primary copy", "主副本")
    read_zh = f"从 {r.item.store}（{copy_zh}）读取 {r.item.files} 个文件、{r.item.bytes} 字节；"
    what = f"read from {r.item.store} ({copy}); {r.item.files} files, {r.item.bytes} bytes; "
    if r.status == "passed":
        fingerprint = {"equal": "一致", "different": "不一致"}.get(r.fingerprint or "", "未比对")
        read_zh += f"所有文件摘要与源端一致；逻辑指纹{fingerprint}；已恢复到验证区"
        what += (
            "every file digest equal to the source's; logical fingerprint "
            f"{r.fingerprint or 'not compared'}; restored into the enclave"
        )
    elif r.status == "removed":
        read_zh += "检查期间该副本已被保留策略（retention）删除，未作判定"
        what += REMOVED
    else:
        read_zh += f"发现 {len(r.mismatches)} 处不一致"
        what += "; ".join(f"{m['file']}: {m['kind']}" for m in r.mismatches)
    return f"{read_zh} / {what}"


def _steps(runtime: Runtime, outcome: SampleOutcome) -> list[dict[str, Any]]:
    """Return one step per checked point and one for the enclave wipe (report.html table)."""
    steps = []
    timings = {
        t.recovery_point_id: t
        for t in verify_timings(runtime.config.model, outcome.verification_id, outcome.items)
    }
    for r in outcome.items:
        what = _item_message(r)
        if r.item.recovery_point in timings:
            what += "; " + timing_text(timings[r.item.recovery_point])
        steps.append(
            {
                "name": f"{r.item.system}/{r.item.dataset} {r.item.recovery_point}",
                "action": "restore-verify",
                "status": r.status,
                "started_at": iso_utc(r.started_at) if r.started_at else None,
                "finished_at": iso_utc(r.checked_at) if r.checked_at else None,
                "duration_seconds": round(r.checked_at - r.started_at, 3) if r.started_at else None,
                "message": what,
            }
        )
    wipe = outcome.wipe
    steps.append(
        {
            "name": "wipe enclave",
            "action": "wipe",
            "status": "passed" if wipe.get("result") == "wiped" else "failed",
            "started_at": wipe.get("started_at"),
            "finished_at": wipe.get("finished_at"),
            "duration_seconds": None,
            "message": f"已删除 {len(wipe.get('removed', []))} 个路径，"
            f"残留 {len(wipe.get('remaining', []))} 个 / "
            f"{len(wipe.get('removed', []))} paths removed, "
            f"{len(wipe.get('remaining', []))} remaining",
        }
    )
    return steps


def _measurements(plan: SamplePlan) -> list[dict[str, Any]]:
    """Return the check's measurements (both sample ratios, population and sample sizes,
    points read off-site), each with its bilingual label."""
    sample = plan_dict(plan)["sample"]
    measurements = [
        (
            "bytes_ratio",
            "抽检数据量占比（字节）",
            "Sampled share of bytes",
            sample["bytes_ratio"],
            "",
        ),
        (
            "points_ratio",
            "抽检数据量占比（恢复点）",
            "Sampled share of recovery points",
            sample["points_ratio"],
            "",
        ),
        (
            "population_points",
            "总体恢复点数",
            "Population recovery points",
            plan.population_points,
            "",
        ),
        ("population_bytes", "总体字节数", "Population bytes", plan.population_bytes, "B"),
        ("sample_points", "抽检恢复点数", "Sampled recovery points", len(plan.items), ""),
        ("sample_bytes", "抽检字节数", "Sampled bytes", plan.sample_bytes, "B"),
        (
            "offsite_items",
            "自异地副本读取的恢复点数",
            "Points read from off-site copies",
            sample["offsite_items"],
            "",
        ),
    ]
    return [
        {"name": name, "label": {"zh": zh, "en": en}, "value": value, "unit": unit}
        for name, zh, en, value, unit in measurements
    ]


def _point_row(r: ItemResult) -> dict[str, Any]:
    """Return report.json's row for one checked recovery point."""
    return {
        "id": r.item.recovery_point,
        "system": r.item.system,
        "dataset": r.item.dataset,
        "business_date": r.business_date or None,
        "finished_at": r.finished_at or None,
        "store": r.item.store,
        "source": r.item.source,
        "reason": r.item.reason,
        "bytes": r.item.bytes,
        "files": r.item.files,
        "status": r.status,
        "manifest_sha256": r.manifest_sha256,
        "fingerprint": r.fingerprint or None,
        "checked_at": iso_utc(r.checked_at),
        "mismatches": len(r.mismatches),
    }


def make_report(
    runtime: Runtime,
    outcome: SampleOutcome,
    started: float,
    finished: float,
    enclave: Site,
    findings: list[dict[str, Any]],
) -> dict[str, Any]:
    """Return report.json of a check: plan, seed, population, per-item results, both ratios,
    the enclave and its wipe, every mismatch (point, file, expected, actual), and the rules'
    findings (actions/rule_status.rule_findings, judged with this check recorded)."""
    plan = outcome.plan
    timings = verify_timings(runtime.config.model, outcome.verification_id, outcome.items)
    return {
        "kind": "verify",
        "id": outcome.verification_id,
        "title": {
            "zh": "备份数据有效性检查报告（抽检恢复验证）",
            "en": "Backup validity check report (sampled restore verification)",
        },
        "outcome": "passed" if outcome.passed else "failed",
        "started_at": iso_utc(started),
        "finished_at": iso_utc(finished),
        "summary": {
            "zh": f"抽检 {len(plan.items)}/{plan.population_points} 个恢复点，"
            f"{plan.sample_bytes}/{plan.population_bytes} 字节；"
            f"{'计入' if outcome.counted else '不计入'}30天检查周期{_why(outcome, 1)}；"
            f"发现 {len(outcome.mismatches)} 处不一致。",
            "en": f"Sampled {len(plan.items)} of {plan.population_points} recovery points, "
            f"{plan.sample_bytes} of {plan.population_bytes} bytes; "
            f"{'counts' if outcome.counted else 'does not count'} toward the 30-day "
            f"clock{_why(outcome, 0)}; {len(outcome.mismatches)} mismatch(es).",
        },
        "counted": outcome.counted,
        "not_counted_because": (outcome.not_counted_because or (None,))[0],
        "seed": plan.seed,
        "population_choice": plan.policy.population,
        "measurements": _measurements(plan),
        "findings": findings,
        "restore_times": [timing_dict(t) for t in timings],
        "steps": _steps(runtime, outcome),
        "recovery_points": [_point_row(r) for r in outcome.items],
        "mismatches": outcome.mismatches,
        "enclave": {
            "site": enclave.name,
            "host": enclave.host,
            "role": enclave.role,
            "wipe": outcome.wipe,
        },
        "plan": plan_dict(plan),
        "versions": {"orchestrator": __version__, "python": platform.python_version()},
        "accountable_person": runtime.config.model.evidence.accountable_person
        or "(not configured: evidence.accountable_person)",
    }


def manifest_attachments(runtime: Runtime, outcome: SampleOutcome) -> dict[str, Path]:
    """Write the manifests of the points whose manifest matched the catalog into the work dir
    and return them as package attachments (refused or edited manifests are not attached;
    the report carries their digests)."""
    work = runtime.work_dir / "verify-manifests" / outcome.verification_id
    work.mkdir(parents=True, exist_ok=True)
    files = {}
    for result in outcome.items:
        if not result.manifest_bytes or not result.manifest_sha256:
            continue
        target = work / f"{result.item.recovery_point}.json"
        target.write_bytes(result.manifest_bytes)
        files[f"manifests/{result.item.recovery_point}.json"] = target
    return files


def _why(outcome: SampleOutcome, language: int) -> str:
    """Return ` (why it is not counted)` in English (0) or Chinese (1), or "" if counted."""
    why = outcome.not_counted_because
    return "" if why is None else (f" ({why[0]})" if language == 0 else f"（{why[1]}）")
