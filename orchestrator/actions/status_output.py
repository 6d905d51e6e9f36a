"""What `drctl status` prints: the `--json` document of a StatusReport and its bilingual text
(the dataset freshness table, the network paths, every rule × subject)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from orchestrator.actions.rule_status import StatusReport
from orchestrator.rules import figures
from orchestrator.rules.status import Status
from orchestrator.rules.timezone import SHANGHAI
from orchestrator.timefmt import iso_utc


def report_to_dict(report: StatusReport) -> dict[str, Any]:
    """Return the report as JSON-able data."""
    counts = Counter(str(finding.status) for finding in report.findings)
    return {
        "at": iso_utc(report.at),
        "year": report.year,
        "datasets": report.datasets,
        "network": report.network,
        "findings": [finding.to_dict() for finding in report.findings],
        "summary": {status.value: counts.get(status.value, 0) for status in Status},
        "failing": [f"{f.rule} {f.subject}" for f in report.failing],
        "undetermined": [f"{f.rule} {f.subject}" for f in report.undetermined],
        "calendar": report.calendar,
        "rule_pack": report.rule_pack,
    }


def _age(item: dict[str, Any] | None) -> str:
    if item is None:
        return "never"
    return f"{item['at'][:19]}Z ({item['age_seconds'] / 3600:.1f} h)"


def _s(value: float) -> str:
    """Return seconds as the figure text of findings (exact to the ms, never rounded)."""
    return figures.fixed(value, 3)


def render_text(report: StatusReport) -> str:
    """Return the report as the text `drctl status` prints."""
    local = report.at.astimezone(SHANGHAI)
    heading = (
        f"status of calendar year {report.year}, judged in full 全年判定 (records known now)"
        if report.year is not None
        else f"status as of {local:%Y-%m-%d %H:%M:%S} Asia/Shanghai 截至"
    )
    lines = [heading, "", *_dataset_lines(report.datasets), ""]
    if report.network:
        lines += [*_network_lines(report.network), ""]
    for finding in report.findings:
        label = f"{finding.status.label_zh} {finding.status.label_en}"
        lines += [
            f"[{label}] {finding.rule}  {finding.subject}  ({finding.severity})",
            f"    measured 实测:   {finding.measured}",
            f"    threshold 阈值:  {finding.threshold}",
            f"    clause 条款:     {finding.clause.quote()}",
            f"    evidence 依据:   {finding.evidence}",
            f"    reason 说明:     {finding.reason}",
        ]
    counts = Counter(finding.status for finding in report.findings)
    summary = ", ".join(f"{counts[s]} {s.label_zh} {s.value}" for s in Status if counts[s])
    lines += [
        "",
        f"calendar: {report.calendar}",
        f"rule pack: {report.rule_pack}",
        f"summary: {len(report.findings)} findings: {summary}",
        f"小结：共 {len(report.findings)} 项判定，违规 {len(report.failing)} 项，"
        f"核心规则无法判定 {len(report.undetermined)} 项",
    ]
    if report.failing:
        lines.append(
            "violations 违规: " + "; ".join(f"{f.rule} {f.subject}" for f in report.failing)
        )
    if report.undetermined:
        lines.append(
            "undetermined core rules 核心规则无法判定 (exit 1 until judged): "
            + "; ".join(f"{f.rule} {f.subject}" for f in report.undetermined)
        )
    return "\n".join(lines)


def _dataset_lines(datasets: list[dict[str, Any]]) -> list[str]:
    """The dataset table: last backup, off-site copy, verification, drill, bad points."""
    lines = [
        f"{'system/dataset':<28} {'last full backup':<30} {'off-site copy':<30} "
        f"{'last verification':<30} last drill",
    ]
    for row in datasets:
        lines.append(
            f"{row['system'] + '/' + row['dataset']:<28} {_age(row['last_backup']):<30} "
            f"{_age(row['offsite_newest_copy']):<30} "
            f"{_age(row['last_verification']):<30} {_age(row['last_drill'])}"
        )
        if not row.get("in_config", True):
            lines.append("    not in dr.yml (removed or renamed): kept while its failures are open")
        if row.get("bad_recovery_points"):
            lines.append(
                f"    BAD recovery point(s), never counted or restored: "
                f"{', '.join(row['bad_recovery_points'])} (open until `drctl verify --recheck`)"
            )
    return lines


def _network_lines(network: list[dict[str, Any]]) -> list[str]:
    """The network path table: exact availability this calendar year and over 365 days."""
    lines = [
        f"{'network path':<24} {'availability (calendar year, exact)':<44} "
        f"{'365 d':<14} {'downtime s':>10} {'no data s':>10} {'longest s':>10} "
        f"{'unmonitored s':>13}"
    ]
    for row in network:
        year, rolling = row["calendar_year"], row["rolling_365d"]
        exact = f"{year['availability_percent']} ({year['availability']})"
        lines.append(
            f"{row['path']:<24} {exact:<44} {rolling['availability_percent']:<14} "
            f"{_s(year['downtime_seconds']):>10} {_s(year['no_data_seconds']):>10} "
            f"{_s(row['longest_outage_seconds']):>10} "
            f"{_s(year['unmonitored_seconds']):>13}"
            + ("" if year["complete"] else "  (incomplete: not a verdict)")
            + (f"  DOWN since {row['down_since']}" if row["down_since"] else "")
        )
    return lines
