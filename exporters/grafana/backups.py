"""The dashboard rows for 260号 第七条: full backups, off-site copies and validity checks."""

from __future__ import annotations

from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models import dashboard as models

from exporters.grafana.panels import Query, bar_panel, stat_panel, table_panel, time_panel
from exporters.grafana.queries import BY_DATASET, DAY, scoped


def backup_panels() -> list[Builder[models.Panel]]:
    """Return the panels for 第七条 full backups and off-site copies."""
    last_success = (
        f"max by (system, dataset) ({scoped('dr_backup_last_success_timestamp_seconds')})"
    )
    return [
        *backup_run_panels(last_success),
        *offsite_panels(last_success),
        failed_runs_panel(),
    ]


def backup_run_panels(last_success: str) -> list[Builder[models.Panel]]:
    """Given the newest-success query, return the backup runs' panels: working days since
    the last full backup, its age, size and duration."""
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
    ]


def offsite_panels(last_success: str) -> list[Builder[models.Panel]]:
    """Given the newest-success query, return the off-site lag, absolute and against its
    objective."""
    newest_offsite = (
        f"max by (system, dataset) ({scoped('dr_offsite_newest_copy_timestamp_seconds')})"
    )
    return [
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
    ]


def failed_runs_panel() -> Builder[models.Panel]:
    """Return the failed backup runs of the last 7 days per dataset."""
    return time_panel(
        "备份失败次数（7天） / Failed backup runs, 7 days",
        [
            Query(
                f"sum by (system, dataset) (increase({scoped('dr_backup_failures_total')}[7d]))",
                BY_DATASET,
            )
        ],
        unit="none",
        width=8,
    )


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
