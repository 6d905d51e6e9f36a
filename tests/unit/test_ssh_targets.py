"""Where SSH and SFTP connections go: inventory variables and sftp:// URLs, no I/O."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.errors import InputError
from orchestrator.integrations.ssh import known_hosts_from_args, target_from_hostvars
from orchestrator.integrations.stores.sftp import is_partial, parse_sftp_url


def test_known_hosts_from_ssh_args_in_every_spelling() -> None:
    assert known_hosts_from_args("-o UserKnownHostsFile=/a/kh -o StrictHostKeyChecking=yes") == [
        "/a/kh"
    ]
    assert known_hosts_from_args("-oUserKnownHostsFile=/b") == ["/b"]
    assert known_hosts_from_args("-o 'UserKnownHostsFile /c /d'") == ["/c", "/d"]
    assert known_hosts_from_args("-o IdentitiesOnly=yes") == []


def test_target_from_inventory_vars() -> None:
    target = target_from_hostvars(
        "db-a",
        {
            "ansible_host": "10.200.1.2",
            "ansible_port": "2222",
            "ansible_user": "dr",
            "ansible_ssh_private_key_file": "/keys/id",
            "ansible_ssh_common_args": "-o UserKnownHostsFile=/etc/dr/known_hosts "
            "-o StrictHostKeyChecking=yes",
        },
    )
    assert (target.address, target.port, target.user) == ("10.200.1.2", 2222, "dr")
    assert target.known_hosts == Path("/etc/dr/known_hosts")
    assert target.private_key == Path("/keys/id")
    assert target.label == "db-a"


def test_dr_known_hosts_wins_over_ssh_args() -> None:
    target = target_from_hostvars(
        "h", {"dr_known_hosts": "/x", "ansible_ssh_common_args": "-o UserKnownHostsFile=/y"}
    )
    assert target.known_hosts == Path("/x") and target.address == "h" and target.port == 22


def test_bad_port_names_the_host_and_variable() -> None:
    with pytest.raises(InputError, match="ansible_port: expected a port number"):
        target_from_hostvars("h", {"ansible_port": "ssh"})


def test_parse_sftp_url() -> None:
    target, root = parse_sftp_url(
        "sftp://dr@vault.example:2200/srv/dr-store/",
        known_hosts=Path("/kh"),
        private_key=None,
        label="vault",
    )
    assert (target.user, target.address, target.port, root) == (
        "dr",
        "vault.example",
        2200,
        "/srv/dr-store",
    )


def test_parse_sftp_url_refuses_missing_parts() -> None:
    with pytest.raises(InputError, match="no user") as raised:
        parse_sftp_url("sftp://vault/", known_hosts=Path("/kh"), private_key=None, label="v")
    assert any("no user" in p for p in raised.value.problems)
    assert any("absolute path" in p for p in raised.value.problems)


def test_partial_files_are_recognised() -> None:
    assert is_partial("/s/a/.dump.bin.partial-0123abcd")
    assert not is_partial("/s/a/dump.bin")
