"""The benchmarks in benchmarks/ run with one command each and write their tables.

A benchmark that is never run rots: verify_throughput.py once stopped working after the
manifest and config formats moved on, and nothing noticed. This runs each one at a tiny size
and checks only that it ran and wrote its sections (no timing is asserted: the figures of a
tiny run mean nothing, and tests never judge speed).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_benchmark(tmp_path: Path, script: str, *arguments: str) -> tuple[str, str]:
    """Run benchmarks/<script> into a document that already has text of its own; return the
    document and the script's stdout, once the run has ended 0 and kept that text."""
    output = tmp_path / "benchmarks.md"
    output.write_text("# Benchmarks\n\nkept as it is\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / script), *arguments]
        + ["--output", str(output), "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = output.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nkept as it is\n")
    return text, result.stdout


def test_verify_throughput_runs_and_writes_medians_with_ranges(tmp_path: Path) -> None:
    text, stdout = run_benchmark(tmp_path, "verify_throughput.py", "--size", "16M", "--rounds", "2")
    for marker in ("verify_throughput", "envelope_throughput"):
        assert f"<!-- {marker}:begin -->" in text and f"<!-- {marker}:end -->" in text
    assert "2 interleaved rounds" in text
    assert "| `drctl verify --all`, whole command, 1× |" in text
    assert "| drctl (whole command, 1×) ÷ hashlib all cores |" in text
    assert "| backup: sealed ÷ clear |" in text
    assert "round 2/2 done" in stdout


def test_verify_small_files_mode_runs_and_writes_its_own_section(tmp_path: Path) -> None:
    text, stdout = run_benchmark(
        tmp_path, "verify_throughput.py", "--files", "40", "--file-size", "4K", "--rounds", "2"
    )
    assert "<!-- verify_small_files:begin -->" in text
    assert "<!-- verify_small_files:end -->" in text
    assert "<!-- verify_throughput:begin -->" not in text  # the large-file section is not run
    assert "`--files 40 --file-size 4096` (40 files of 4,096 bytes" in text
    assert "4× = 32 points, 160 files" in text
    assert "| drctl (scan in-process) ÷ hashlib all cores |" in text
    assert "Peak RSS of drctl:" in text and "4× ÷ 1× =" in text
    assert "round 2/2 done" in stdout


def test_backup_throughput_runs_every_peer_in_every_round(tmp_path: Path) -> None:
    text, stdout = run_benchmark(tmp_path, "backup_throughput.py", "--size", "8M", "--rounds", "2")
    assert "<!-- backup_throughput:begin -->" in text and "<!-- backup_throughput:end -->" in text
    assert "2 interleaved rounds" in text and "Load average at the end:" in text
    assert "| `drctl backup`, whole command, one `files` dataset, clear |" in text
    assert "| drctl backup ÷ limit |" in text
    if shutil.which("restic"):
        assert "| drctl backup ÷ restic |" in text
        assert "| `restic backup`, first backup into a fresh repository |" in text
    assert "round 1/2 done (limit drctl" in stdout
    assert "round 2/2 done (drctl" in stdout
    assert list(tmp_path.glob("backup-bench-*")) == [], "its scratch directory is removed"
