"""Build the dr-orchestrator Grafana dashboard with grafana-foundation-sdk (Grafana's own schema).

`python -m exporters.grafana.dashboard` prints the dashboard JSON; `--write` writes it to
exporters/grafana/dashboard.json (committed; a test fails when the two differ). Every query is
plain PromQL without Grafana variables, so the tests can run each one against a real Prometheus.
Panels read the exporter's metrics (docs/metrics.md) and the recording rules of
exporters/prometheus/rules.yml. Titles are bilingual, 简体中文 first.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard as builders
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as models

from exporters.grafana.panels import (
    OK_THEN_RED,
    Query,
    bar_panel,
    stat_panel,
    table_panel,
    time_panel,
)

logger = logging.getLogger(__name__)

DASHBOARD_JSON = Path(__file__).with_name("dashboard.json")
UID = "dr-orchestrator"
DAY = 86400
BUDGET = 5e-05  # 1 - 0.99995: the annual error budget as a fraction of time


def network_panels() -> list[Builder[models.Panel]]:
    """Return the panels for 260号 第五条: availability, budget, outages."""
    by_target = "{{target}}"
    return [
        stat_panel(
            "网络可靠率（自然年） / Availability, calendar year",
            [
                Query(
                    'max by (target) (dr_network_availability_ratio{window="calendar_year"})',
                    by_target,
                )
            ],
            unit="percentunit",
            decimals=4,
            steps=((None, "red"), (0.99995, "green")),
            description="Exact figure from the outage ledger, Asia/Shanghai calendar year. "
            "第五条: 不低于99.995%.",
        ),
        stat_panel(
            "网络可靠率（滚动365天） / Availability, rolling 365 days",
            [Query('max by (target) (dr_network_availability_ratio{window="365d"})', by_target)],
            unit="percentunit",
            decimals=4,
            steps=((None, "red"), (0.99995, "green")),
        ),
        bar_panel(
            "剩余故障预算 / Fault budget left",
            [Query("dr:network_error_budget_remaining:ratio", "{{target}} ({{window}})")],
            unit="percentunit",
            steps=((None, "red"), (0, "orange"), (0.25, "green")),
            description="1 = untouched, 0 = 26.28 min used, below 0 = 99.995 % breached.",
            width=12,
            height=5,
        ),
        stat_panel(
            "链路状态 / Path up",
            [Query("max by (target) (dr_network_up)", by_target)],
            unit="none",
            steps=((None, "red"), (1, "green")),
        ),
        stat_panel(
            "当前故障持续 / Current outage",
            [
                Query(
                    "time() - max by (target) (dr_network_outage_start_timestamp_seconds)",
                    by_target,
                )
            ],
            unit="s",
            no_value="no outage",
            steps=((None, "orange"), (1800, "red"), (5400, "dark-red")),
            description="第五条: 连续故障时间小于2小时. Escalation at 30/60/90 min; breach at 2 h.",
        ),
        stat_panel(
            "年度最长连续故障 / Longest outage per year",
            [
                Query(
                    "max by (target, year) (dr_network_outage_longest_seconds)",
                    "{{target}} {{year}}",
                )
            ],
            unit="s",
            steps=((None, "green"), (7200, "red")),
        ),
        stat_panel(
            "故障次数 / Outages (total)",
            [Query("max by (target) (dr_network_outages_total)", by_target)],
            unit="none",
        ),
        time_panel(
            "预算消耗速度 / Burn rate (1 = budget pace)",
            [
                Query(f"dr:network_error:ratio_rate1h / {BUDGET}", "{{target}} 1h"),
                Query(f"dr:network_error:ratio_rate6h / {BUDGET}", "{{target}} 6h"),
                Query(f"dr:network_error:ratio_rate1d / {BUDGET}", "{{target}} 1d"),
            ],
            unit="none",
            description="Page at 175.2 (1 h) and 73 (6 h); ticket at 36.5 (1 d) and 12.17 (3 d).",
        ),
        time_panel(
            "探测失败率 / Probe failure ratio by vantage",
            [
                Query(
                    "sum by (target, vantage) (rate(dr_network_probe_failures_total[5m])) / "
                    "sum by (target, vantage) (rate(dr_network_probes_total[5m]))",
                    "{{target}} from {{vantage}}",
                )
            ],
            unit="percentunit",
        ),
    ]


def backup_panels() -> list[Builder[models.Panel]]:
    """Return the panels for 第七条 full backups and off-site copies."""
    by_dataset = "{{system}}/{{dataset}}"
    return [
        bar_panel(
            "距上次完全备份工作日 / Working days since last full backup",
            [
                Query(
                    "max by (system, dataset) (dr_backup_working_days_since_last_success)",
                    by_dataset,
                )
            ],
            unit="none",
            decimals=0,
            steps=((None, "green"), (2, "red")),
            description="第七条: 数据完全备份的时间间隔不超过一个工作日. Empty = no calendar data.",
            width=12,
        ),
        table_panel(
            "上次成功备份距今 / Age of last successful backup",
            Query("time() - max by (system, dataset) (dr_backup_last_success_timestamp_seconds)"),
            unit="s",
        ),
        time_panel(
            "备份大小 / Backup size",
            [Query("max by (system, dataset) (dr_backup_last_size_bytes)", by_dataset)],
            unit="bytes",
        ),
        time_panel(
            "备份耗时 / Backup duration",
            [Query("max by (system, dataset) (dr_backup_last_duration_seconds)", by_dataset)],
            unit="s",
        ),
        bar_panel(
            "异地副本滞后 / Off-site lag",
            [
                Query(
                    "max by (system, dataset) (dr_backup_last_success_timestamp_seconds)"
                    " - on (system, dataset) "
                    "max by (system, dataset) (dr_offsite_newest_copy_timestamp_seconds)",
                    by_dataset,
                )
            ],
            unit="s",
            steps=((None, "green"),),
            description="第七条: 备份数据要实行异地保存. Newest backup minus newest backup "
            "confirmed off-site.",
        ),
        bar_panel(
            "异地滞后/目标 / Off-site lag vs objective",
            [
                Query(
                    "(max by (system, dataset) (dr_backup_last_success_timestamp_seconds)"
                    " - on (system, dataset) "
                    "max by (system, dataset) (dr_offsite_newest_copy_timestamp_seconds))"
                    " / on (system, dataset) "
                    "max by (system, dataset) (dr_offsite_max_lag_objective_seconds)",
                    by_dataset,
                )
            ],
            unit="percentunit",
            steps=((None, "green"), (0.75, "orange"), (1, "red")),
        ),
        time_panel(
            "备份失败次数（7天） / Failed backup runs, 7 days",
            [
                Query(
                    "sum by (system, dataset) (increase(dr_backup_failures_total[7d]))", by_dataset
                )
            ],
            unit="none",
            width=8,
        ),
    ]


def verification_panels() -> list[Builder[models.Panel]]:
    """Return the panels for 第七条 validity checks: age, sample ratios, coverage."""
    by_dataset = "{{system}}/{{dataset}}"
    return [
        stat_panel(
            "距上次有效性检查 / Since last validity check",
            [Query("time() - max(dr_restore_verification_last_check_timestamp_seconds)")],
            unit="s",
            steps=((None, "green"), (25 * DAY, "orange"), (30 * DAY, "red")),
            description="第七条: 检查时间间隔不超过30天. Warn at 25 days.",
        ),
        stat_panel(
            "上次抽检比例 / Last sample ratio",
            [Query("max by (basis) (dr_restore_sample_last_ratio)", "{{basis}}")],
            unit="percentunit",
            decimals=1,
            steps=((None, "red"), (0.1, "green")),
            description="第七条: 每次抽检数据量不低于10% (bytes and recovery points).",
        ),
        bar_panel(
            "抽检覆盖率 / Recovery points ever verified",
            [Query("max by (system, dataset) (dr_restore_sample_coverage_ratio)", by_dataset)],
            unit="percentunit",
            steps=((None, "orange"), (0.1, "green")),
            width=12,
        ),
        table_panel(
            "各数据集上次验证距今 / Age of last verified restore per dataset",
            Query(
                "time() - max by (system, dataset) "
                "(dr_restore_verification_last_success_timestamp_seconds)"
            ),
            unit="s",
        ),
        time_panel(
            "验证失败（30天） / Verification failures, 30 days",
            [
                Query(
                    "sum by (system, dataset) "
                    "(increase(dr_restore_verification_failures_total[30d]))",
                    by_dataset,
                )
            ],
            unit="none",
        ),
    ]


def drill_panels() -> list[Builder[models.Panel]]:
    """Return the panels for 第十三条 drills: age, RTO, RPO, outcome."""
    by_scenario = "{{scenario}}"
    return [
        stat_panel(
            "距上次演练成功 / Since last passed drill",
            [
                Query(
                    "time() - max by (scenario) (dr_drill_last_success_timestamp_seconds)",
                    by_scenario,
                )
            ],
            unit="s",
            steps=((None, "green"), (330 * DAY, "orange"), (365 * DAY, "red")),
            description="第十三条: 每年至少演练一次.",
        ),
        stat_panel(
            "上次RTO / Last RTO",
            [Query("max by (scenario) (dr_drill_last_rto_seconds)", by_scenario)],
            unit="s",
        ),
        stat_panel(
            "上次RPO / Last RPO",
            [Query("max by (scenario) (dr_drill_last_rpo_seconds)", by_scenario)],
            unit="s",
        ),
        table_panel(
            "上次演练结果 / Last drill outcome",
            Query("max by (scenario, outcome) (dr_drill_last_outcome) == 1"),
            width=6,
        ),
    ]


def rule_status_panels() -> list[Builder[models.Panel]]:
    """Return the rule status panels: counts per status and the full rule x subject table."""
    return [
        stat_panel(
            "不符合 / Non-compliant",
            [
                Query(
                    'count(max by (rule, subject) (dr_rule_status{status="non_compliant"}) == 1)'
                    " or vector(0)"
                )
            ],
            unit="none",
            steps=OK_THEN_RED,
        ),
        stat_panel(
            "无法判定 / Unknown",
            [
                Query(
                    'count(max by (rule, subject) (dr_rule_status{status="unknown"}) == 1)'
                    " or vector(0)"
                )
            ],
            unit="none",
            steps=((None, "green"), (1, "orange")),
            description="No data (calendar, probes, records) is unknown, never compliant.",
        ),
        table_panel(
            "规则状态 / Rule status",
            Query("max by (rule, subject, status) (dr_rule_status) == 1"),
            width=12,
        ),
    ]


def exporter_panels() -> list[Builder[models.Panel]]:
    """Return the exporter self-monitoring panels."""
    return [
        stat_panel(
            "采集状态 / Exporter up",
            [Query('up{job="dr-orchestrator"}', "{{instance}}")],
            unit="none",
            steps=((None, "red"), (1, "green")),
        ),
        stat_panel(
            "采集器 / Collector success",
            [Query("min by (collector) (dr_scrape_collector_success)", "{{collector}}")],
            unit="none",
            steps=((None, "red"), (1, "green")),
        ),
        time_panel(
            "采集耗时 / Collector duration",
            [Query("max by (collector) (dr_scrape_collector_duration_seconds)", "{{collector}}")],
            unit="s",
        ),
    ]


SECTIONS = (
    ("网络（第五条） / Network availability", network_panels),
    ("备份与异地（第七条） / Backups and off-site copies", backup_panels),
    ("恢复验证（第七条） / Restore verification", verification_panels),
    ("演练（第十三条） / Drills", drill_panels),
    ("规则状态 / Rule status", rule_status_panels),
    ("导出器 / Exporter", exporter_panels),
)


def build_dashboard() -> models.Dashboard:
    """Return the dashboard model: one row per area, panel ids numbered in order."""
    dashboard = (
        builders.Dashboard("灾备与备份合规 / DR and backup compliance (银发[2002]260号)")
        .uid(UID)
        .tags(["dr-orchestrator", "260号"])
        .timezone("Asia/Shanghai")
        .time("now-7d", "now")
        .refresh("1m")
        .readonly()
        .with_variable(
            builders.DatasourceVariable("datasource").label("Prometheus").type("prometheus")
        )
    )
    panel_id = 0
    for title, panels in SECTIONS:
        panel_id += 1
        dashboard = dashboard.with_row(builders.Row(title).id(panel_id))
        for panel in panels():
            panel_id += 1
            dashboard = dashboard.with_panel(panel.id(panel_id))  # type: ignore[attr-defined]
    return dashboard.build()


def render() -> str:
    """Return the dashboard as stable JSON text (sorted keys, two-space indent, final newline)."""
    return (
        json.dumps(build_dashboard(), cls=JSONEncoder, indent=2, sort_keys=True, ensure_ascii=False)
        + "\n"
    )


def write(path: Path = DASHBOARD_JSON) -> Path:
    """Write the rendered dashboard to path atomically (temp file + rename); return path."""
    text = render()
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    logger.info("wrote %s", path)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Print the dashboard JSON, or write it with --write; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m exporters.grafana.dashboard",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument("--write", action="store_true", help=f"write {DASHBOARD_JSON}")
    arguments = parser.parse_args(argv)
    if arguments.write:
        sys.stdout.write(f"{write()}\n")
    else:
        sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(main())
