"""A pass over many small datasets on many SSH hosts with 1, 2 and 4 `drctl serve` nodes
sharing one PostgreSQL catalog and its task queue (issue 12), side by side in one run.

    .venv/bin/python benchmarks/nodes_scale.py                       # 200 datasets, 10 hosts
    .venv/bin/python benchmarks/nodes_scale.py --datasets 40 --hosts 4 --nodes 1,2 --rounds 2

Real services, started here as in the tests (tests/fixtures): a PostgreSQL cluster and
`--hosts` sshd on 127.0.0.1, each one production site with one system of datasets/hosts small
directory datasets, reached by Ansible over SSH. Each trial gets a fresh catalog database and a
fresh site, starts the nodes (tests/fixtures/serve_nodes.py: the bar test's short intervals)
and times, from the nodes' start, (a) every dataset's first complete recovery point and (b)
the site settled: nothing due and nothing waiting or running on the queue (backups, off-site
copies, the sample check, retention). Each round runs every node count once, in an order that
rotates between rounds; the speed-up of k nodes is taken against one node within each round.
A trial whose site does not end with exactly one complete point per dataset stops the run.

Every node runs on this machine, so the nodes share its cores: the speed-up is bounded by the
cores (and by the queue's per-host and per-store slots), not by the number of nodes. Printed
and written between markers in docs/benchmarks.md. Not part of `make test`; timings are never
asserted.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import select  # noqa: E402

from benchmarks.verify_throughput import write_section  # noqa: E402
from orchestrator.model import schema  # noqa: E402
from orchestrator.model.catalog import Catalog  # noqa: E402
from orchestrator.runtime import open_runtime  # noqa: E402
from orchestrator.site import load_site  # noqa: E402
from tests.fixtures.databases import PostgresServer, pg_create_database, postgres_running  # noqa: E402
from tests.fixtures.hosts import SshHost, generate_key, sshd_running  # noqa: E402
from tests.fixtures.serve_nodes import build_site, settled, start_node  # noqa: E402

BEGIN = "<!-- nodes_scale:begin -->"
END = "<!-- nodes_scale:end -->"
DEADLINE_SECONDS = 3600.0  # a hang guard
POLL_SECONDS = 0.5
TARGETS = {2: 1.7, 4: 3.0}  # issue 12: speed-up at 2 and 4 nodes


@dataclass(frozen=True)
class Trial:
    nodes: int
    backed_up: float  # seconds until every dataset had a complete point
    settled: float  # seconds until nothing was due or queued


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=int, default=200)
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--nodes", default="1,2,4", help="node counts, comma-separated")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    args.node_counts = [int(n) for n in args.nodes.split(",")]
    if args.datasets % args.hosts:
        parser.error("--datasets must be a multiple of --hosts")
    return args


def complete_per_dataset(catalog: Catalog) -> Counter[tuple[str, str]]:
    with catalog.begin() as connection:
        points = connection.execute(select(schema.recovery_points)).all()
    return Counter((p.system, p.dataset) for p in points if p.status == "complete")


def trial(
    work: Path, server: PostgresServer, hosts: list[SshHost], args: argparse.Namespace, k: int
) -> Trial:
    """Run one pass with k nodes on a fresh catalog and site; return its timings."""
    url = server.url(pg_create_database(server, f"bench_{uuid.uuid4().hex[:8]}"))
    base = work / f"trial-{uuid.uuid4().hex[:8]}"
    config = build_site(base / "sb", hosts, url, args.datasets // args.hosts)
    with open_runtime(load_site(config)):
        pass  # the catalog's tables, as `drctl catalog upgrade` makes them
    catalog = Catalog(url)
    start = time.monotonic()
    nodes = [start_node(config, base / f"node-{n}.log") for n in range(k)]
    backed_up: float | None = None
    try:
        while True:
            if any(node.poll() is not None for node in nodes):
                raise SystemExit(f"a node ended early: see {base}/node-*.log")
            if time.monotonic() - start > DEADLINE_SECONDS:
                raise SystemExit(f"no end after {DEADLINE_SECONDS:.0f} s: see {base}")
            if backed_up is None and len(complete_per_dataset(catalog)) == args.datasets:
                backed_up = time.monotonic() - start
            if backed_up is not None and settled(config, catalog):
                break
            time.sleep(POLL_SECONDS)
        done = time.monotonic() - start
    finally:
        stop(nodes)
    counts = complete_per_dataset(catalog)
    catalog.close()
    if len(counts) != args.datasets or set(counts.values()) != {1}:
        raise SystemExit(f"{k} node(s): not one complete point per dataset: {counts}")
    return Trial(k, done if backed_up is None else backed_up, done)


def stop(nodes: list[subprocess.Popen[bytes]]) -> None:
    for node in nodes:
        if node.poll() is None:
            node.send_signal(signal.SIGTERM)
    for node in nodes:
        try:
            node.wait(timeout=120)
        except subprocess.TimeoutExpired:
            node.kill()
            node.wait()


def measure(args: argparse.Namespace, work: Path) -> list[list[Trial]]:
    """Start the services and run the rounds; return each round's trials."""
    key = work / "client" / "id_ed25519"
    key.parent.mkdir(parents=True)
    generate_key(key, "drctl-bench-client")
    rounds: list[list[Trial]] = []
    with ExitStack() as stack:
        server = stack.enter_context(postgres_running())
        hosts = [
            stack.enter_context(sshd_running(work / f"sshd-{n}", f"host-{n}", client_key=key))
            for n in range(args.hosts)
        ]
        for number in range(args.rounds):
            shift = number % len(args.node_counts)
            order = args.node_counts[shift:] + args.node_counts[:shift]
            found = [trial(work, server, hosts, args, k) for k in order]
            for t in found:
                print(
                    f"round {number + 1}: {t.nodes} node(s): backed up {t.backed_up:.1f} s, "
                    f"settled {t.settled:.1f} s",
                    flush=True,
                )
            rounds.append(sorted(found, key=lambda t: t.nodes))
    return rounds


