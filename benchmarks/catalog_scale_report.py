"""The report of benchmarks/catalog_scale.py: the timings table, growth between sizes, the
issue 15 targets judged at the largest size measured, and the docs/benchmarks.md section."""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

BEGIN = "<!-- catalog_scale:begin -->"
END = "<!-- catalog_scale:end -->"
STATUS_SECONDS = 2.0
SCRAPE_RATIO = 2.0
RSS_MIB = 300


@dataclass
class Runs:
    """The timings of one checkout at one size."""

    status: list[float] = field(default_factory=list)
    status_rss: list[int] = field(default_factory=list)  # KiB
    scrape: list[float] = field(default_factory=list)
    static: list[float] = field(default_factory=list)
    scrape_rss: list[int] = field(default_factory=list)
    digests: set[str] = field(default_factory=set)
    samples: int = 0


def median_spread(values: list[float]) -> str:
    if not values:
        return "–"
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def table_rows(sizes: list[tuple[int, int]], measured: list[dict[str, Runs]]) -> list[str]:
    rows = [
        "| datasets × days | checkout | `status` s | status peak RSS MiB | scrape s | static s "
        "| scrape ÷ static | scrape process RSS MiB | series | same series as this tree |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for (datasets, days), results in zip(sizes, measured, strict=True):
        mine = results["this tree"].digests
        for name, runs in results.items():
            ratio = [a / b for a, b in zip(runs.scrape, runs.static, strict=True)]
            rows.append(
                f"| {datasets:,} × {days} | {name} | {median_spread(runs.status)} "
                f"| {max(runs.status_rss) / 1024:.0f} | {median_spread(runs.scrape)} "
                f"| {median_spread(runs.static)} | {median_spread(ratio)} "
                f"| {max(runs.scrape_rss) / 1024:.0f} | {runs.samples:,} "
                f"| {'yes' if runs.digests == mine and len(mine) == 1 else 'NO'} |"
            )
    return rows


def growth_rows(sizes: list[tuple[int, int]], measured: list[dict[str, Runs]]) -> list[str]:
    """Compare each size with the last earlier one that has the same days (growth in
    datasets) or the same datasets (growth in days)."""
    rows = [
        "| from → to | datasets × | days × | `status` × | scrape × | static × |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for index in range(1, len(sizes)):
        b = sizes[index]
        earlier = [i for i in range(index) if sizes[i][0] == b[0] or sizes[i][1] == b[1]]
        if not earlier:
            continue
        a = sizes[earlier[-1]]
        one, two = measured[earlier[-1]]["this tree"], measured[index]["this tree"]
        rows.append(
            f"| {a[0]:,}×{a[1]} → {b[0]:,}×{b[1]} | {b[0] / a[0]:.1f} | {b[1] / a[1]:.1f} "
            f"| {_ratio(two.status, one.status)} | {_ratio(two.scrape, one.scrape)} "
            f"| {_ratio(two.static, one.static)} |"
        )
    return rows


def _ratio(after: list[float], before: list[float]) -> str:
    return f"{statistics.median(after) / statistics.median(before):.1f}"


def _exponent(sizes: list[tuple[int, int]], measured: list, axis: int, what: str) -> float | None:
    """Return the growth exponent of a timing along datasets (axis 0) or days (axis 1):
    log(time ratio) / log(size ratio) between the smallest and largest sizes that differ only
    on that axis (1.0 linear, 0.0 flat), or None without such a pair."""
    best: tuple[float, float] | None = None
    for i, a in enumerate(sizes):
        for j, b in enumerate(sizes):
            if a[1 - axis] == b[1 - axis] and b[axis] > a[axis]:
                size = b[axis] / a[axis]
                if best is None or size > best[0]:
                    one, two = measured[i]["this tree"], measured[j]["this tree"]
                    after, before = getattr(two, what), getattr(one, what)
                    best = (size, statistics.median(after) / statistics.median(before))
    if best is None:
        return None
    return math.log(best[1]) / math.log(best[0])


def target_rows(sizes: list[tuple[int, int]], measured: list[dict[str, Runs]]) -> list[str]:
    """Judge the issue 15 targets (set at 10,000 datasets × 365 days) at the largest size
    measured here, which the row names."""
    index = max(range(len(sizes)), key=lambda i: sizes[i][0] * sizes[i][1])
    runs, (datasets, days) = measured[index]["this tree"], sizes[index]
    status = statistics.median(runs.status)
    ratio = statistics.median(a / b for a, b in zip(runs.scrape, runs.static, strict=True))
    rss = max(runs.status_rss + runs.scrape_rss) / 1024
    at = f"{datasets:,} × {days}"
    rows = [
        "| target (issue 15, set at 10,000 × 365) | measured | at | met |",
        "|---|---:|---|---|",
        f"| `status` ≤ {STATUS_SECONDS:.0f} s | {status:.2f} s | {at} "
        f"| {'yes' if status <= STATUS_SECONDS else 'NO'} |",
        f"| scrape ≤ {SCRAPE_RATIO:.0f}× static rendering | {ratio:.1f}× | {at} "
        f"| {'yes' if ratio <= SCRAPE_RATIO else 'NO'} |",
        f"| peak RSS < {RSS_MIB} MiB | {rss:.0f} MiB | {at} | {'yes' if rss < RSS_MIB else 'NO'} |",
    ]
    sweeps = ((0, "linear in datasets", 1.1), (1, "flat in days", 0.1))
    for axis, name, limit in sweeps:
        exponents = [_exponent(sizes, measured, axis, what) for what in ("status", "scrape")]
        if None in exponents:
            continue
        shown = " / ".join(f"{e:.2f}" for e in exponents if e is not None)
        met = all(e is not None and e <= limit for e in exponents)
        rows.append(
            f"| {name}: growth exponent ≤ {limit} (`status` / scrape) | {shown} "
            f"| widest sweep measured | {'yes' if met else 'NO'} |"
        )
    return rows


def section(args: argparse.Namespace, sizes: list, measured: list, loads: list) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = " ".join(["benchmarks/catalog_scale.py", *sys.argv[1:]])
    lines = [
        BEGIN,
        "## Status and /metrics at scale (`benchmarks/catalog_scale.py`)",
        "",
        f"Run {when} with `{command}` on {os.cpu_count()} cores; {args.pairs} interleaved pairs "
        f"per size (each pair: one `drctl status` process per checkout, then one scrape "
        f"process per checkout doing {args.scrape_pairs} alternating scrape/static pairs); "
        "medians with (min–max).",
        "",
        *table_rows(sizes, measured),
        "",
        "Growth of this tree, each size against the last earlier one with the same days or the "
        "same datasets (medians):",
        "",
        *growth_rows(sizes, measured),
        "",
        "Targets, judged at the largest size this run measured (the issue sets them at "
        "10,000 × 365; a smaller size meeting them says nothing about that one):",
        "",
        *target_rows(sizes, measured),
        "",
        "A growth exponent is log(time ratio) ÷ log(size ratio) between the smallest and the "
        "largest size of a sweep (1 linear, 0 flat). `status` is a whole command: its constant "
        "start-up (interpreter, imports, config, rule pack) flattens its exponent at small "
        "sizes; the scrape is timed inside a running exporter and has none.",
        "",
        "Catalogs: "
        + "; ".join(
            f"{d:,}×{n}: {load['points']:,} points, {load['copies']:,} copies, "
            f"{load['checks']} checks, {load['db_mib']:.0f} MiB, "
            f"loaded in {load['load_seconds']:.0f} s"
            for (d, n), load in zip(sizes, loads, strict=True)
        )
        + ".",
        END,
    ]
    return "\n".join(lines) + "\n"


def write_section(path: Path, text: str) -> None:
    content = path.read_text(encoding="utf-8") if path.is_file() else "# Benchmarks\n\n"
    if BEGIN in content and END in content:
        head, tail = content[: content.index(BEGIN)], content[content.index(END) + len(END) :]
        content = head + text.rstrip("\n") + tail
    else:
        content = content.rstrip("\n") + "\n\n" + text
    path.write_text(content if content.endswith("\n") else content + "\n", encoding="utf-8")
