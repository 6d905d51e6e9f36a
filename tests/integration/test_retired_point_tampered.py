"""A bad point whose incident a re-check closed stays watched: a new change to it is a finding.

Seen: after `verify --recheck` closed an incident, a copy of the retired bad point that had been
intact (its off-site copy) was edited and a file deleted from it; `verify --all` exited 0 and
listed both only as "retired bad point (re-checked)": no new failure, status and metrics clean.
A store that changes after an incident is closed cannot be trusted (docs/verification.md §8).
Now only what a failure recorded (store, file, kind) is retired; anything else is a new finding.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.actions.backup import run_backup
from orchestrator.actions.copy_offsite import run_copy_offsite
from orchestrator.cli import main
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.integration.test_verify_sample import (
    SYSTEM,
    a_data_file,
    build_sandbox,
    flip_byte,
    point_dir,
)


def scan(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    code = main(["-c", str(config), "--json", "verify", "--all"])
    return code, json.loads(capsys.readouterr().out)


def test_a_retired_points_untouched_copy_changed_later_is_a_new_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = build_sandbox(tmp_path / "sb")
    primary = point_dir(config, "primary", "config")
    flip_byte(a_data_file(primary)[0])
    assert scan(config, capsys)[0] == 1  # the incident opens
    with open_runtime(load_site(config)) as runtime:
        run_backup(runtime, SYSTEM)
        run_copy_offsite(runtime, systems=[SYSTEM])
    assert main(["-c", str(config), "verify", "--recheck"]) == 0  # and a re-check closes it
    capsys.readouterr()
    code, quiet = scan(config, capsys)
    assert code == 0 and quiet["retired"], quiet  # what was recorded stays retired, not failed

    offsite = config.parent / "stores" / "offsite" / SYSTEM / "config" / primary.name
    flip_byte(a_data_file(offsite)[0])  # the copy the incident never touched
    code, found = scan(config, capsys)
    assert code == 1, found
    problems = found["problems"]
    assert isinstance(problems, list) and problems, found
    assert {p["store"] for p in problems} == {"offsite"}
    assert {p["recovery_point"].rsplit("/", 1)[-1] for p in problems} == {primary.name}
