"""Judge `dr.mirroring` (260号 第十一条 「相互镜像，支持双向恢复」) per system, from the
mirroring ledger (model/replication.py) and the drills.

符合 only when both hold in the calendar year (Asia/Shanghai) of the time of judgement:
- a passed drill in the year verified both directions (failover and failback), and
- every replication link of the system was healthy (streaming, replay lag within the system's
  `replication.lag_objective_seconds`) for at least `replication.min_healthy_ratio` of the
  monitored period.

The monitored period of a link runs from its first probe (or the start of the year, if it was
probed before) to the time of judgement. A probe's result stands until the next probe, for at
most `replication.max_probe_gap_seconds`; time no probe covers counts as not shown healthy.
No replication section → 无法判定 (nothing measures mirroring); no probe in the year → 无法判定.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from orchestrator.model.link_probe import ProbeRow
from orchestrator.model.replication_settings import Replication
from orchestrator.model.settings import System
from orchestrator.model.snapshot import DrillRow
from orchestrator.rules import figures as fmt
from orchestrator.rules.awaited import passed_drills
from orchestrator.rules.finding import Context, Finding, local_day
from orchestrator.rules.status import Status
from orchestrator.rules.timezone import SHANGHAI

MIRRORING = "dr.mirroring"
HISTORY_SECONDS = 400 * 86400  # probes older than this are not read (a year and a margin)


@dataclass(frozen=True)
class LinkFigures:
    """One link's health over a period."""

    link: str
    start: float  # start of the monitored period
    end: float
    healthy_seconds: float
    probes: int
    last: ProbeRow | None

    @property
    def monitored_seconds(self) -> float:
        return max(0.0, self.end - self.start)

    @property
    def ratio(self) -> float | None:
        """Healthy share of the monitored period (None when nothing was monitored)."""
        if self.monitored_seconds <= 0:
            return None
        return min(1.0, self.healthy_seconds / self.monitored_seconds)


def year_start(ctx: Context) -> float:
    """Return the first instant of the judged calendar year (Asia/Shanghai), epoch seconds."""
    return datetime(ctx.local_date.year, 1, 1, tzinfo=SHANGHAI).timestamp()


def link_figures(
    probes: Sequence[ProbeRow], link: str, start: float, end: float, settings: Replication
) -> LinkFigures:
    """Given one system's probes, return a link's healthy time between start and end."""
    mine = sorted((p for p in probes if p.link == link and p.probed_at <= end), key=_when)
    standing = [p for p in mine if p.probed_at < start][-1:]
    inside = [p for p in mine if p.probed_at >= start]
    chain = standing + inside
    if not chain:
        return LinkFigures(link, end, end, 0.0, 0, None)
    healthy = 0.0
    for index, probe in enumerate(chain):
        following = chain[index + 1].probed_at if index + 1 < len(chain) else end
        stop = min(following, probe.probed_at + settings.max_probe_gap_seconds, end)
        begin = max(probe.probed_at, start)
        if stop > begin and probe.healthy(settings.lag_objective_seconds):
            healthy += stop - begin
    first = max(chain[0].probed_at, start)
    return LinkFigures(link, first, end, healthy, len(inside), chain[-1])


def _when(probe: ProbeRow) -> float:
    return probe.probed_at


def both_ways_drilled(ctx: Context) -> DrillRow | None:
    """Return the last passed drill of the judged year that verified failover and failback,
    or None."""
    year = ctx.local_date.year
    drills = [
        d
        for d in passed_drills(ctx)
        if d.failover_ok and d.failback_ok and local_day(d.finished_at or 0.0).year == year
    ]
    return drills[-1] if drills else None


def _describe(figures: LinkFigures) -> str:
    if figures.ratio is None:
        return f"{figures.link}: not probed"
    last = figures.last
    lag = "unknown" if last is None or last.lag_seconds is None else fmt.seconds(last.lag_seconds)
    state = last.state if last else "none"
    return (
        f"{figures.link}: healthy {fmt.percent(figures.ratio)} of "
        f"{fmt.days(figures.monitored_seconds)} ({figures.probes} probes; last {state}, lag {lag})"
    )


def judge_system(ctx: Context, system: System) -> Finding:
    """Return the dr.mirroring finding of one system."""
    settings = system.replication
    if settings is None:
        return ctx.finding(
            MIRRORING,
            system.name,
            Status.UNKNOWN,
            measured="mirroring not measured",
            threshold="replication configured and probed",
            evidence="dr.yml",
            reason="the system has no `replication` section: nothing measures mirroring",
        )
    threshold = (
        f"failover and failback drilled in {ctx.local_date.year}; every link healthy (streaming, "
        f"lag ≤ {fmt.seconds(settings.lag_objective_seconds)}) ≥ "
        f"{fmt.percent(settings.min_healthy_ratio)} of the monitored period"
    )
    probes = [p for p in ctx.snapshot.replication_probes if p.system == system.name]
    start = year_start(ctx)
    links = [link_figures(probes, link.name, start, ctx.at_ts, settings) for link in settings.links]
    drill = both_ways_drilled(ctx)
    measured = "; ".join(_describe(f) for f in links) + (
        f"; drill {drill.id} verified both ways" if drill else "; no drill verified both ways"
    )
    evidence = "mirroring ledger (replication_probes) and catalog drills"
    ratios = [f.ratio for f in links]
    short = [f.link for f in links if f.ratio is not None and f.ratio < settings.min_healthy_ratio]
    if short:
        status = Status.NON_COMPLIANT
        reason = "mirroring below the healthy share objective on " + ", ".join(short)
    elif drill is None:
        status = Status.NON_COMPLIANT
        reason = f"no passed drill in {ctx.local_date.year} verified failover and failback"
    elif any(r is None for r in ratios):
        status = Status.UNKNOWN
        reason = "a link was never probed in this year: mirroring cannot be shown"
    else:
        status = Status.COMPLIANT
        reason = "both directions drilled and every link healthy within the objective"
    return ctx.finding(
        MIRRORING,
        system.name,
        status,
        measured=measured,
        threshold=threshold,
        evidence=evidence,
        reason=reason,
    )


def evaluate_mirroring(ctx: Context) -> list[Finding]:
    """Judge dr.mirroring for every system."""
    return [judge_system(ctx, system) for system in ctx.config.systems]
