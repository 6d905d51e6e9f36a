"""The snapshot `drctl status` and a /metrics scrape judge now: copies bounded by what is held
at the instant judged, the rest of their history as aggregates (model/judged_snapshot.py),
with the bounds the rule pack's thresholds set. Only reads."""

from __future__ import annotations

from sqlalchemy import Connection

from orchestrator.model.judged_snapshot import read_judged
from orchestrator.model.snapshot import Snapshot
from orchestrator.rules.finding import DAY_SECONDS
from orchestrator.rules.rule import RulePack

ROTATION = "backup.rotation"


def judged_snapshot(connection: Connection, pack: RulePack, at: float) -> Snapshot:
    """Given an open connection, the rule pack and the instant to judge (epoch seconds, as
    Context.at_ts), return the bounded snapshot: copies deleted sooner than rotation's
    min_days after being written are kept as rows, and dropped points are counted for every
    other rule's min_days (the content retention rules)."""
    early = int(pack.get(ROTATION).value("min_days")) * DAY_SECONDS if ROTATION in pack else 0
    windows = {
        int(rule.value("min_days")) * DAY_SECONDS
        for rule in pack
        if rule.id != ROTATION and "min_days" in rule.thresholds
    }
    return read_judged(connection, at, early, sorted(windows))
