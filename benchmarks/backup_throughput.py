"""Backup throughput, side by side in one run, on the same generated directory.

    .venv/bin/python benchmarks/backup_throughput.py --size 1G --rounds 3

Measures, in interleaved rounds (every peer timed once in each round, which goes first
rotating): (a) the machine's limit for a backup: read each file once, hashlib SHA-256, write
it to another directory and fsync it, one process per core; (b) `drctl backup` of one `files`
dataset holding the directory, as a whole command (start-up, Ansible's dump and hashing on the
host over the `local` connection, the stream into a directory store, manifest, signature and
catalog), in clear; (c) restic's first backup of the same directory into a fresh repository
(skipped with a message if restic is absent). Every pass starts after `sync` and writes into a
fresh, empty destination; the source stays in the page cache for all of them alike. Prints
drctl ÷ limit (target ≥ 0.5) and drctl ÷ restic (target ≥ 1: faster) and writes them into
docs/benchmarks.md between markers, leaving the rest of that file alone. With `--baseline
TREE` (another checkout, e.g. `git archive main | tar -x -C /tmp/base`), `drctl backup` of
that tree (`PYTHONPATH` set to it; the same interpreter, Ansible and config) is timed beside
this one in every round, and this ÷ baseline is printed. Not part of `make test`; timings are
never asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.verify_throughput import (  # noqa: E402
    SYSTEM,
    Timing,
    bench_site,
    machine,
    median,
    parse_size,
    plan_sizes,
    run_measured,
    spread,
    write_file,
    write_section,
)
from orchestrator.evidence import sign  # noqa: E402

BEGIN = "<!-- backup_throughput:begin -->"
END = "<!-- backup_throughput:end -->"
BLOCK = 1 << 20
TARGETS = {"limit": 0.5, "restic": 1.0, "baseline": 0.0}
LABELS = {
    "limit": "read once + SHA-256 + write + fsync, all cores (one process per core)",
    "drctl": "`drctl backup`, whole command, one `files` dataset, clear",
    "restic": "`restic backup`, first backup into a fresh repository",
}


def copy_one(job: tuple[str, str]) -> int:
    """Read a file once, hash it and write it to target with fsync; return its size."""
    source, target = job
    digest = hashlib.sha256()
    size = 0
    buffer = bytearray(BLOCK)
    view = memoryview(buffer)
    with open(source, "rb", buffering=0) as reader, open(target, "wb", buffering=0) as writer:
        while count := reader.readinto(buffer):
            digest.update(view[:count])
            writer.write(view[:count])
            size += count
        os.fsync(writer.fileno())
    digest.hexdigest()
    return size


def limit_pass(pool: ProcessPoolExecutor, data: Path, target: Path) -> Timing:
    """The limit: every file read once, hashed and written with fsync, largest first, one
    process per core (the pool is started before the clock)."""
    jobs = []
    for path in sorted(data.rglob("*"), key=lambda p: -p.stat().st_size):
        if path.is_file():
            destination = target / path.relative_to(data)
            destination.parent.mkdir(parents=True, exist_ok=True)
            jobs.append((str(path), str(destination)))
    started = time.perf_counter()
    total = sum(pool.map(copy_one, jobs, chunksize=1))
    return Timing(time.perf_counter() - started, total)


def write_config(root: Path, data: Path) -> Path:
    """A clear (unencrypted) site whose one `files` dataset is the generated directory, on
    this machine over Ansible's `local` connection, backed up into a directory store."""
    key = root / "keys" / "manifest.pem"
    manifest_key = sign.create_signing_key(key)
    python = sys.executable
    (root / "inventory.ini").write_text(
        f"[production]\nbench-host ansible_connection=local ansible_python_interpreter={python}\n"
    )
    signing = {"key": str(key), "public_key": sign.public_key_line(manifest_key)}
    roots = {name: str(data.parent) for name in ("production", "dr")}
    datasets = [{"name": "tree", "engine": "files", "category": "programs", "path": data.name}]
    path = root / "dr.yml"
    path.write_text(yaml.safe_dump(bench_site(root, signing, roots, datasets)))
    return path


def fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def drctl_pass(config: Path, size: int, tree: Path | None = None) -> Timing:
    """Time `drctl backup` as a whole command: this tree's, or tree's when given."""
    fresh(config.parent / "store")
    os.sync()
    argv = [sys.executable, "-m", "orchestrator", "-c", str(config), "--json", "backup"]
    env = {"PYTHONPATH": str(tree)} if tree is not None else None
    seconds, _rss, _output = run_measured([*argv, "--system", SYSTEM], env)
    return Timing(seconds, size)


def restic_pass(data: Path, work: Path, size: int) -> Timing:
    restic = shutil.which("restic")
    assert restic is not None
    env = {
        "RESTIC_PASSWORD": "benchmark",
        "RESTIC_REPOSITORY": str(fresh(work / "restic-repo") / "repo"),
        "RESTIC_CACHE_DIR": str(fresh(work / "restic-cache")),
    }
    run_measured([restic, "init", "--quiet"], env)
    os.sync()
    seconds, _rss, _output = run_measured([restic, "backup", "--quiet", str(data)], env)
    return Timing(seconds, size)


