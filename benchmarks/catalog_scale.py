"""`drctl status` and a /metrics scrape at a bank's scale, side by side in one run.

    .venv/bin/python benchmarks/catalog_scale.py --sizes 100x30,1000x30 [--baseline DIR]

For each size (datasets × days) it writes a sandbox dr.yml with that many datasets over a few
systems and bulk-loads its catalog (benchmarks/catalog_scale_load.py: a point a day, copies kept
8 and 35 days in two stores, a counted sample check every 28 days). Then, in interleaved pairs,
it times `drctl status` (the whole command, a fresh process, peak RSS from wait4) and a scrape
of the catalog collector (exporters/collector.py, rendered by prometheus_client's
generate_latest in a long-lived process as /metrics does) beside the static rendering of the
same series (the scrape's samples held as plain gauge families, rendered by generate_latest).

`--baseline DIR` times another checkout (e.g. `git worktree add --detach /tmp/base main`; it runs
with this checkout's .venv and its own sources first on the path) inside the same pairs, on the
same catalog, up to `--baseline-max-datasets`; each scrape's series and values (the collector's
own durations left out) are digested, so a changed verdict or metric shows up as a mismatch.
The baseline reads a copy of the catalog downgraded by this tree's migrations to its own head
revision (it refuses a newer schema), so it runs without the indexes this tree added.
`--reuse` (with `--work`) takes the catalog an earlier run with `--keep` or `--reuse` left
there for the same size (its counts.json), instead of loading it again: a 10,000 × 365 load
takes about ten minutes.
Prints the table and writes it into docs/benchmarks.md between markers, leaving the rest
alone. Not part of `make test`; timings are never asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

REPO = Path(__file__).resolve().parents[1]
TREE = Path(os.environ.get("CATALOG_SCALE_TREE", REPO))
sys.path.insert(0, str(TREE))

if TYPE_CHECKING:  # the report is imported by the parent only: a baseline checkout lacks it
    from benchmarks.catalog_scale_report import Runs

DURATION_SERIES = "dr_scrape_collector_duration_seconds"


def parse_sizes(text: str) -> list[tuple[int, int]]:
    sizes = []
    for part in text.split(","):
        datasets, _, days = part.strip().lower().partition("x")
        sizes.append((int(datasets), int(days)))
    return sizes


def scrape_child(config: str, pairs: int) -> None:
    """In a fresh process of the checkout under test: open the site as `drctl metrics` does,
    scrape and render statically in alternating pairs; print the timings as JSON."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import GaugeMetricFamily, Metric
    from prometheus_client.registry import Collector

    from exporters.collector import make_registry
    from orchestrator.site import load_site

    site = load_site(Path(config))
    from orchestrator.model.catalog import Catalog

    catalog = Catalog(site.config.catalog_url)
    registry = make_registry(site.config.model, site.pack, site.calendar, catalog)
    families: dict[tuple[str, tuple[str, ...]], GaugeMetricFamily] = {}
    for metric in registry.collect():
        for sample in metric.samples:
            labels = tuple(sorted(sample.labels))
            family = families.setdefault(
                (sample.name, labels),
                GaugeMetricFamily(sample.name, metric.documentation, labels=list(labels)),
            )
            family.add_metric([sample.labels[k] for k in labels], sample.value)

    class Static(Collector):
        def collect(self) -> Iterable[Metric]:
            return list(families.values())

    static_registry = CollectorRegistry(auto_describe=False)
    static_registry.register(Static())
    result: dict[str, list[float] | str | int] = {"scrape": [], "static": []}
    text = b""
    for index in range(pairs):
        order = (("scrape", registry), ("static", static_registry))
        for name, reg in order if index % 2 == 0 else order[::-1]:
            started = time.perf_counter()
            rendered = generate_latest(reg)
            result[name].append(time.perf_counter() - started)  # type: ignore[union-attr]
            if name == "scrape":
                text = rendered
    lines = sorted(
        line for line in text.decode().splitlines() if line and DURATION_SERIES not in line
    )
    result["digest"] = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]
    result["samples"] = sum(1 for line in lines if not line.startswith("#"))
    catalog.close()
    print(json.dumps(result))


def run_measured(
    command: list[str], tree: Path, ok: tuple[int, ...] = (0,)
) -> tuple[float, int, str]:
    """Run a command of a checkout; return (wall seconds, peak RSS KiB, stdout)."""
    env = {**os.environ, "PYTHONPATH": str(tree), "CATALOG_SCALE_TREE": str(tree)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            command, cwd=tree, env=env, stdout=subprocess.PIPE, stderr=errors
        )
        assert process.stdout is not None
        output = process.stdout.read().decode()
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode not in ok:
            errors.seek(0)
            tail = errors.read().decode(errors="replace")[-2000:]
            raise SystemExit(f"{' '.join(command)} in {tree}: exit {process.returncode}\n{tail}")
    return seconds, usage.ru_maxrss, output