def report(args: argparse.Namespace, rounds: list[list[Trial]]) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = " ".join(["benchmarks/nodes_scale.py", *sys.argv[1:]])
    lines = [
        BEGIN,
        "## Several serve nodes on one catalog (`benchmarks/nodes_scale.py`)",
        "",
        f"Run {when}: `{command}` — {args.datasets} directory datasets over {args.hosts} sshd "
        f"hosts (one system each), {len(rounds)} round(s), {os.cpu_count()} cores, load "
        f"average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}.",
        "",
        "| nodes | every dataset backed up, s | settled, s | speed-up (settled) | target |",
        "|---:|---:|---:|---:|---|",
    ]
    for k in args.node_counts:
        mine = [t for r in rounds for t in r if t.nodes == k]
        ones = [t for r in rounds for t in r if t.nodes == 1]
        speed = (
            statistics.median(a.settled / b.settled for a, b in zip(ones, mine, strict=True))
            if ones
            else float("nan")
        )
        target = f"≥ {TARGETS[k]}×" if k in TARGETS else ""
        lines.append(
            f"| {k} | {statistics.median(t.backed_up for t in mine):.1f} | "
            f"{statistics.median(t.settled for t in mine):.1f} | {speed:.2f}× | {target} |"
        )
    lines += [
        "",
        "Medians over the rounds; the speed-up is taken within each round against one node. "
        "Every node ran on this machine: the work of a pass (Ansible on the hosts, hashing, "
        "the stores) shares its cores, so the speed-up cannot pass the number of cores however "
        "many nodes run; on nodes of their own the bound is the hosts and stores. The "
        "trials of a round run one after another, minutes apart, so the machine's other load "
        "can differ between them; more rounds narrow that.",
        END,
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    args = parse(argv)
    with tempfile.TemporaryDirectory(prefix="nodes-scale-") as work:
        rounds = measure(args, Path(work))
    section = report(args, rounds)
    print(section)
    write_section(args.output, section, BEGIN, END)


if __name__ == "__main__":
    main(sys.argv[1:])
