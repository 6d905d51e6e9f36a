"""The deadlines the rules judge by, as timestamps (names and meanings: docs/metrics.md).

Each dr_*_next_due_timestamp_seconds is the instant `drctl status` turns the rule 不符合 unless
the awaited record arrives first, computed by orchestrator.rules.deadlines, the functions the
evaluators decide with. The alerts fire on `time() >= due`, so an alert and status turn at the
same second.
"""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client.core import GaugeMetricFamily, Metric

from exporters.catalog_metrics import DATASET, ScrapeData
from orchestrator.rules.deadlines import (
    backup_deadline,
    calendar_data_end,
    drill_deadline,
    verification_deadline,
)
from orchestrator.rules.finding import Context


def deadline_metrics(data: ScrapeData) -> list[Metric]:
    """Return the due timestamps of full backups, validity checks and drills, and the end of
    the calendar data."""
    context = Context(
        data.config, data.pack, data.calendar, data.snapshot, datetime.fromtimestamp(data.at, UTC)
    )
    backup = GaugeMetricFamily(
        "dr_backup_next_due_timestamp_seconds",
        "When status turns backup.full_interval 不符合 unless a full backup's business date "
        "comes first; a day without calendar data counts as a working day",
        labels=DATASET,
    )
    for system in data.config.systems:
        for dataset in system.datasets:
            due = backup_deadline(context, system.name, dataset.name)
            if due is not None:
                backup.add_metric([system.name, dataset.name], due.due_at)
    check = GaugeMetricFamily(
        "dr_restore_verification_next_due_timestamp_seconds",
        "When status turns verify.interval 不符合 for the system unless a counted validity "
        "check comes first",
        labels=["system"],
    )
    check_soon = GaugeMetricFamily(
        "dr_restore_verification_due_soon_timestamp_seconds",
        "When status turns verify.interval 部分符合 for the system (warn_days after the last "
        "counted check)",
        labels=["system"],
    )
    for system in data.config.systems:
        due = verification_deadline(context, system.name)
        if due is not None:
            check.add_metric([system.name], due.due_at)
            check_soon.add_metric([system.name], due.warn_at or due.due_at)
    drill = GaugeMetricFamily(
        "dr_drill_next_due_timestamp_seconds",
        "When status turns drill.yearly 不符合 unless a drill passes first",
    )
    due = drill_deadline(context)
    if due is not None:
        drill.add_metric([], due.due_at)
    calendar = GaugeMetricFamily(
        "dr_calendar_data_end_timestamp_seconds",
        "End of the last day (Asia/Shanghai) with statutory working-day calendar data, "
        "counting on from the current year",
    )
    calendar.add_metric([], calendar_data_end(data.calendar, data.at))
    return [backup, check, check_soon, drill, calendar]
