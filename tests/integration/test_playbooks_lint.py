"""The playbooks are ansible-lint clean (production profile), as operators' CI would demand."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"


def test_playbooks_pass_ansible_lint() -> None:
    playbooks = sorted(path.name for path in PLAYBOOKS.glob("*.yml"))
    assert "backup_full.yml" in playbooks and "restore.yml" in playbooks
    bin_dir = Path(sys.executable).parent
    result = subprocess.run(
        [str(bin_dir / "ansible-lint"), "--offline", "--profile", "production", *playbooks],
        cwd=PLAYBOOKS,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "NO_COLOR": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 failure(s)" in result.stdout + result.stderr
