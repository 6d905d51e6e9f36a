"""How each ansible-runner call is made (orchestrator/integrations/ansible.py, ssh_control.py):
every event kept in drctl's own record and no second copy in the runner's artifacts; over SSH,
one login per host and run, through a master whose socket lives in the run's own directory
and is gone, with its process, when the run ends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from orchestrator.integrations.ansible import make_envvars, run_playbook
from orchestrator.integrations.ssh_control import SSH_ARGS
from tests.fixtures.hosts import SshHost

ROOT = Path(__file__).resolve().parents[2]

# Runs while the runner's artifacts exist: by the last task, the runner has handled the
# events of the first two; it must have written none of them into job_events/.
PLAYBOOK = """
- name: Four tasks
  hosts: target
  gather_facts: false
  tasks:
    - name: One
      ansible.builtin.ping:
    - name: Two
      ansible.builtin.ping:
    - name: Where this run's SSH control sockets live
      ansible.builtin.debug:
        msg: "{{ lookup('ansible.builtin.env', 'ANSIBLE_SSH_CONTROL_PATH_DIR') }}"
    - name: The runner keeps no copy of the events
      ansible.builtin.assert:
        that: >-
          query('ansible.builtin.fileglob', dr_artifacts + '/job_events/*.json')
          | reject('search', '-partial.json$') | list | length == 0
"""


def run_four_tasks(tmp_path: Path, inventory_line: str, ident: str) -> list[dict[str, Any]]:
    """Run PLAYBOOK on the inventory's one host `target`; return its events, in order."""
    playbook = tmp_path / "four.yml"
    playbook.write_text(PLAYBOOK)
    inventory = tmp_path / f"{ident}.ini"
    inventory.write_text(inventory_line + "\n")
    work_dir = tmp_path / "work"
    artifacts = work_dir / "runner" / f"{os.getpid()}-{ident}" / "artifacts" / ident
    run = run_playbook(
        str(playbook),
        inventory=inventory,
        extravars={"dr_artifacts": str(artifacts)},
        ident=ident,
        work_dir=work_dir,
        limit="target",
    )
    assert run.ok, (run.status, run.failures)
    return [json.loads(line) for line in run.events_path.read_text().splitlines()]


def test_every_event_is_kept_in_order_and_the_runner_writes_no_copy(tmp_path: Path) -> None:
    line = f"target ansible_connection=local ansible_python_interpreter={sys.executable}"
    events = run_four_tasks(tmp_path, line, "complete")
    assert [event["counter"] for event in events] == list(range(1, len(events) + 1))
    kinds = [event["event"] for event in events]
    per_task = ["playbook_on_task_start", "runner_on_start", "runner_on_ok"]
    assert kinds == ["playbook_on_start", "playbook_on_play_start", *per_task * 4] + [
        "playbook_on_stats"
    ]


def ssh_line(host: SshHost) -> str:
    args = f"-o UserKnownHostsFile={host.known_hosts} -o IdentitiesOnly=yes"
    return (
        f"target ansible_host={host.address} ansible_port={host.port} "
        f"ansible_user={host.user} ansible_ssh_private_key_file={host.client_key} "
        f'ansible_python_interpreter={sys.executable} ansible_ssh_common_args="{args}"'
    )


def logins(host: SshHost) -> int:
    return (host.root_dir / "sshd.log").read_text(errors="replace").count("Accepted publickey")


def processes_naming(text: str) -> list[str]:
    """Return the command lines of running processes that mention text."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile, or not a process
            continue
        if text in argv:
            found.append(argv)
    return found


def test_an_ssh_run_logs_in_once_and_leaves_no_master_behind(
    sshd_host: SshHost, tmp_path: Path
) -> None:
    before = logins(sshd_host)
    events = run_four_tasks(tmp_path, ssh_line(sshd_host), "ssh-control")
    assert logins(sshd_host) - before == 1  # two module tasks, one connection
    (control_dir,) = [
        event["event_data"]["res"]["msg"]
        for event in events
        if event["event"] == "runner_on_ok" and event["event_data"]["task"].startswith("Where")
    ]
    assert Path(control_dir).name.startswith("drctl-ssh-")
    assert not Path(control_dir).exists()
    assert processes_naming(control_dir) == []  # the master was told to exit, and did


def test_each_run_gets_its_own_control_directory_and_a_run_by_hand_none() -> None:
    first = make_envvars(Path("/w"), Path("/tmp/drctl-ssh-a"))
    assert first["ANSIBLE_SSH_CONTROL_PATH_DIR"] == "/tmp/drctl-ssh-a"
    assert first["ANSIBLE_SSH_ARGS"] == SSH_ARGS
    # Without a run's directory (ansible.cfg alone, as by hand): no multiplexing asked for.
    assert not {"ANSIBLE_SSH_ARGS", "ANSIBLE_SSH_CONTROL_PATH_DIR"} & set(make_envvars(Path("/w")))


def test_a_play_that_does_not_say_gather_facts_gathers_none(tmp_path: Path) -> None:
    playbook = tmp_path / "silent.yml"
    playbook.write_text(
        "- name: No gather_facts line\n  hosts: target\n  tasks:\n"
        "    - name: One\n      ansible.builtin.ping:\n"
    )
    inventory = tmp_path / "local.ini"
    inventory.write_text(
        f"target ansible_connection=local ansible_python_interpreter={sys.executable}\n"
    )
    run = run_playbook(
        str(playbook), inventory=inventory, extravars={}, ident="facts", work_dir=tmp_path
    )
    assert run.ok, run.failures
    tasks = [
        json.loads(line)["event_data"]["task"]
        for line in run.events_path.read_text().splitlines()
        if '"playbook_on_task_start"' in line
    ]
    assert tasks == ["One"]  # no "Gathering Facts"


def test_the_runner_call_benchmark_runs_a_round_on_both_hosts() -> None:
    """benchmarks/runner_call.py, one round, this tree as its own baseline: a row per tree and
    host, and one SSH login per call (timings are printed, never asserted)."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "runner_call.py"), "--baseline", str(ROOT)]
        + ["--baseline-label", "same", "--rounds", "1", "--tasks", "2"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line.split("|") for line in done.stdout.splitlines() if line.startswith("| this")]
    assert [(row[2].strip(), row[7].strip()) for row in rows] == [("local", "0"), ("ssh", "1")]
