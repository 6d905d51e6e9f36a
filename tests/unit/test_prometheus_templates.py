"""The Python rendering of Prometheus' `humanizeDuration` that alert-rule tests expect in
annotations, at the values a loaded machine produces as well as a quiet one (a replication lag
of 60.55 s once failed the old helper's `1 ≤ s < 60` precondition). The same values are
checked against real promtool in tests/integration/test_prometheus_templates.py."""

from __future__ import annotations

import math

import pytest

from tests.fixtures.prometheus_templates import humanize_duration

# (seconds, what Prometheus 2.42's humanizeDuration renders)
RENDERED = [
    (1.0, "1s"),
    (59.99, "59.99s"),
    (59.9999, "60s"),  # 4 significant digits, still the seconds branch
    (60.55, "1m 0s"),  # from a minute up, whole seconds only
    (3725.0, "1h 2m 5s"),
    (3600.0, "1h 0m 0s"),
    (90061.0, "1d 1h 1m 1s"),
    (86400.0, "1d 0h 0m 0s"),
    (-60.55, "-1m 0s"),
    (0.55, "550ms"),
    (0.0015, "1.5ms"),
    (0.0, "0s"),
    (math.inf, "+Inf"),
    (math.nan, "NaN"),
]


@pytest.mark.parametrize(("seconds", "rendered"), RENDERED)
def test_humanize_duration_renders_what_prometheus_renders(seconds: float, rendered: str) -> None:
    assert humanize_duration(seconds) == rendered
