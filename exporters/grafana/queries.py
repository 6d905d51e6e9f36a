"""How every dashboard query is scoped: limited to the dashboard's `job` and `instance`
variables, so the dashboard works whatever job name the exporter is scraped under and with
several orchestrators in one Prometheus; and the legends the rows share."""

from __future__ import annotations

DAY = 86400
SCOPE = 'job=~"$job",instance=~"$instance"'
BY_DATASET = "{{system}}/{{dataset}}"
BY_TARGET = "{{target}}"


def scoped(metric: str, **matchers: str) -> str:
    """Given a metric name and label matchers, return a selector limited to the dashboard's
    job and instance variables: scoped("m", window="365d") → m{job=~"$job",…,window="365d"}."""
    extra = "".join(f',{name}="{value}"' for name, value in matchers.items())
    return f"{metric}{{{SCOPE}{extra}}}"
