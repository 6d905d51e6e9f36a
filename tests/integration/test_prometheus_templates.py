"""The Python `humanize_duration` that alert-rule tests write into `exp_annotations` agrees
with real Prometheus (promtool 2.42): one alert per value, its annotation expanded by
`humanizeDuration`, expected as the Python rendering. A disagreement at any value would make
a rules test fail only when a measurement happens to land there (a lag over a minute on a
loaded machine)."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.fixtures.process import require_binary
from tests.fixtures.prometheus_templates import humanize_duration
from tests.unit.test_prometheus_templates import RENDERED

pytestmark = pytest.mark.services


def test_promtool_expands_humanize_duration_as_the_python_rendering(tmp_path: Path) -> None:
    values = [seconds for seconds, _ in RENDERED if math.isfinite(seconds)]
    rules = tmp_path / "rules.yml"
    rule = {
        "alert": "Rendered",
        "expr": "seconds_value",
        "annotations": {"rendered": "{{ $value | humanizeDuration }}"},
    }
    rules.write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [rule]}]}))
    test = {
        "interval": "1m",
        "input_series": [
            {"series": f'seconds_value{{i="{i}"}}', "values": f"{v!r}x3"}
            for i, v in enumerate(values)
        ],
        "alert_rule_test": [
            {
                "eval_time": "1m",
                "alertname": "Rendered",
                "exp_alerts": [
                    {
                        "exp_labels": {"i": str(i)},
                        "exp_annotations": {"rendered": humanize_duration(v)},
                    }
                    for i, v in enumerate(values)
                ],
            }
        ],
    }
    document = tmp_path / "test.yml"
    document.write_text(
        yaml.safe_dump({"rule_files": [str(rules)], "evaluation_interval": "1m", "tests": [test]})
    )
    result = subprocess.run(
        [require_binary("promtool"), "test", "rules", str(document)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
