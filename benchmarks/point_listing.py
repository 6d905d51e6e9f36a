"""Listing a store's recovery points for a pass over many datasets, in one run: once per
dataset (`point_ids_by_dataset` given the dataset: what copy-offsite and a restore did for
each dataset before 2026-11-30) beside once per system (`point_ids_by_dataset` for the
whole system, what both do now).

    .venv/bin/python benchmarks/point_listing.py                     # 300 datasets x 30 points
    .venv/bin/python benchmarks/point_listing.py --datasets 1000 --points 30 --rounds 3

A fresh sandbox (its SQLite catalog and directory store) under a temporary directory gets
`--datasets` datasets of `--points` point directories each in its primary store (directories
only: listing reads names, not data). Each round times both ways, one after the other, on the
same store, and checks they found the same points; printed and written between markers in
docs/benchmarks.md: the median of each and the median of the per-round ratios. Not part of
`make test`; timings are never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.verify_throughput import write_section  # noqa: E402
from orchestrator.actions.point_trust import point_ids_by_dataset  # noqa: E402
from orchestrator.actions.sandbox import prepare_sandbox  # noqa: E402
from orchestrator.runtime import Runtime, open_runtime  # noqa: E402
from orchestrator.site import load_site  # noqa: E402

BEGIN = "<!-- point_listing:begin -->"
END = "<!-- point_listing:end -->"
SYSTEM = "bench"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=int, default=300)
    parser.add_argument("--points", type=int, default=30, help="points per dataset")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "benchmarks.md")
    return parser.parse_args(argv)


def one_round(runtime: Runtime, datasets: list[str]) -> tuple[float, float]:
    """Time both ways once on the runtime's primary store; return (per dataset, once)."""
    store = runtime.store("primary")
    start = time.perf_counter()
    each = {
        name: point_ids_by_dataset(runtime, store, SYSTEM, name).get(name, []) for name in datasets
    }
    per_dataset = time.perf_counter() - start
    start = time.perf_counter()
    grouped = point_ids_by_dataset(runtime, store, SYSTEM)
    once = time.perf_counter() - start
    if each != grouped:
        raise SystemExit("the two ways found different points")
    return per_dataset, once


def report(args: argparse.Namespace, rounds: list[tuple[float, float]]) -> str:
    per = statistics.median(r[0] for r in rounds)
    once = statistics.median(r[1] for r in rounds)
    ratio = statistics.median(r[0] / r[1] for r in rounds)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = " ".join(["benchmarks/point_listing.py", *sys.argv[1:]])
    return (
        f"{BEGIN}\n## Listing a store for a pass over many datasets "
        "(`benchmarks/point_listing.py`)\n\n"
        f"Run {when}: `{command}` — {args.datasets} datasets × {args.points} points in one "
        f"directory store, {len(rounds)} rounds, medians.\n\n"
        "| way | seconds |\n|---|---:|\n"
        f"| listed once per dataset | {per:.3f} |\n"
        f"| listed once per system | {once:.3f} |\n"
        f"| ratio (median of the rounds' ratios) | {ratio:.0f}× |\n\n"
        "Listing once per dataset reads the whole store for every dataset, so a pass grows as "
        "datasets × points in the store (datasets² × days); once per system it grows with the "
        "store's size only. `drctl copy-offsite` and restores (so drills) list once per "
        "system since 2026-11-30.\n"
        f"{END}\n"
    )


def main(argv: list[str]) -> None:
    args = parse(argv)
    datasets = [f"ds{index:05d}" for index in range(args.datasets)]
    with tempfile.TemporaryDirectory(prefix="point-listing-") as work:
        config = prepare_sandbox(Path(work) / "sandbox")
        with open_runtime(load_site(config)) as runtime:
            root = runtime.store("primary").root  # type: ignore[attr-defined]
            for name in datasets:
                for day in range(args.points):
                    (root / SYSTEM / name / f"2026{day:04d}T000000Z-{name}").mkdir(parents=True)
            rounds = [one_round(runtime, datasets) for _ in range(args.rounds)]
    section = report(args, rounds)
    print(section)
    write_section(args.output, section, BEGIN, END)


if __name__ == "__main__":
    main(sys.argv[1:])