def measure_pair(config: Path, tree: Path, runs: Runs, scrape_pairs: int) -> None:
    """One status run and one scrape process of a checkout."""
    seconds, rss, _ = run_measured(
        [sys.executable, "-m", "orchestrator", "-c", str(config), "status"], tree, (0, 1)
    )
    runs.status.append(seconds)
    runs.status_rss.append(rss)
    script = str(REPO / "benchmarks" / "catalog_scale.py")
    command = [
        sys.executable,
        script,
        "--scrape-child",
        str(config),
        "--scrape-pairs",
        str(scrape_pairs),
    ]
    _, rss, output = run_measured(command, tree)
    result = json.loads(output)
    runs.scrape.extend(result["scrape"])
    runs.static.extend(result["static"])
    runs.scrape_rss.append(rss)
    runs.digests.add(result["digest"])
    runs.samples = result["samples"]


def measure_size(
    args: argparse.Namespace, datasets: int, days: int, work: Path
) -> tuple[dict[str, Runs], dict[str, float]]:
    """Generate one catalog and time every checkout on it in interleaved pairs."""
    from benchmarks.catalog_scale_report import Runs

    base = work / f"{datasets}x{days}"
    config, counts, load_seconds = _catalog(base, datasets, days, args.reuse)
    trees = {"this tree": REPO}
    configs = {"this tree": config}
    if args.baseline and datasets <= args.baseline_max_datasets:
        trees["baseline"] = args.baseline
        configs["baseline"] = baseline_config(config, args.baseline)
    results = {name: Runs() for name in trees}
    for index in range(args.pairs):
        order = list(trees.items())
        for name, tree in order if index % 2 == 0 else order[::-1]:
            measure_pair(configs[name], tree, results[name], args.scrape_pairs)
            print(f"  {name} pair {index + 1}: status {results[name].status[-1]:.2f} s", flush=True)
    db_mib = _mib(base / "sandbox" / "state" / "catalog.sqlite")
    shutil.rmtree(base / "baseline-sandbox", ignore_errors=True)
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    return results, {"load_seconds": load_seconds, "db_mib": db_mib, **counts}


def _catalog(base: Path, datasets: int, days: int, reuse: bool) -> tuple[Path, dict, float]:
    """Return (dr.yml, row counts, load seconds) of a catalog generated under base, or of
    the one generated there before when reuse is asked and it is complete (counts.json)."""
    from benchmarks.catalog_scale_load import load_catalog, write_config

    record = base / "counts.json"
    if reuse and record.exists():
        saved = json.loads(record.read_text(encoding="utf-8"))
        print(f"{datasets} × {days}: reused {base}", flush=True)
        return base / "sandbox" / "dr.yml", saved["counts"], saved["load_seconds"]
    shutil.rmtree(base, ignore_errors=True)
    started = time.perf_counter()
    config = write_config(base / "sandbox", datasets)
    counts = load_catalog(config, days, datetime.now(UTC).timestamp())
    load_seconds = time.perf_counter() - started
    record.write_text(json.dumps({"counts": counts, "load_seconds": load_seconds}), "utf-8")
    print(f"{datasets} × {days}: loaded {counts} in {load_seconds:.1f} s", flush=True)
    return config, counts, load_seconds


def baseline_config(config: Path, baseline: Path) -> Path:
    """Return the dr.yml of a copy of the sandbox whose catalog is downgraded, by this tree's
    migrations, to the baseline checkout's head revision: a checkout without this tree's
    migrations refuses a newer catalog (the downgrade drops only what they added)."""
    from alembic import command

    from orchestrator.model.catalog import Catalog
    from orchestrator.model.migrate import alembic_config

    migrate = (baseline / "orchestrator" / "model" / "migrate.py").read_text(encoding="utf-8")
    found = re.search(r'^HEAD_REVISION = "(\w+)"', migrate, re.MULTILINE)
    if found is None:
        raise SystemExit(f"no HEAD_REVISION in {baseline}/orchestrator/model/migrate.py")
    target = config.parent.parent / "baseline-sandbox"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(config.parent, target)
    catalog = Catalog(f"sqlite:///{target / 'state' / 'catalog.sqlite'}")
    with catalog.engine.begin() as connection:
        command.downgrade(alembic_config(connection), found.group(1))
    catalog.close()
    return target / config.name


def _mib(path: Path) -> float:
    return path.stat().st_size / (1 << 20) if path.exists() else 0.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=parse_sizes, default=parse_sizes("100x30"))
    parser.add_argument("--pairs", type=int, default=3, help="status/scrape pairs per size")
    parser.add_argument(
        "--scrape-pairs", type=int, default=3, help="scrape/static pairs per process"
    )
    parser.add_argument("--baseline", type=Path, help="another checkout timed in the same pairs")
    parser.add_argument(
        "--baseline-max-datasets",
        type=int,
        default=100,
        help="time the baseline only up to this many datasets (it grows as datasets²)",
    )
    parser.add_argument(
        "--work", type=Path, help="where catalogs are generated (default: a temp dir)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated catalogs")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse a catalog --keep left in --work for the same size (implies --keep)",
    )
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--scrape-child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    if args.scrape_child:
        scrape_child(args.scrape_child, args.scrape_pairs)
        return
    from benchmarks.catalog_scale_report import section, write_section

    if args.baseline:
        args.baseline = args.baseline.resolve()
    args.keep = args.keep or args.reuse
    work = args.work or Path(tempfile.mkdtemp(prefix="catalog_scale."))
    measured, loads = [], []
    for datasets, days in args.sizes:
        results, load = measure_size(args, datasets, days, work)
        measured.append(results)
        loads.append(load)
    text = section(args, args.sizes, measured, loads)
    print(text)
    if not args.no_write:
        write_section(args.output, text)
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
