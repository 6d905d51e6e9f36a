"""Start-up time of drctl beside a bare interpreter, in interleaved pairs, in one run.

    .venv/bin/python benchmarks/startup.py                      # after `make drill`
    .venv/bin/python benchmarks/startup.py --config path/to/dr.yml --rounds 31
    .venv/bin/python benchmarks/startup.py --baseline-tree /tmp/old   # an older checkout beside

Each round runs `python -c pass` (A) and then one drctl command (B), for every command in
turn: A B A B …, so both sides of a pair see the same machine load. The commands: `drctl
--help`; `drctl calendar working-days 2026-09-30 2026-10-09` (no site: the shipped
calendar, run in an empty directory); `drctl -c CONFIG status` on the sandbox (`make drill`
leaves one at .dr/sandbox/dr.yml; give another with --config; skipped with a message when
there is none). With --baseline-tree (a checkout of an older commit, e.g. `git archive COMMIT
| tar -x -C /tmp/old`), the same commands of that tree are timed inside the same rounds, right
after this tree's, so before and after are measured side by side.

Wall time per process (what a user waits for) and its CPU time (user + system of the child).
Printed and written: medians, the interquartile range, and the median of the per-pair ratios
B/A. Bytecode caches are compiled first (as a pip install does), so source compilation is not
timed. Writes its table into docs/benchmarks.md between markers, leaving the rest alone. Not
part of `make test`; timings are never asserted.
"""

from __future__ import annotations

import argparse
import compileall
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.verify_throughput import write_section  # noqa: E402

BEGIN = "<!-- startup:begin -->"
END = "<!-- startup:end -->"
SANDBOX_CONFIG = REPO / ".dr" / "sandbox" / "dr.yml"
CALENDAR = ("calendar", "working-days", "2026-09-30", "2026-10-09")
# The issue 15 targets: --help and calendar within 2x a bare interpreter, status within 0.25 s.
TARGET_RATIO = 2.0
TARGET_STATUS_SECONDS = 0.25


@dataclass
class Series:
    """One command's runs: wall and CPU seconds, and the ratio to its paired bare start."""

    label: str
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    ratio: list[float] = field(default_factory=list)


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Run argv to its end; return (wall, CPU) seconds. Exit 0 or 1 (a status with findings)
    count as a run; anything else stops the benchmark."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def spread(values: list[float]) -> tuple[float, float, float]:
    """Return (median, first quartile, third quartile)."""
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return median, q1, q3


def commands(config: Path | None) -> list[tuple[str, list[str]]]:
    """Return the drctl commands to time, by label (status only with a sandbox config)."""
    chosen = [("--help", ["--help"]), ("calendar working-days", list(CALENDAR))]
    if config is not None:
        chosen.append(("status (sandbox)", ["-c", str(config), "status"]))
    return chosen


def trees(args: argparse.Namespace) -> list[tuple[str, Path]]:
    """Return the source trees to time: this one, and the baseline if given."""
    chosen = [("this tree", REPO)]
    if args.baseline_tree is not None:
        label = args.baseline_label or f"baseline ({args.baseline_tree})"
        chosen.append((label, args.baseline_tree.resolve()))
    return chosen


def measure(args: argparse.Namespace, config: Path | None, empty: Path) -> list[Series]:
    """Run the interleaved rounds (after one untimed warm-up round); return every series."""
    python = str(Path(sys.executable))
    drctl = str(Path(sys.executable).with_name("drctl"))
    bare = Series("`python -c pass`")
    plan = [
        (Series(f"`drctl {label}` — {name}"), [drctl, *argv], tree)
        for name, tree in trees(args)
        for label, argv in commands(config)
    ]
    for round_number in range(args.rounds + 1):
        for series, argv, tree in plan:
            env = {**os.environ, "PYTHONPATH": str(tree)}
            a_wall, a_cpu = timed([python, "-c", "pass"], empty, env)
            b_wall, b_cpu = timed(argv, empty, env)
            if round_number == 0:
                continue  # warm-up: page cache, bytecode
            bare.wall.append(a_wall)
            bare.cpu.append(a_cpu)
            series.wall.append(b_wall)
            series.cpu.append(b_cpu)
            series.ratio.append(b_wall / a_wall)
    return [bare, *(series for series, _, _ in plan)]


