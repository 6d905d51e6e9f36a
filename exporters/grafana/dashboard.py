"""Build the dr-orchestrator Grafana dashboard with grafana-foundation-sdk (Grafana's own schema).

`python -m exporters.grafana.dashboard` prints the dashboard JSON; `--write` writes it to
exporters/grafana/dashboard.json (committed; a test fails when the two differ). Three variables
scope it: `datasource` (any Prometheus), `job` and `instance` (from dr_exporter_build_info), so
the dashboard works whatever job name the exporter is scraped under and with several
orchestrators in one Prometheus. Every selector of every query carries
`job=~"$job",instance=~"$instance"` (`scoped`); the tests substitute the variables and run each
query against a real Prometheus. Panels read only the exporter's metrics (docs/metrics.md), never
recording rules, which aggregate the job and instance away. Titles are bilingual, 简体中文 first.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard as builders
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as models

from exporters.grafana.mirroring import ROW as MIRRORING_ROW
from exporters.grafana.panels import DATASOURCE
from exporters.grafana.sections import SECTIONS

logger = logging.getLogger(__name__)

DASHBOARD_JSON = Path(__file__).with_name("dashboard.json")
UID = "dr-orchestrator"
VARIABLE_METRIC = "dr_exporter_build_info"


def variables() -> list[Builder[models.VariableModel]]:
    """Return the dashboard variables: the Prometheus data source, then job and instance read
    from dr_exporter_build_info (multi-select, "All" matching every value)."""
    refresh = models.VariableRefresh.ON_TIME_RANGE_CHANGED
    every = models.VariableOption(selected=True, text=["All"], value=["$__all"])
    return [
        builders.DatasourceVariable("datasource").label("Prometheus").type("prometheus"),
        builders.QueryVariable("job")
        .label("Job")
        .datasource(DATASOURCE)
        .query(f"label_values({VARIABLE_METRIC}, job)")
        .refresh(refresh)
        .include_all(True)
        .all_value(".+")
        .multi(True)
        .current(every)
        .sort(models.VariableSort.ALPHABETICAL_ASC),
        builders.QueryVariable("instance")
        .label("Instance")
        .datasource(DATASOURCE)
        .query(f'label_values({VARIABLE_METRIC}{{job=~"$job"}}, instance)')
        .refresh(refresh)
        .include_all(True)
        .all_value(".+")
        .multi(True)
        .current(every)
        .sort(models.VariableSort.ALPHABETICAL_ASC),
    ]


def build_dashboard() -> models.Dashboard:
    """Return the dashboard model: one row per area, panel ids numbered in order."""
    dashboard = (
        builders.Dashboard("灾备与备份合规 / DR and backup compliance (银发[2002]260号)")
        .uid(UID)
        .tags(["dr-orchestrator", "260号"])
        .timezone("Asia/Shanghai")
        .time("now-7d", "now")
        .refresh("1m")
        .readonly()
    )
    for variable in variables():
        dashboard = dashboard.with_variable(variable)
    panel_id = 0
    drills = next(i for i, (title, _panels) in enumerate(SECTIONS) if "第十三条" in title)
    rows = (*SECTIONS[: drills + 1], MIRRORING_ROW, *SECTIONS[drills + 1 :])
    for title, panels in rows:
        panel_id += 1
        dashboard = dashboard.with_row(builders.Row(title).id(panel_id))
        for panel in panels():
            panel_id += 1
            dashboard = dashboard.with_panel(panel.id(panel_id))  # type: ignore[attr-defined]
    return dashboard.build()


def render() -> str:
    """Return the dashboard as stable JSON text (sorted keys, two-space indent, final newline)."""
    return (
        json.dumps(build_dashboard(), cls=JSONEncoder, indent=2, sort_keys=True, ensure_ascii=False)
        + "\n"
    )


def write(path: Path = DASHBOARD_JSON) -> Path:
    """Write the rendered dashboard to path atomically (temp file + rename); return path."""
    text = render()
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    logger.info("wrote %s", path)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Print the dashboard JSON, or write it with --write; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m exporters.grafana.dashboard",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument("--write", action="store_true", help=f"write {DASHBOARD_JSON}")
    arguments = parser.parse_args(argv)
    if arguments.write:
        sys.stdout.write(f"{write()}\n")
    else:
        sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(main())
