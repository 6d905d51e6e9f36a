"""The dashboard row for 260号 第五条 network availability: the exact figures from the
outage ledger, the fault budget left and its burn rate, outages, probe failures."""

from __future__ import annotations

from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models import dashboard as models

from exporters.grafana.panels import Query, bar_panel, stat_panel, time_panel
from exporters.grafana.queries import BY_TARGET, scoped

BUDGET = 5e-05  # 1 - 0.99995: the annual error budget as a fraction of time


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
    return [*availability_panels(), *outage_panels(), *rate_panels()]


def availability_panels() -> list[Builder[models.Panel]]:
    """Return the availability figures (calendar year, rolling 365 days) and the budget left."""
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
    ]


def outage_panels() -> list[Builder[models.Panel]]:
    """Return the outage panels: path up, current and longest outage, outage count."""
    return [
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
    ]


def rate_panels() -> list[Builder[models.Panel]]:
    """Return the rates over time: budget burn and probe failures by vantage."""
    return [
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
