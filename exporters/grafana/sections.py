"""The dashboard's rows in order, and the smaller rows: drills (第十三条), rule status, the
exporter itself. Network (第五条) and backups (第七条) have their own modules.

Every selector is `scoped`: limited to the dashboard's `job` and `instance` variables. Panels
read only the exporter's metrics (docs/metrics.md), never the recording rules of
exporters/prometheus/rules.yml, which aggregate job and instance away.
"""

from __future__ import annotations

from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models import dashboard as models

from exporters.grafana.backups import backup_panels, verification_panels
from exporters.grafana.network import network_panels
from exporters.grafana.panels import OK_THEN_RED, Query, stat_panel, table_panel, time_panel
from exporters.grafana.queries import DAY, count_or_zero, scoped


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
        return count_or_zero(f"max by (rule, subject) ({selector}) == 1", scoped("dr_rule_status"))

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
