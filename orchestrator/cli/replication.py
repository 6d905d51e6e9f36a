"""`drctl replication probe`: read every replication link's state and lag, record it, print it.

Exit 0 when every link streams within its system's lag objective, 1 when one does not (the
mirror is not healthy: a check failed), 2 when nothing is configured to probe (or --system
names no system with links), 3 when a site's host could not be reached (its links are
recorded `unreachable`).
"""

from __future__ import annotations

from typing import Any

from orchestrator.actions.replication_probe import (
    LinkProbe,
    ProbeOutcome,
    probed_systems,
    run_replication_probe,
)
from orchestrator.cli.call import Call
from orchestrator.errors import ExitCode
from orchestrator.runtime import open_runtime
from orchestrator.timefmt import iso_utc


def probe(call: Call) -> int:
    site = call.site()
    probed_systems(site.config, call.args.system)  # exit 2 before the catalog is opened
    with open_runtime(site) as runtime:
        outcome = run_replication_probe(runtime, call.args.system)
    call.out.emit(outcome_dict(outcome), describe(outcome))
    if outcome.unreachable_sites:
        return ExitCode.INFRASTRUCTURE
    return ExitCode.OK if outcome.healthy else ExitCode.CHECK_FAILED


def probe_dict(probe: LinkProbe) -> dict[str, Any]:
    return {
        "system": probe.system,
        "link": probe.link.name,
        "engine": probe.link.engine,
        "from_site": probe.link.from_site,
        "to_site": probe.link.to_site,
        "probed_at": iso_utc(probe.probed_at),
        "state": probe.state,
        "lag_seconds": probe.lag_seconds,
        "lag_bytes": probe.result.get("lag_bytes"),
        "lag_objective_seconds": probe.lag_objective_seconds,
        "healthy": probe.healthy,
        "error": probe.result.get("error"),
        "primary_state": (probe.result.get("detail") or {}).get("primary", {}).get("state"),
    }


def outcome_dict(outcome: ProbeOutcome) -> dict[str, Any]:
    return {
        "links": [probe_dict(probe) for probe in outcome.probes],
        "healthy": outcome.healthy,
        "unreachable_sites": outcome.unreachable_sites,
    }


def describe(outcome: ProbeOutcome) -> str:
    lines = []
    for probe in outcome.probes:
        lag = "unknown" if probe.lag_seconds is None else f"{probe.lag_seconds:.1f}s"
        verdict = "ok  健康" if probe.healthy else "FAIL 不健康"
        line = (
            f"{verdict} {probe.system}/{probe.link.name} ({probe.link.engine} "
            f"{probe.link.from_site}→{probe.link.to_site}): {probe.state}, lag {lag} "
            f"(objective ≤ {probe.lag_objective_seconds:g}s)"
        )
        if probe.result.get("error"):
            line += f": {probe.result['error']}"
        lines.append(line)
    healthy = sum(1 for probe in outcome.probes if probe.healthy)
    lines.append(f"summary: {healthy}/{len(outcome.probes)} link(s) healthy 健康")
    return "\n".join(lines)
