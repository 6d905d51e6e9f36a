"""The wheel is the product: built from this tree, installed into a clean venv outside the
checkout, it carries everything drctl runs (playbooks, the collection, the rule pack, drills,
alert rules, dashboard) and runs the sandbox drill to PASSED.

The clean venv gets drctl's dependencies from the test venv by one .pth line (no network
needed here); a .pth line adds a path without running that directory's own .pth files, so the
checkout's editable install stays out of reach and every drctl module comes from the wheel.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "-w",
            str(out),
            str(REPO),
        ],
        check=True,
        timeout=300,
    )
    (built,) = out.glob("dr_orchestrator-*.whl")
    return built


@pytest.fixture(scope="module")
def clean_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("clean") / "venv"
    venv.create(root, with_pip=False)
    python = root / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(purelib) / "test-venv-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    return root


def test_the_wheel_holds_what_drctl_runs(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    collection = "orchestrator/resources/playbooks/collections/ansible_collections/dr/orchestrator"
    for shipped in (
        "orchestrator/resources/playbooks/ansible.cfg",
        "orchestrator/resources/playbooks/backup_full.yml",
        "orchestrator/resources/playbooks/rules/pack.yml",
        "orchestrator/resources/playbooks/rules/requirements.yml",
        f"{collection}/plugins/modules/dr_postgresql.py",
        f"{collection}/roles/engine_files/meta/argument_specs.yml",
        "orchestrator/resources/drills/sandbox-failover.yml",
        "orchestrator/resources/drills/site-failover.yml",
        "orchestrator/resources/systemd/drctl-serve.service",
        "orchestrator/resources/systemd/drctl-run-due.timer",
        "exporters/prometheus/rules.yml",
        "exporters/prometheus/alertmanager.example.yml",
        "exporters/grafana/dashboard.json",
        "orchestrator/evidence/templates/report.html.j2",
        "orchestrator/evidence/templates/compliance.html.j2",
    ):
        assert shipped in names, shipped
    assert not [name for name in names if name.startswith("tests/")]


def test_the_installed_wheel_runs_the_sandbox_drill_outside_the_checkout(
    clean_venv: Path, tmp_path: Path
) -> None:
    python = clean_venv / "bin" / "python"
    where = subprocess.run(
        [str(python), "-c", "import orchestrator; print(orchestrator.__file__)"],
        cwd=tmp_path,  # not the checkout: `-c` puts the working directory first on sys.path
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(clean_venv)), where
    # ansible-playbook comes from the test venv, as it would from the operator's PATH.
    path = f"{clean_venv / 'bin'}:{Path(sys.executable).parent}:{os.environ['PATH']}"
    result = subprocess.run(
        [str(clean_venv / "bin" / "drctl"), "drill", "run", "--sandbox"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=900,
        env={**os.environ, "PATH": path},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "result: PASSED" in result.stdout
    assert (tmp_path / ".dr" / "evidence" / "chain.jsonl").is_file()
    version = subprocess.run(
        [str(clean_venv / "bin" / "drctl"), "--version"], capture_output=True, text=True
    )
    assert version.returncode == 0 and version.stdout.split()[-1][0].isdigit(), version
