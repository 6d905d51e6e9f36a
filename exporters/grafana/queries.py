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


def count_or_zero(matching: str, family: str) -> str:
    """Given an expression and the selector of the family it is over, return the count of the
    expression's series: 0 when none match, but no answer at all while the family is absent (the
    exporter down, its catalog unreadable), so a blind feed shows "No data", never a green 0."""
    return f"(count({matching}) or vector(0)) and on () count({family})"