def table(results: list[Series]) -> list[str]:
    """Return the markdown rows of the results."""
    rows = [
        "| command | wall median (IQR) | CPU median (IQR) | ratio to `python -c pass`, median "
        "of pairs (IQR) |",
        "|---|---:|---:|---:|",
    ]
    for series in results:
        wall, cpu = spread(series.wall), spread(series.cpu)
        ratio = "1 (the reference)"
        if series.ratio:
            middle, low, high = spread(series.ratio)
            ratio = f"{middle:.2f}× ({low:.2f}–{high:.2f})"
        rows.append(
            f"| {series.label} | {wall[0] * 1000:.0f} ms ({wall[1] * 1000:.0f}–"
            f"{wall[2] * 1000:.0f}) | {cpu[0] * 1000:.0f} ms ({cpu[1] * 1000:.0f}–"
            f"{cpu[2] * 1000:.0f}) | {ratio} |"
        )
    return rows


def verdicts(results: list[Series]) -> list[str]:
    """Return the issue-15 targets, met or missed, for this tree's commands."""
    lines = []
    for series in results[1:]:
        if "this tree" not in series.label:
            continue
        if "status" in series.label:
            median = spread(series.wall)[0]
            met = median <= TARGET_STATUS_SECONDS
            lines.append(f"- {series.label}: {median:.3f} s (target ≤ {TARGET_STATUS_SECONDS} s)")
        else:
            median = spread(series.ratio)[0]
            met = median <= TARGET_RATIO
            lines.append(f"- {series.label}: {median:.2f}× (target ≤ {TARGET_RATIO:g}×)")
        lines[-1] += " met" if met else " MISSED"
    return lines


def report(args: argparse.Namespace, config: Path | None, results: list[Series]) -> str:
    """Return the docs section: how it was run, the table, the targets."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if config is not None and config.resolve().is_relative_to(REPO):
        config = config.resolve().relative_to(REPO)
    status = (
        f"status on `{config}`"
        if config is not None
        else "status skipped: no sandbox config (run `make drill` or give --config)"
    )
    lines = [
        BEGIN,
        "## Start-up (`benchmarks/startup.py`)",
        "",
        f"Run {when}: {args.rounds} interleaved rounds of pairs (`python -c pass`, then one "
        f"drctl command), medians of each side and of the per-pair ratios; {status}; "
        f"Python {platform.python_version()}, {os.cpu_count()} cores, load average at start "
        f"{args.load}; bytecode compiled beforehand, as a pip install does. Wall times "
        "grow with the machine's load (the bare interpreter's median is the gauge); the "
        "ratios are taken within each pair and are steadier.",
        "",
        *table(results),
        "",
        *verdicts(results),
        END,
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, help="site config for status (default: sandbox)")
    parser.add_argument("--rounds", type=int, default=21, help="interleaved rounds (default 21)")
    parser.add_argument("--baseline-tree", type=Path, help="an older checkout, timed beside")
    parser.add_argument("--baseline-label", help="its name in the table (e.g. main at abc1234)")
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    config = args.config or (SANDBOX_CONFIG if SANDBOX_CONFIG.is_file() else None)
    if config is not None and not config.is_file():
        parser.error(f"--config {config}: no such file")
    if config is None:
        print("status skipped: no sandbox config (run `make drill` or give --config)")
    for _, tree in trees(args):
        for package in ("orchestrator", "exporters"):
            compileall.compile_dir(tree / package, quiet=1)
    args.load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="drctl-startup-") as empty:
        results = measure(args, config.resolve() if config else None, Path(empty))
    section = report(args, config, results)
    print(section)
    if not args.no_write:
        write_section(args.output, section, BEGIN, END)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
