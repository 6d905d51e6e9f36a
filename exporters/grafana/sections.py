"""The dashboard's rows and panels, one function per area (260号 第五条, 第七条, 第十三条).

Every selector is `scoped`: limited to the dashboard's `job` and `instance` variables. Panels
read only the exporter's metrics (docs/metrics.md), never the recording rules of
exporters/prometheus/rules.yml, which aggregate job and instance away.
"""

from __future__ import annotations

from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models import dashboard as models

from exporters.grafana.panels import (
    OK_THEN_RED,
    Query,
    bar_panel,
    stat_panel,
    table_panel,
    time_panel,
)

DAY = 86400
BUDGET = 5e-05  # 1 - 0.99995: the annual error budget as a fraction of time
SCOPE = 'job=~"$job",instance=~"$instance"'
BY_DATASET = "{{system}}/{{dataset}}"
BY_TARGET = "{{target}}"


def scoped(metric: str, **matchers: str) -> str:
    """Given a metric name and label matchers, return a selector limited to the dashboard's
    job and instance variables: scoped("m", window="365d") → m{job=~"$job",…,window="365d"}."""
    extra = "".join(f',{name}="{value}"' for name, value in matchers.items())
    return f"{metric}{{{SCOPE}{extra}}}"


def error_ratio(window: str) -> str:
    """Return the fraction of observed time that was down over window, per target: the
    arithmetic of the dr:network_error:ratio_rate* recording rules, scoped."""
    return (
        f"sum by (target) (increase({scoped('dr_network_downtime_seconds_total')}[{window}]))"
        f" / sum by (target) (increase({scoped('dr_network_observed_seconds_total')}[{window}]))"
    )


def budget_remaining() -> str:
    """Return the share of the annual fault budget left per target and window: the
    dr:network_error_budget_remaining:ratio recording rule, scoped."""
    return (
        f"1 - (1 - max by (target, window) ({scoped('dr_network_availability_ratio')}))"
        " / on (target) group_left () "
        f"(1 - max by (target) ({scoped('dr_network_availability_objective_ratio')}))"
    )


