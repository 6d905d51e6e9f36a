"""Dashboard rows for mirroring (第十一条 「相互镜像」) and restore times against their
objectives (R140). Queries read only the exporter's metrics (docs/metrics.md), scoped by the
dashboard's job and instance variables like every other row."""

from __future__ import annotations

from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models import dashboard as models

from exporters.grafana.panels import OK_THEN_RED, Query, stat_panel, table_panel, time_panel
from exporters.grafana.queries import count_or_zero, scoped

BY_LINK = "{{system}}/{{link}}"


def mirroring_panels() -> list[Builder[models.Panel]]:
    """Return the panels of the mirroring SLI: links not streaming, lag against the
    objective, healthy share of the year, state per link."""
    streaming = scoped("dr_replication_state", state="streaming")
    not_streaming = f"max by (system, link) ({streaming}) == 0"
    return [
        stat_panel(
            "未在复制的链路 / Links not streaming",
            [Query(count_or_zero(not_streaming, scoped("dr_replication_state")))],
            unit="none",
            steps=OK_THEN_RED,
            description="第十一条 「相互镜像」: every link should stream.",
        ),
        time_panel(
            "复制延迟 / Replay lag",
            [
                Query(f"max by (system, link) ({scoped('dr_replication_lag_seconds')})", BY_LINK),
                Query(
                    f"max by (system) ({scoped('dr_replication_lag_objective_seconds')})",
                    "objective {{system}}",
                ),
            ],
            unit="s",
            description="Replay lag at each probe beside the system's objective.",
            width=12,
        ),
        stat_panel(
            "本年健康占比 / Healthy share this year",
            [Query(f"min by (system, link) ({scoped('dr_replication_healthy_ratio')})", BY_LINK)],
            unit="percentunit",
            steps=((None, "red"), (0.99, "green")),
            decimals=4,
            description="Share of the monitored part of the year each link streamed within "
            "its lag objective (dr.mirroring).",
        ),
        table_panel(
            "链路状态 / Link state",
            Query(f"max by (system, link, state) ({scoped('dr_replication_state')}) == 1"),
            width=12,
        ),
        time_panel(
            "恢复耗时与目标 / Restore duration and objective",
            [
                Query(
                    "max by (system, dataset, kind) "
                    f"({scoped('dr_restore_last_duration_seconds')})",
                    "{{system}}/{{dataset}} {{kind}}",
                ),
                Query(
                    f"max by (system) ({scoped('dr_restore_duration_objective_seconds')})",
                    "objective {{system}}",
                ),
            ],
            unit="s",
            description="R140: every restore within the time the bank's restore procedure sets.",
        ),
    ]


ROW = ("镜像与恢复时间（第十一条） / Mirroring and restore time", mirroring_panels)
__all__ = ["ROW", "mirroring_panels"]
