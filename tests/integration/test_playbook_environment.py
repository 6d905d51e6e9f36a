"""What every drctl playbook run gets from orchestrator/integrations/ansible.py: Ansible's
per-user remote temp dir (never a fixed shared path), and host keys checked although
ansible-runner turns that off by default.

Ansible expands the remote temp dir's ~ as ~<remote user> (from the passwd database, not
$HOME), so the per-user default is observed by connecting as a throwaway user."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from orchestrator.errors import InfrastructureError
from orchestrator.integrations.ansible import make_envvars, run_playbook
from tests.fixtures.hosts import SshHost, sshd_running
from tests.fixtures.process import require_binary, require_root

SHARED_TMP = Path("/tmp/.dr-ansible")  # noqa: S108 - the fixed path drctl used to share
ROOT = Path(__file__).resolve().parents[2]


def local_inventory(path: Path, host_vars: str = "") -> Path:
    path.write_text(
        f"target ansible_connection=local ansible_python_interpreter={sys.executable} {host_vars}\n"
    )
    return path


def wipe(inventory: Path, work_dir: Path, victim: Path) -> dict[str, object]:
    """Run drctl's wipe.yml on the inventory's host to remove victim; return its dr_result."""
    run = run_playbook(
        "wipe.yml",
        inventory=inventory,
        extravars={"dr_host": "target", "dr_paths": [str(victim)], "dr_purpose": "test"},
        ident=f"wipe-{os.getpid()}",
        work_dir=work_dir,
        limit="target",
    )
    assert run.ok, run.failures
    return dict(run.result("target", "wipe:test"))


def test_the_runner_sets_no_remote_temp_dir() -> None:
    envvars = make_envvars(Path("/nonexistent"))
    assert "ANSIBLE_REMOTE_TMP" not in envvars
    config = Path(envvars["ANSIBLE_CONFIG"])
    # The shipped playbooks/ (orchestrator/resources links it in a checkout).
    assert config.resolve() == ROOT / "playbooks" / "ansible.cfg"
    assert "remote_tmp =" not in config.read_text()


def test_the_runner_reads_playbooks_ansible_cfg(tmp_path: Path) -> None:
    playbook = tmp_path / "which_config.yml"
    playbook.write_text(
        "- name: Which config\n  hosts: target\n  gather_facts: false\n  tasks:\n"
        "    - name: Show it\n      ansible.builtin.debug:\n        var: ansible_config_file\n"
    )
    run = run_playbook(
        str(playbook),
        inventory=local_inventory(tmp_path / "inventory.ini"),
        extravars={},
        ident="which-config",
        work_dir=tmp_path / "work",
    )
    assert run.ok, run.failures
    shown = [
        event["event_data"]["res"]["ansible_config_file"]
        for event in map(json.loads, run.events_path.read_text().splitlines())
        if event.get("event") == "runner_on_ok"
        and "ansible_config_file" in event["event_data"].get("res", {})
    ]
    assert [Path(path).resolve() for path in shown] == [ROOT / "playbooks" / "ansible.cfg"]


def test_a_hosts_ansible_remote_tmp_in_the_inventory_is_used(tmp_path: Path) -> None:
    custom = tmp_path / "per-host-tmp"
    victim = tmp_path / "victim"
    victim.write_text("x")
    inventory = local_inventory(tmp_path / "inventory.ini", f"ansible_remote_tmp={custom}")
    assert wipe(inventory, tmp_path / "work", victim)["removed"] == [str(victim)]
    assert custom.is_dir()


@contextmanager
def throwaway_user(name: str) -> Iterator[pwd.struct_passwd]:
    """Create a user with a home directory; remove both afterwards."""
    useradd, userdel = require_binary("useradd"), require_binary("userdel")
    subprocess.run(
        # A shell and an account that is not locked ("*": no password, keys only), or sshd
        # refuses the login.
        [useradd, "--create-home", "--shell", "/bin/sh", "--password", "*", name],
        check=True,
        capture_output=True,
    )
    try:
        yield pwd.getpwnam(name)
    finally:
        subprocess.run([userdel, "--remove", name], check=False, capture_output=True)


@contextmanager
def owned_by(path: Path, user: pwd.struct_passwd) -> Iterator[None]:
    """Make path a 0700 directory of user for the block; put back what was there before."""
    existed = path.exists()
    if existed:
        before = path.stat()
    else:
        path.mkdir(mode=0o700)
    os.chown(path, user.pw_uid, user.pw_gid)
    path.chmod(0o700)
    try:
        yield
    finally:
        if existed:
            os.chown(path, before.st_uid, before.st_gid)
            path.chmod(before.st_mode & 0o7777)
        else:
            shutil.rmtree(path, ignore_errors=True)


@contextmanager
def sshd_for_any_user(name: str) -> Iterator[SshHost]:
    """An sshd whose host directory every user can read, so a throwaway user's login finds
    authorized_keys (sshd reads it as that user)."""
    with tempfile.TemporaryDirectory(prefix="dr-sshd-", dir="/tmp") as scratch:  # noqa: S108
        with sshd_running(Path(scratch) / "host", name) as host:
            Path(scratch).chmod(0o755)
            host.root_dir.chmod(0o755)
            (host.root_dir / "authorized_keys").chmod(0o644)
            yield host


def test_a_shared_tmp_owned_by_another_user_does_not_break_a_run(tmp_path: Path) -> None:
    """The host side of "once one user ran drctl, another user's run fails at step 1": the
    fixed /tmp/.dr-ansible belongs to user A (mode 0700); drctl now connects as user B."""
    require_root("creating throwaway users")
    tag = f"{os.getpid() % 100000}"
    with (
        throwaway_user(f"drtmpa{tag}") as owner,
        throwaway_user(f"drtmpb{tag}") as user_b,
        owned_by(SHARED_TMP, owner),
        sshd_for_any_user("tmp-host") as host,
    ):
        home = Path(user_b.pw_dir)
        victim = home / "victim"
        # drctl's runs pipeline over SSH (the module on the remote Python's stdin): no
        # remote temp dir at all. A host with pipelining off uploads each module to its
        # remote temp dir: Ansible's per-user default, not the shared path.
        for pipelining, uses_tmp in (("", False), ("ansible_pipelining=false", True)):
            victim.write_text("x")
            os.chown(victim, user_b.pw_uid, user_b.pw_gid)
            inventory = ssh_inventory(
                tmp_path / "inventory.ini",
                host,
                host.known_hosts,
                user=user_b.pw_name,
                host_vars=pipelining,
            )
            assert wipe(inventory, tmp_path / "work", victim)["removed"] == [str(victim)]
            assert not victim.exists()
            assert (home / ".ansible" / "tmp").is_dir() is uses_tmp  # the per-user default
        # (Other users' runs may still use the shared path meanwhile; none of B's did.)
        assert all(entry.stat().st_uid != user_b.pw_uid for entry in SHARED_TMP.iterdir())


def ssh_inventory(
    path: Path, host: SshHost, known_hosts: Path, *, user: str = "", host_vars: str = ""
) -> Path:
    """Write an inventory for host; as another user than sshd's own, with the system Python
    (the venv's lives under /root, which that user cannot read)."""
    args = f"-o UserKnownHostsFile={known_hosts} -o IdentitiesOnly=yes"
    python = "/usr/bin/python3" if user else sys.executable
    path.write_text(
        f"target ansible_host={host.address} ansible_port={host.port} "
        f"ansible_user={user or host.user} ansible_ssh_private_key_file={host.client_key} "
        f'ansible_python_interpreter={python} ansible_ssh_common_args="{args}" {host_vars}\n'
    )
    return path


def test_a_run_refuses_a_host_whose_key_is_not_known(sshd_host: SshHost, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("x")
    unknown = tmp_path / "empty_known_hosts"
    unknown.write_text("")
    with pytest.raises(InfrastructureError, match="unreachable"):
        wipe(ssh_inventory(tmp_path / "unknown.ini", sshd_host, unknown), tmp_path / "w", victim)
    assert victim.exists()
    # The same run with the host's real key goes through: the refusal was the key.
    known = ssh_inventory(tmp_path / "known.ini", sshd_host, sshd_host.known_hosts)
    assert wipe(known, tmp_path / "w", victim)["removed"] == [str(victim)]
