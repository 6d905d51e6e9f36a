"""Wall time of the sandbox drill, this tree beside another checkout, in interleaved rounds.

    .venv/bin/python benchmarks/drill_wall.py --baseline /tmp/base   # e.g. a worktree of main
    .venv/bin/python benchmarks/drill_wall.py --baseline /tmp/base --rounds 5 --no-write

Each round runs `drctl --json drill run --sandbox` once with this tree and once with the
baseline (`PYTHONPATH` set to each tree, the same interpreter, Ansible and ansible-runner of
this venv), each in a fresh empty directory, the order alternating from round to round so
neither side always runs on a warmer machine. Per run it records the wall time, the RTO and RPO
the drill reported, the ansible-runner calls it made (one event file each under
`.dr/sandbox/state/work/events/`), the tasks Ansible ran in them, and the seconds of the
dr.orchestrator module tasks (the work on the host — dumps, hashes, restores, fingerprints —
plus each module's own interpreter start), overall and within the failover (the restore the
RTO measures). A run that does not pass stops the benchmark. Calls and tasks do not depend on
the machine's load; every time does.

Printed and written (docs/benchmarks.md, between its own markers): medians with the
interquartile range, and the median of the per-round ratios this/baseline. The goal of issue 15:
this tree's drill at ≤ 0.4× the baseline's wall time. Not part of `make test` (a round takes a
minute or more); timings are never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
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

BEGIN = "<!-- drill_wall:begin -->"
END = "<!-- drill_wall:end -->"
EVENTS = Path(".dr/sandbox/state/work/events")
MODULE_PREFIX = "dr.orchestrator."
TARGET_RATIO = 0.4
TIMEOUT_SECONDS = 1800


@dataclass
class Run:
    """One drill: what it took and what it reported."""

    wall: float
    rto: float
    rpo: float
    runner_calls: int
    tasks: int
    module_seconds: float
    failover_module_seconds: float


@dataclass
class Side:
    label: str
    tree: Path
    runs: list[Run] = field(default_factory=list)


def event_counts(events_dir: Path) -> tuple[int, int, float, float]:
    """Return (runner calls, tasks, module seconds, module seconds of the failover) from the
    drill's runner event files."""
    files = sorted(events_dir.glob("*.jsonl"))
    tasks, module, failover = 0, 0.0, 0.0
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            event = json.loads(line)
            data = event.get("event_data", {})
            if event.get("event") == "playbook_on_task_start":
                tasks += 1
            elif event.get("event") == "runner_on_ok":
                if str(data.get("task_action", "")).startswith(MODULE_PREFIX):
                    seconds = float(data.get("duration") or 0.0)
                    module += seconds
                    failover += seconds if path.name.startswith("failover-") else 0.0
    return len(files), tasks, module, failover


def run_drill(tree: Path) -> Run:
    """Run the sandbox drill with tree's code in a fresh directory; return what it took."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    with tempfile.TemporaryDirectory(prefix="drill-wall-") as scratch:
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "orchestrator", "--json", "drill", "run", "--sandbox"],
            cwd=scratch,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"drill with {tree} exited {done.returncode}:\n{done.stderr[-3000:]}")
        outcome = json.loads(done.stdout)
        calls, tasks, module, failover = event_counts(Path(scratch) / EVENTS)
    return Run(
        wall,
        float(outcome["rto_seconds"]),
        float(outcome["rpo_seconds"]),
        calls,
        tasks,
        module,
        failover,
    )


def measure(sides: list[Side], rounds: int) -> list[float]:
    """Run the interleaved rounds; return the per-round ratios of wall time (first side over
    second)."""
    ratios = []
    for number in range(rounds):
        order = sides if number % 2 == 0 else list(reversed(sides))
        walls = {}
        for side in order:
            run = run_drill(side.tree)
            side.runs.append(run)
            walls[side.label] = run.wall
            print(f"round {number + 1}/{rounds}: {side.label}: {run.wall:.1f} s", flush=True)
        if len(sides) == 2:
            ratios.append(walls[sides[0].label] / walls[sides[1].label])
    return ratios


def spread(values: list[float]) -> str:
    """Return 'median (q1–q3)' of values, one decimal."""
    if len(values) < 2:
        return f"{values[0]:.1f}"
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return f"{median:.1f} ({q1:.1f}–{q3:.1f})"


def ratio_text(ratios: list[float]) -> str:
    if len(ratios) < 2:
        return f"{ratios[0]:.2f}×"
    q1, median, q3 = statistics.quantiles(ratios, n=4, method="inclusive")
    return f"{median:.2f}× ({q1:.2f}–{q3:.2f})"


def table(sides: list[Side]) -> list[str]:
    lines = [
        "| tree | wall s | RTO s | RPO s | runner calls | Ansible tasks | module tasks s "
        "| of which failover |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for side in sides:
        runs = side.runs
        cells = [
            spread([r.wall for r in runs]),
            spread([r.rto for r in runs]),
            spread([r.rpo for r in runs]),
            f"{statistics.median(r.runner_calls for r in runs):g}",
            f"{statistics.median(r.tasks for r in runs):g}",
            spread([r.module_seconds for r in runs]),
            spread([r.failover_module_seconds for r in runs]),
        ]
        lines.append(f"| {side.label} | " + " | ".join(cells) + " |")
    return lines


def report(args: argparse.Namespace, sides: list[Side], ratios: list[float]) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        BEGIN,
        "## Sandbox drill wall time (`benchmarks/drill_wall.py`)",
        "",
        f"Run {when}: `{shlex.join(['benchmarks/drill_wall.py', *sys.argv[1:]])}`, "
        f"{args.rounds} interleaved rounds (order alternating), each a whole "
        "`drctl --json drill run --sandbox` in a fresh directory; medians with the "
        f"interquartile range; Python {sys.version.split()[0]}, {os.cpu_count()} cores, "
        f"load average at the end {load}. Module tasks: the seconds of the dr.orchestrator "
        "module tasks (the dump, hash, restore and fingerprint work on the host, and each "
        "module's interpreter start), from the runner events' durations.",
        "",
        *table(sides),
        "",
    ]
    if ratios:
        median = statistics.median(ratios)
        verdict = "met" if median <= TARGET_RATIO else "MISSED"
        lines.append(
            f"- wall time, this tree ÷ baseline, median of the per-round ratios: "
            f"{ratio_text(ratios)} (goal ≤ {TARGET_RATIO}×) {verdict}; per round: "
            + ", ".join(f"{ratio:.2f}×" for ratio in ratios)
        )
    lines.append(END)
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", type=Path, help="another checkout to run beside")
    parser.add_argument("--baseline-label", help="its name in the table")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    sides = [Side("this tree", REPO)]
    if args.baseline is not None:
        label = args.baseline_label or f"baseline ({args.baseline})"
        sides.append(Side(label, args.baseline.resolve()))
    ratios = measure(sides, args.rounds)
    section = report(args, sides, ratios)
    print(section)
    if not args.no_write:
        write_section(args.output, section, BEGIN, END)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
