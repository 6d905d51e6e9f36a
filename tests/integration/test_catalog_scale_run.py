"""benchmarks/catalog_scale.py runs with one command and writes its section (as
test_benchmarks_run.py does for the others: a benchmark never run rots). A tiny catalog, one
pair; no timing is asserted, only that it ran, kept the rest of the file and judged the targets.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_catalog_scale_runs_and_writes_its_section(tmp_path: Path) -> None:
    output = tmp_path / "benchmarks.md"
    output.write_text("# Benchmarks\n\nkept as it is\n", encoding="utf-8")
    command = [sys.executable, str(REPO / "benchmarks" / "catalog_scale.py")]
    command += ["--sizes", "6x3,12x3", "--pairs", "1", "--scrape-pairs", "1"]
    command += ["--output", str(output), "--work", str(tmp_path / "work")]
    result = subprocess.run(
        command, capture_output=True, text=True, check=False, timeout=600, cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = output.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nkept as it is\n")
    assert "<!-- catalog_scale:begin -->" in text and "<!-- catalog_scale:end -->" in text
    assert "| 12 × 3 | this tree |" in text
    assert "| 6×3 → 12×3 | 2.0 | 1.0 |" in text
    assert "| `status` ≤ 2 s |" in text
    assert "6×3: 18 points, 36 copies" in text
