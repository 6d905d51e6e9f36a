"""Panel builders for the dr-orchestrator dashboard (grafana-foundation-sdk, Prometheus targets).

Every panel reads the Prometheus data source chosen by the `datasource` dashboard variable; its
PromQL uses the `job` and `instance` variables, which the tests substitute before running each
query against a real Prometheus.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grafana_foundation_sdk.builders import bargauge, stat, table, timeseries
from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as builders
from grafana_foundation_sdk.builders import prometheus as prometheus_builders
from grafana_foundation_sdk.cog import variants
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as models
from grafana_foundation_sdk.models import prometheus as prometheus_models

DATASOURCE = models.DataSourceRef(type_val="prometheus", uid="${datasource}")

Steps = Sequence[tuple[float | None, str]]
OK_THEN_RED: Steps = ((None, "green"), (1, "red"))


@dataclass(frozen=True)
class Query:
    """One PromQL target: expression and legend."""

    expr: str
    legend: str = ""


def _targets(
    queries: Sequence[Query], *, instant: bool, table_format: bool = False
) -> list[Builder[variants.Dataquery]]:
    """Given queries, return Prometheus targets with refIds A, B, C, ..."""
    targets: list[Builder[variants.Dataquery]] = []
    for index, query in enumerate(queries):
        target = prometheus_builders.Dataquery().expr(query.expr).ref_id(chr(ord("A") + index))
        target = target.instant() if instant else target.range()
        if query.legend:
            target = target.legend_format(query.legend)
        if table_format:
            target = target.format(prometheus_models.PromQueryFormat.TABLE)
        targets.append(target)
    return targets


def _thresholds(steps: Steps) -> builders.ThresholdsConfig:
    """Given (value, colour) steps, lowest first (value None = base), return absolute thresholds."""
    return (
        builders.ThresholdsConfig()
        .mode(models.ThresholdsMode.ABSOLUTE)
        .steps([models.Threshold(value=value, color=color) for value, color in steps])
    )


def _last_value() -> common_builders.ReduceDataOptions:
    """Return reduce options that show the last non-null value of each series."""
    return common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False)


def stat_panel(
    title: str,
    queries: Sequence[Query],
    *,
    unit: str,
    steps: Steps = ((None, "green"),),
    description: str = "",
    width: int = 6,
    decimals: float | None = None,
    no_value: str = "",
) -> stat.Panel:
    """Return a stat panel showing the current value of each query's series."""
    panel = (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(_targets(queries, instant=True))
        .unit(unit)
        .thresholds(_thresholds(steps))
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .reduce_options(_last_value())
        .span(width)
        .height(5)
    )
    if decimals is not None:
        panel = panel.decimals(decimals)
    if no_value:
        panel = panel.no_value(no_value)
    return panel


def bar_panel(
    title: str,
    queries: Sequence[Query],
    *,
    unit: str,
    steps: Steps,
    description: str = "",
    width: int = 8,
    height: int = 8,
    decimals: float | None = None,
) -> bargauge.Panel:
    """Return a horizontal bar gauge, one bar per series (datasets, paths)."""
    panel = (
        bargauge.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(_targets(queries, instant=True))
        .unit(unit)
        .thresholds(_thresholds(steps))
        .orientation(common.VizOrientation.HORIZONTAL)
        .display_mode(common.BarGaugeDisplayMode.BASIC)
        .reduce_options(_last_value())
        .span(width)
        .height(height)
    )
    return panel if decimals is None else panel.decimals(decimals)


def time_panel(
    title: str, queries: Sequence[Query], *, unit: str, description: str = "", width: int = 12
) -> timeseries.Panel:
    """Return a time series panel over the dashboard's time range."""
    return (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(_targets(queries, instant=False))
        .unit(unit)
        .span(width)
        .height(8)
    )


def table_panel(
    title: str, query: Query, *, unit: str = "", description: str = "", width: int = 12
) -> table.Panel:
    """Return a table of the query's current series, one row per label set, Time hidden."""
    panel = (
        table.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(_targets([query], instant=True, table_format=True))
        .with_transformation(
            models.DataTransformerConfig(
                id_val="organize", options={"excludeByName": {"Time": True, "__name__": True}}
            )
        )
        .span(width)
        .height(8)
    )
    return panel.unit(unit) if unit else panel
