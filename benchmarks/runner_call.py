"""The fixed cost of one ansible-runner call, this tree beside another checkout.

    .venv/bin/python benchmarks/runner_call.py --baseline /tmp/base --rounds 5

Each round makes one `orchestrator.integrations.ansible.run_playbook` call per tree and per
host — a `local` host (the sandbox's connection) and a real sshd started here on a free port
(strict host keys, the test bed's fixture) — with a playbook of --tasks `ansible.builtin.ping`
tasks, each call in a fresh Python process with `PYTHONPATH` set to the tree (the same
interpreter, Ansible and ansible-runner for both); the order of the trees alternates from
round to round. Per call it records the wall time of the call, split at the runner's first and last
event (start-up before the first: ansible-playbook's imports, inventory, collection loader,
playbook; the play itself; the end after the last: ansible-playbook's exit, ansible-runner's
pexpect close, drctl's clean-up), and how many SSH logins sshd accepted during the call, from
its log. Printed: medians with the range per tree and host, and the median of the per-round ratios
this/baseline. Timings are never asserted; not part of `make test`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fixtures.hosts import SshHost, generate_key, sshd_running  # noqa: E402

# One call in a fresh process: (wall s, first-to-last event s), printed as JSON.
CALL = """
import json, sys, time
from datetime import datetime
from pathlib import Path
from orchestrator.integrations.ansible import run_playbook
began, start = time.monotonic(), time.time()
run = run_playbook(sys.argv[1], inventory=Path(sys.argv[2]), extravars={}, ident="bench",
                   work_dir=Path(sys.argv[3]), limit="target")
wall = time.monotonic() - began
assert run.ok, (run.status, run.failures)
times = [datetime.fromisoformat(json.loads(line)["created"]).timestamp()
         for line in run.events_path.read_text().splitlines()]
print(json.dumps({"wall": wall, "span": max(times) - min(times), "before": min(times) - start,
                  "after": start + wall - max(times)}))
"""


TIMES = ("wall", "before", "span", "after")


def write_playbook(path: Path, tasks: int) -> Path:
    lines = ["- name: Runner call", "  hosts: target", "  gather_facts: false", "  tasks:"]
    for index in range(tasks):
        lines += [f"    - name: Ping {index}", "      ansible.builtin.ping:"]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_inventories(scratch: Path, host: SshHost) -> dict[str, Path]:
    local = scratch / "local.ini"
    local.write_text(
        f"target ansible_connection=local ansible_python_interpreter={sys.executable}\n"
    )
    ssh = scratch / "ssh.ini"
    args = f"-o UserKnownHostsFile={host.known_hosts} -o IdentitiesOnly=yes"
    ssh.write_text(
        f"target ansible_host={host.address} ansible_port={host.port} ansible_user={host.user} "
        f"ansible_ssh_private_key_file={host.client_key} "
        f'ansible_python_interpreter={sys.executable} ansible_ssh_common_args="{args}"\n'
    )
    return {"local": local, "ssh": ssh}


def logins(host: SshHost) -> int:
    log = host.root_dir / "sshd.log"
    return log.read_text(errors="replace").count("Accepted publickey") if log.exists() else 0


def one_call(tree: Path, playbook: Path, inventory: Path, scratch: Path) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(dir=scratch))
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, "-c", CALL, str(playbook), str(inventory), str(work)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=tree,
    )
    return dict(json.loads(out.stdout.splitlines()[-1]))


@contextmanager
def test_host(scratch: Path) -> Iterator[SshHost]:
    key = scratch / "client" / "id_ed25519"
    generate_key(key, "drctl-bench-client")
    with sshd_running(scratch / "sshd", "bench-host", client_key=key) as host:
        yield host


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", type=Path, required=True, help="another checkout")
    parser.add_argument("--baseline-label", default="baseline")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=5, help="ping tasks in the playbook")
    args = parser.parse_args()
    trees = {"this tree": REPO, args.baseline_label: args.baseline.resolve()}
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="dr-runner-call-", dir="/tmp") as name:  # noqa: S108
        scratch = Path(name)
        playbook = write_playbook(scratch / "pings.yml", args.tasks)
        with test_host(scratch) as host:
            inventories = write_inventories(scratch, host)
            for round_ in range(args.rounds):
                order = list(trees.items()) if round_ % 2 == 0 else list(trees.items())[::-1]
                for label, tree in order:
                    for kind, inventory in inventories.items():
                        before = logins(host)
                        call = one_call(tree, playbook, inventory, scratch)
                        call["logins"] = logins(host) - before
                        results.setdefault((label, kind), []).append(call)
    print(f"{args.rounds} rounds, {args.tasks} ping tasks per call; load: {os.getloadavg()}")
    print(
        "| tree | host | call wall s | start → first event s | first → last event s "
        "| last event → return s | SSH logins |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    for (label, kind), calls in results.items():
        times = " | ".join(summary([c[key] for c in calls]) for key in TIMES)
        print(
            f"| {label} | {kind} | {times} | {statistics.median(c['logins'] for c in calls):.0f} |"
        )
    for kind in ("local", "ssh"):
        ratios = [
            this["wall"] / base["wall"]
            for this, base in zip(
                results[("this tree", kind)], results[(args.baseline_label, kind)], strict=True
            )
        ]
        print(f"- {kind}: call wall this ÷ baseline, median of rounds: {summary(ratios)}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