def measure_rounds(
    args: argparse.Namespace, data: Path, work: Path, config: Path
) -> dict[str, list[Timing]]:
    """Run every peer once per round, the order rotating, so load from other jobs falls on
    all of them alike; return each peer's timings, round by round."""
    peers = ["limit", "drctl"] + (["restic"] if shutil.which("restic") else [])
    peers += ["baseline"] if args.baseline else []
    rounds: dict[str, list[Timing]] = {name: [] for name in peers}
    workers = len(os.sched_getaffinity(0))
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(abs, range(workers)))  # the processes exist before the clock
        for index in range(args.rounds):
            order = peers[index % len(peers) :] + peers[: index % len(peers)]
            for name in order:
                if name == "limit":
                    target = fresh(work / "limit")
                    os.sync()
                    rounds[name].append(limit_pass(pool, data, target))
                elif name == "drctl":
                    rounds[name].append(drctl_pass(config, args.size))
                elif name == "baseline":
                    rounds[name].append(drctl_pass(config, args.size, args.baseline))
                else:
                    rounds[name].append(restic_pass(data, work, args.size))
            print(f"round {index + 1}/{args.rounds} done ({' '.join(order)})", flush=True)
    return rounds


def verdicts(rounds: dict[str, list[Timing]]) -> list[tuple[str, list[float], float]]:
    """Return (ratio, its value in each round, target ≥): drctl's rate ÷ each peer's."""
    rows = []
    for peer in ("limit", "restic", "baseline"):
        if rounds.get(peer):
            values = [a.rate / b.rate for a, b in zip(rounds["drctl"], rounds[peer], strict=True)]
            rows.append((f"drctl backup ÷ {peer}", values, TARGETS[peer]))
    return rows


def verdict(value: float, target: float) -> str:
    """Return the target and met columns (a baseline has no target: its ratio is a speed-up)."""
    if not target:
        return "(speed-up) | — "
    return f"≥ {target:.2f} | {'yes' if value >= target else 'NO'}"


def report(
    args: argparse.Namespace, files: int, facts: dict[str, str], rounds: dict[str, list[Timing]]
) -> tuple[str, list[str]]:
    lines = [
        BEGIN,
        "## Backup throughput (`benchmarks/backup_throughput.py`)",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `--size {args.size >> 20}M "
        f"--rounds {args.rounds}` ({args.size:,} bytes in {files} files: two of an eighth "
        f"each, the rest 1 KiB–4 MiB; {args.rounds} interleaved rounds, every peer timed "
        "once in each round, the order rotating; medians, with the range). Load average at "
        f"the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}.",
        "",
        "| machine | |",
        "|---|---|",
    ]
    lines += [f"| {key} | {value} |" for key, value in facts.items()]
    lines += ["", "| measurement | median s | range s | rate |", "|---|---:|---:|---:|"]
    for name, timings in rounds.items():
        middle = median(timings)
        rate = f"{middle.rate / 1e6:.0f} MB/s"
        lines.append(f"| {LABELS[name]} | {middle.seconds:.2f} | {spread(timings)} | {rate} |")
    rows = [
        (name, statistics.median(values), min(values), max(values), target)
        for name, values, target in verdicts(rounds)
    ]
    lines += [
        "",
        "| ratio of rates (within each round) | median | range | target | met |",
        "|---|---:|---:|---:|---|",
    ]
    lines += [
        f"| {name} | {value:.2f} | {low:.2f}–{high:.2f} | {verdict(value, target)} |"
        for name, value, low, high, target in rows
    ]
    if "restic" not in rounds:
        lines += ["", "restic is not installed: its row is skipped."]
    lines += [
        "",
        "Every pass starts after `sync` and writes into an empty destination; the source is "
        "in the page cache for all three. drctl's time is the whole command: interpreter "
        "start, config, one ansible-runner call that dumps and hashes on the host, the "
        "stream into the store, manifest, signature and catalog. restic's is `restic "
        "backup` alone (its `init` is outside the clock) and it compresses, deduplicates "
        "and encrypts; drctl here writes in clear.",
        END,
    ]
    printed = [
        f"{name}: {value:.2f} [{low:.2f}–{high:.2f}] {verdict(value, target)}"
        for name, value, low, high, target in rows
    ]
    return "\n".join(lines) + "\n", printed


def generate(size: int, data: Path) -> int:
    """Write the dataset's files under data (the layout verify_throughput.py uses)."""
    sizes = plan_sizes(size, random.Random(2002260))
    for index, file_size in enumerate(sizes):
        path = data / f"d{index % 20:02d}" / f"f{index:05d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_file(path, file_size)
    return len(sizes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=parse_size, default=parse_size("1G"))
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--workdir", type=Path, help="scratch directory (default: a temp dir)")
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--baseline", type=Path, help="another checkout to time beside")
    parser.add_argument("--baseline-label", default="baseline", help="its name in the table")
    args = parser.parse_args()
    LABELS["baseline"] = f"`drctl backup` of {args.baseline_label}, the same command"
    work = Path(tempfile.mkdtemp(prefix="backup-bench-", dir=args.workdir))
    try:
        print(f"generating {args.size:,} bytes in {work} ...", flush=True)
        files = generate(args.size, work / "source" / "data")
        config = write_config(work / "site", work / "source" / "data")
        facts = machine()
        rounds = measure_rounds(args, work / "source" / "data", work, config)
        section, printed = report(args, files, facts, rounds)
        for name, timings in rounds.items():
            print(f"{name}: {median(timings).rate / 1e6:.0f} MB/s (median of {len(timings)})")
        for line in printed:
            print(line)
        write_section(args.output, section, BEGIN, END)
        print(f"wrote {args.output}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