def network_panels() -> list[Builder[models.Panel]]:
    """Return the panels for 260号 第五条: availability, budget, outages."""
    return [
        stat_panel(
            "网络可靠率（自然年） / Availability, calendar year",
            [
                Query(
                    "max by (target) "
                    f"({scoped('dr_network_availability_ratio', window='calendar_year')})",
                    BY_TARGET,
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
            [
                Query(
                    f"max by (target) ({scoped('dr_network_availability_ratio', window='365d')})",
                    BY_TARGET,
                )
            ],
            unit="percentunit",
            decimals=4,
            steps=((None, "red"), (0.99995, "green")),
        ),
        bar_panel(
            "剩余故障预算 / Fault budget left",
            [Query(budget_remaining(), "{{target}} ({{window}})")],
            unit="percentunit",
            steps=((None, "red"), (0, "orange"), (0.25, "green")),
            description="1 = untouched, 0 = 26.28 min used, below 0 = 99.995 % breached.",
            width=12,
            height=5,
        ),
        stat_panel(
            "链路状态 / Path up",
            [Query(f"max by (target) ({scoped('dr_network_up')})", BY_TARGET)],
            unit="none",
            steps=((None, "red"), (1, "green")),
        ),
        stat_panel(
            "当前故障持续 / Current outage",
            [
                Query(
                    "time() - max by (target) "
                    f"({scoped('dr_network_outage_start_timestamp_seconds')})",
                    BY_TARGET,
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
                    f"max by (target, year) ({scoped('dr_network_outage_longest_seconds')})",
                    "{{target}} {{year}}",
                )
            ],
            unit="s",
            steps=((None, "green"), (7200, "red")),
        ),
        stat_panel(
            "故障次数 / Outages (total)",
            [Query(f"max by (target) ({scoped('dr_network_outages_total')})", BY_TARGET)],
            unit="none",
        ),
        time_panel(
            "预算消耗速度 / Burn rate (1 = budget pace)",
            [
                Query(f"{error_ratio('1h')} / {BUDGET}", "{{target}} 1h"),
                Query(f"{error_ratio('6h')} / {BUDGET}", "{{target}} 6h"),
                Query(f"{error_ratio('3d')} / {BUDGET}", "{{target}} 3d"),
            ],
            unit="none",
            description="Alerts: 175.2 over 1 h (DRNetworkBudgetBurnFast), 73 over 6 h "
            "(DRNetworkBudgetBurnSlow), 12.17 over 3 d (DRNetworkBudgetBurnTicket).",
        ),
        time_panel(
            "探测失败率 / Probe failure ratio by vantage",
            [
                Query(
                    "sum by (target, vantage) "
                    f"(rate({scoped('dr_network_probe_failures_total')}[5m])) / "
                    f"sum by (target, vantage) (rate({scoped('dr_network_probes_total')}[5m]))",
                    "{{target}} from {{vantage}}",
                )
            ],
            unit="percentunit",
        ),
    ]


def backup_panels() -> list[Builder[models.Panel]]:
    """Return the panels for 第七条 full backups and off-site copies."""
    last_success = (
        f"max by (system, dataset) ({scoped('dr_backup_last_success_timestamp_seconds')})"
    )
    newest_offsite = (
        f"max by (system, dataset) ({scoped('dr_offsite_newest_copy_timestamp_seconds')})"
    )
    return [
        bar_panel(
            "距上次完全备份工作日 / Working days since last full backup",
            [
                Query(
                    f"max by (system, dataset) ({scoped('dr_backup_open_gap_workdays')})",
                    BY_DATASET,
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
            Query(f"time() - {last_success}"),
            unit="s",
        ),
        time_panel(
            "备份大小 / Backup size",
            [
                Query(
                    f"max by (system, dataset) ({scoped('dr_backup_last_size_bytes')})",
                    BY_DATASET,
                )
            ],
            unit="bytes",
        ),
        time_panel(
            "备份耗时 / Backup duration",
            [
                Query(
                    f"max by (system, dataset) ({scoped('dr_backup_last_duration_seconds')})",
                    BY_DATASET,
                )
            ],
            unit="s",
        ),
        bar_panel(
            "异地副本滞后 / Off-site lag",
            [Query(f"{last_success} - on (system, dataset) {newest_offsite}", BY_DATASET)],
            unit="s",
            steps=((None, "green"),),
            description="第七条: 备份数据要实行异地保存. Newest backup minus newest backup "
            "confirmed off-site.",
        ),
        bar_panel(
            "异地滞后/目标 / Off-site lag vs objective",
            [
                Query(
                    f"({last_success} - on (system, dataset) {newest_offsite})"
                    " / on (system, dataset) max by (system, dataset) "
                    f"({scoped('dr_offsite_max_lag_objective_seconds')})",
                    BY_DATASET,
                )
            ],
            unit="percentunit",
            steps=((None, "green"), (0.75, "orange"), (1, "red")),
        ),
        time_panel(
            "备份失败次数（7天） / Failed backup runs, 7 days",
            [
                Query(
                    "sum by (system, dataset) "
                    f"(increase({scoped('dr_backup_failures_total')}[7d]))",
                    BY_DATASET,
                )
            ],
            unit="none",
            width=8,
        ),
    ]


def verification_panels() -> list[Builder[models.Panel]]:
    """Return the panels for 第七条 validity checks: age, sample ratios, coverage."""
    return [
        stat_panel(
            "距上次有效性检查 / Since last validity check",
            [
                Query(
                    "time() - max "
                    f"({scoped('dr_restore_verification_last_check_timestamp_seconds')})"
                )
            ],
            unit="s",
            steps=((None, "green"), (25 * DAY, "orange"), (30 * DAY, "red")),
            description="第七条: 检查时间间隔不超过30天. Warn at 25 days.",
        ),
        stat_panel(
            "上次抽检比例 / Last sample ratio",
            [Query(f"max by (basis) ({scoped('dr_restore_sample_last_ratio')})", "{{basis}}")],
            unit="percentunit",
            decimals=1,
            steps=((None, "red"), (0.1, "green")),
            description="第七条: 每次抽检数据量不低于10% (bytes and recovery points).",
        ),
        bar_panel(
            "抽检覆盖率 / Recovery points ever verified",
            [
                Query(
                    f"max by (system, dataset) ({scoped('dr_restore_sample_coverage_ratio')})",
                    BY_DATASET,
                )
            ],
            unit="percentunit",
            steps=((None, "orange"), (0.1, "green")),
            width=12,
        ),
        table_panel(
            "各数据集上次验证距今 / Age of last verified restore per dataset",
            Query(
                "time() - max by (system, dataset) "
                f"({scoped('dr_restore_verification_last_success_timestamp_seconds')})"
            ),
            unit="s",
        ),
        time_panel(
            "验证失败（30天） / Verification failures, 30 days",
            [
                Query(
                    "sum by (system, dataset) "
                    f"(increase({scoped('dr_restore_verification_failures_total')}[30d]))",
                    BY_DATASET,
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
                    "time() - max by (scenario) "
                    f"({scoped('dr_drill_last_success_timestamp_seconds')})",
                    by_scenario,
                )
            ],
            unit="s",
            steps=((None, "green"), (330 * DAY, "orange"), (365 * DAY, "red")),
            description="第十三条: 每年至少演练一次.",
        ),
        stat_panel(
            "上次RTO / Last RTO",
            [Query(f"max by (scenario) ({scoped('dr_drill_last_rto_seconds')})", by_scenario)],
            unit="s",
        ),
        stat_panel(
            "上次RPO / Last RPO",
            [Query(f"max by (scenario) ({scoped('dr_drill_last_rpo_seconds')})", by_scenario)],
            unit="s",
        ),
        table_panel(
            "上次演练结果 / Last drill outcome",
            Query(f"max by (scenario, outcome) ({scoped('dr_drill_last_outcome')}) == 1"),
            width=6,
        ),
    ]


def rule_status_panels() -> list[Builder[models.Panel]]:
    """Return the rule status panels: counts per status and the full rule x subject table."""

    def count(status: str) -> str:
        selector = scoped("dr_rule_status", status=status)
        return f"count(max by (rule, subject) ({selector}) == 1) or vector(0)"

    return [
        stat_panel(
            "不符合 / Non-compliant",
            [Query(count("non_compliant"))],
            unit="none",
            steps=OK_THEN_RED,
        ),
        stat_panel(
            "无法判定 / Unknown",
            [Query(count("unknown"))],
            unit="none",
            steps=((None, "green"), (1, "orange")),
            description="No data (calendar, probes, records) is unknown, never compliant.",
        ),
        table_panel(
            "规则状态 / Rule status",
            Query(f"max by (rule, subject, status) ({scoped('dr_rule_status')}) == 1"),
            width=12,
        ),
    ]


def exporter_panels() -> list[Builder[models.Panel]]:
    """Return the exporter self-monitoring panels."""
    return [
        stat_panel(
            "采集状态 / Exporter up",
            [Query(scoped("up"), "{{job}} {{instance}}")],
            unit="none",
            steps=((None, "red"), (1, "green")),
        ),
        stat_panel(
            "采集器 / Collector success",
            [
                Query(
                    f"min by (collector) ({scoped('dr_scrape_collector_success')})",
                    "{{collector}}",
                )
            ],
            unit="none",
            steps=((None, "red"), (1, "green")),
        ),
        time_panel(
            "采集耗时 / Collector duration",
            [
                Query(
                    f"max by (collector) ({scoped('dr_scrape_collector_duration_seconds')})",
                    "{{collector}}",
                )
            ],
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
