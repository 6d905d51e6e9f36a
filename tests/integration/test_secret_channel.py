"""Secrets reach playbooks through drctl's private socket, never through anything on disk.

A real ansible-playbook run (local connection) reads a secret with the `dr_secret` lookup while
ansible-runner's artifacts exist, and checks from inside the run that none of them holds it.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator.integrations.ansible import (
    make_runner_environment,
    run_playbook,
)
from orchestrator.integrations.secret_channel import SOCKET_VARIABLE, SecretChannel

ASK = """
import json, socket, sys
client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
client.connect(sys.argv[1])
client.sendall(sys.argv[2].encode() + b"\\n")
print(client.makefile().readline().strip())
"""

# Runs on the controller while ansible-runner's artifacts exist: every file of the runner's
# private directory is read and must not contain the secret the task's environment got.
PLAYBOOK = """
- name: Read a secret through drctl and look for it on disk
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Use the secret in a task environment only
      ansible.builtin.command: sh -c 'printf %s "$DR_TEST_VALUE" | sha256sum'
      environment:
        DR_TEST_VALUE: "{{ lookup('dr.orchestrator.dr_secret', dr_item.password_env) }}"
      register: seen
      changed_when: false

    - name: The task saw the secret (compared by digest, so the secret is not an argument)
      ansible.builtin.assert:
        that: seen.stdout.split()[0] == dr_secret_sha256

    # ansible-runner renames an event's `-partial.json` file while this loop runs: one that
    # is gone by the time it is read is skipped (its event is this task's own, never the
    # secret's), not an error; the runner's `command` is asserted read below (it writes no
    # `stdout` copy).
    - name: No file of the runner's private directory holds the secret
      ansible.builtin.assert:
        that: >-
          lookup('dr.orchestrator.dr_secret', dr_item.password_env)
          not in (lookup('ansible.builtin.file', item, errors='ignore') or '')
      loop: "{{ query('ansible.builtin.fileglob', dr_artifacts + '/*')
        + query('ansible.builtin.fileglob', dr_artifacts + '/job_events/*') }}"

"""


def ask(path: str, name: str) -> dict[str, str]:
    result = subprocess.run(
        [sys.executable, "-c", ASK, path, name], capture_output=True, text=True, timeout=30
    )
    answer: dict[str, str] = json.loads(result.stdout)
    return answer


def test_channel_serves_only_declared_set_variables_to_its_children() -> None:
    source = {"DR_A_PASSWORD": "alpha", "DR_OTHER": "not declared"}
    with SecretChannel(["DR_A_PASSWORD", "DR_UNSET_PASSWORD"], source) as channel:
        path = channel.envvars[SOCKET_VARIABLE]
        assert ask(path, "DR_A_PASSWORD") == {"value": "alpha"}
        assert "not set" in ask(path, "DR_UNSET_PASSWORD")["error"]
        assert "may read" in ask(path, "DR_OTHER")["error"]
    assert not Path(path).exists() and not Path(path).parent.exists()


def test_channel_refuses_a_process_it_did_not_start(tmp_path: Path) -> None:
    """A process of the same user that is not a descendant (double fork, reparented) is
    refused, although it can reach the socket."""
    out = tmp_path / "answer.json"
    with SecretChannel(["DR_A_PASSWORD"], {"DR_A_PASSWORD": "alpha"}) as channel:
        path = channel.envvars[SOCKET_VARIABLE]
        script = f"{sys.executable} -c '{ASK}' {path} DR_A_PASSWORD > {out}"
        # setsid + background: the asker's parent exits at once and it is adopted by init.
        subprocess.run(["setsid", "sh", "-c", f"({script}) &"], check=True, timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (out.exists() and out.read_text().strip()):
            time.sleep(0.05)
    answer = json.loads(out.read_text())
    assert "value" not in answer and "refused" in answer["error"]


def test_runner_environment_keeps_what_ansible_needs_and_no_secret() -> None:
    environment = {
        "PATH": "/usr/bin",
        "HOME": "/root",
        "LC_ALL": "C.UTF-8",
        "ANSIBLE_SSH_ARGS": "-o ControlMaster=no",
        "ANSIBLE_VAULT_PASSWORD_FILE": "/etc/vault-pass",
        "ANSIBLE_NET_PASSWORD": "secret-1",
        "DR_PG_PASSWORD": "secret-2",
        "AWS_SECRET_ACCESS_KEY": "secret-3",
        "AWS_ACCESS_KEY_ID": "AKIA",
        "MYSQL_PWD": "secret-4",
        "CORE_DB_PW": "secret-5",
        "GITHUB_TOKEN": "secret-6",
        SOCKET_VARIABLE: "/run/user/0/drctl-secrets-x/socket",
    }
    kept = make_runner_environment(environment)
    assert kept == {
        "PATH": "/usr/bin",
        "HOME": "/root",
        "LC_ALL": "C.UTF-8",
        "ANSIBLE_SSH_ARGS": "-o ControlMaster=no",
        "ANSIBLE_VAULT_PASSWORD_FILE": "/etc/vault-pass",
        SOCKET_VARIABLE: "/run/user/0/drctl-secrets-x/socket",
    }


def test_playbook_reads_secret_over_the_channel_and_nothing_on_disk_holds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = secrets.token_urlsafe(24)
    monkeypatch.setenv("DR_TEST_PASSWORD", secret)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret + "-s3")
    project = tmp_path / "project"
    project.mkdir()
    (project / "read_secret.yml").write_text(PLAYBOOK)
    inventory = tmp_path / "inventory.ini"
    inventory.write_text(
        f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n"
    )
    work_dir = tmp_path / "work"
    ident = "secret-channel-test"
    run = run_playbook(
        str(project / "read_secret.yml"),
        inventory=inventory,
        extravars={
            "dr_item": {"name": "ledger", "password_env": "DR_TEST_PASSWORD"},
            "dr_secret_sha256": hashlib.sha256(secret.encode()).hexdigest(),
            "dr_artifacts": str(
                work_dir / "runner" / f"{os.getpid()}-{ident}" / "artifacts" / ident
            ),
        },
        ident=ident,
        work_dir=work_dir,
    )
    assert run.ok, run.failures
    checked = [
        json.loads(line)
        for line in run.events_path.read_text().splitlines()
        if '"runner_item_on_ok"' in line
    ]
    read = {Path(event["event_data"]["res"]["item"]).name for event in checked}
    assert "command" in read  # it was there, and was read
    assert "stdout" not in read  # the runner writes no copy of the output (suppress_output_file)
    assert not list((work_dir / "runner").iterdir())  # removed after the run
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert secret.encode() not in data, path
    assert os.environ["DR_TEST_PASSWORD"] == secret  # drctl's own environment is untouched
