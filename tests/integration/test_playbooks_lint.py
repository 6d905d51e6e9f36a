"""The playbooks and the dr.orchestrator collection are ansible-lint clean (production profile,
module arguments checked), as operators' CI would demand."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.fixtures.ansible_cli import BIN, PLAYBOOKS, ansible_env


def ansible_lint(directory: Path) -> subprocess.CompletedProcess[str]:
    """Run ansible-lint as `make lint` does: in the directory, driven by its .ansible-lint."""
    return subprocess.run(
        [str(BIN / "ansible-lint")],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=900,
        env=ansible_env(config=False),
    )


def test_playbooks_and_collection_pass_ansible_lint_with_module_arguments_checked() -> None:
    assert {"backup_full.yml", "restore.yml"} <= {path.name for path in PLAYBOOKS.glob("*.yml")}
    result = ansible_lint(PLAYBOOKS)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "0 failure(s), 0 warning(s)" in output
    assert "Profile 'production' was required, and it passed" in output
    # Before the collection layout, the args rule could not import the modules' module_utils
    # and skipped every task with this warning; module arguments were never checked.
    assert "Ignored exception" not in output
    assert "Unable to load module" not in output


def test_ansible_lint_reports_a_module_argument_the_module_does_not_take(tmp_path: Path) -> None:
    copy = Path(
        shutil.copytree(
            PLAYBOOKS,
            tmp_path / "playbooks",
            ignore=shutil.ignore_patterns("__pycache__", ".ansible"),
        )
    )
    wipe = copy / "wipe.yml"
    text = wipe.read_text()
    assert '        purpose: "{{ dr_purpose }}"\n' in text
    wipe.write_text(
        text.replace(
            'purpose: "{{ dr_purpose }}"\n',
            'purpose: "{{ dr_purpose }}"\n        bogus_option: 1\n',
        )
    )
    result = ansible_lint(copy)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "args[module]" in output and "bogus_option" in output
