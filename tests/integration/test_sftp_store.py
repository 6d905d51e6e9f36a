"""SftpStore and SFTP host files against a real sshd with strict host-key checking."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.errors import ExitCode, InfrastructureError
from orchestrator.integrations.ssh import HostKeyRefused, SshTarget, open_sftp_host
from orchestrator.integrations.stores.base import OutsideStore
from orchestrator.integrations.stores.sftp import SftpStore
from orchestrator.integrations.transfer import DigestMismatch
from tests.fixtures.hosts import SshHost
from tests.fixtures.process import free_port

MiB = 1 << 20


def target(host: SshHost, known_hosts: Path | None = None, port: int | None = None) -> SshTarget:
    return SshTarget(
        label="store offsite",
        address=host.address,
        port=port or host.port,
        user=host.user,
        known_hosts=known_hosts or host.known_hosts,
        private_key=host.client_key,
    )


@pytest.fixture
def store(sshd_host: SshHost) -> Iterator[SftpStore]:
    root = sshd_host.root_dir / f"store-{uuid.uuid4().hex[:8]}"
    sftp_store = SftpStore("offsite", "disaster_recovery", target(sshd_host), str(root))
    sftp_store.prepare()
    yield sftp_store
    sftp_store.close()


def chunks_of(data: bytes, size: int = MiB) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_round_trip_with_digest_and_listing(store: SftpStore) -> None:
    data = os.urandom(3 * MiB + 11)
    point = "20261123T020000Z-abcdef"
    key = f"core/ledger/{point}/data/dump.bin"
    store.write_stream(key, chunks_of(data), size=len(data), sha256=sha(data))
    store.write_stream(f"core/ledger/{point}/manifest.json", [b"{}"], size=2, sha256=sha(b"{}"))
    with store.open_read(key) as handle:
        assert sha(handle.read()) == sha(data)
    assert store.size(key) == len(data)
    assert store.exists(key) and not store.exists(f"core/ledger/{point}/data/other")
    assert store.written_at(key) > 0
    assert sorted(store.list_keys(f"core/ledger/{point}")) == [
        f"core/ledger/{point}/data/dump.bin",
        f"core/ledger/{point}/manifest.json",
    ]
    assert list(store.list_points()) == [("core", "ledger", point)]
    store.delete_point("core", "ledger", point)
    assert list(store.list_points()) == [("core", "ledger", point)][:0]
    assert not Path(store.root, "core", "ledger", point).exists()


def test_wrong_digest_is_refused_and_leaves_no_file(store: SftpStore) -> None:
    data = os.urandom(MiB)
    with pytest.raises(DigestMismatch, match="s/d/p/data/f: digest mismatch"):
        store.write_stream("s/d/p/data/f", chunks_of(data), size=len(data), sha256=sha(b"x"))
    assert not store.exists("s/d/p/data/f")
    assert os.listdir(Path(store.root, "s/d/p/data")) == []


def test_transfer_cut_midway_leaves_nothing_and_a_retry_succeeds(store: SftpStore) -> None:
    data = os.urandom(4 * MiB)

    def cut() -> Iterator[bytes]:
        yield from chunks_of(data[: 2 * MiB])
        raise ConnectionResetError("source host went away")

    with pytest.raises(ConnectionResetError, match="source host went away"):
        store.write_stream("s/d/p/data/f", cut(), size=len(data), sha256=sha(data))
    assert os.listdir(Path(store.root, "s/d/p/data")) == [], "no temp file left behind"
    assert list(store.list_keys("s/d/p")) == []
    store.write_stream("s/d/p/data/f", chunks_of(data), size=len(data), sha256=sha(data))
    assert store.read_bytes("s/d/p/data/f") == data


def test_links_on_the_store_never_lead_outside_it(store: SftpStore, tmp_path: Path) -> None:
    """A file link or a linked directory on the SFTP server that leads outside the store is
    no file of it: not there, not listed, not read, not written through; a link that stays
    inside is followed (as with a directory store)."""
    outside = tmp_path / "outside"
    (outside / "dir").mkdir(parents=True)
    (outside / "secret").write_bytes(b"not the store's")
    (outside / "dir" / "f").write_bytes(b"not the store's either")
    store.write_stream("s/d/p/data/real", [b"ours"], size=4, sha256=sha(b"ours"))
    data = Path(store.root, "s/d/p/data")
    (data / "link").symlink_to(outside / "secret")
    (data / "sub").symlink_to(outside / "dir")
    (data / "alias").symlink_to(data / "real")
    for key in ("s/d/p/data/link", "s/d/p/data/sub/f"):
        assert not store.exists(key)
        with pytest.raises(OutsideStore, match="leaves the store root"):
            store.read_bytes(key)
        with pytest.raises(FileNotFoundError, match="leaves the store root"):
            store.size(key)
    assert sorted(store.list_keys("s/d/p")) == ["s/d/p/data/real"]
    with pytest.raises(OutsideStore, match="sub/new"):
        store.write_stream("s/d/p/data/sub/new", [b"x"], size=1, sha256=sha(b"x"))
    assert sorted(os.listdir(outside / "dir")) == ["f"]
    assert store.read_bytes("s/d/p/data/alias") == b"ours"
    assert store.exists("s/d/p/data/alias") and store.size("s/d/p/data/alias") == 4


def test_deleting_a_linked_point_removes_the_link_never_what_it_leads_to(
    store: SftpStore, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    (outside / "p" / "data").mkdir(parents=True)
    (outside / "p" / "manifest.json").write_bytes(b"{}")
    (outside / "p" / "data" / "f").write_bytes(b"kept")
    store.write_stream("s/d/q/manifest.json", [b"{}"], size=2, sha256=sha(b"{}"))
    Path(store.root, "s/d/p").symlink_to(outside / "p")  # a point directory that is a link
    Path(store.root, "s/e").symlink_to(outside)  # a dataset directory that is a link
    store.delete_point("s", "d", "p")
    assert not Path(store.root, "s/d/p").is_symlink()
    with pytest.raises(OutsideStore, match="s/e/p"):
        store.delete_point("s", "e", "p")
    assert (outside / "p" / "manifest.json").read_bytes() == b"{}"
    assert (outside / "p" / "data" / "f").read_bytes() == b"kept"
    assert list(store.list_points()) == [("s", "d", "q")]


def test_wrong_known_hosts_is_refused_naming_host_and_file(sshd_host: SshHost) -> None:
    assert sshd_host.wrong_known_hosts is not None
    refused = SftpStore("offsite", "dr", target(sshd_host, sshd_host.wrong_known_hosts), "/tmp")
    with pytest.raises(HostKeyRefused, match="does not match") as raised:
        refused.exists("a/b")
    message = str(raised.value)
    assert f"{sshd_host.address}:{sshd_host.port}" in message
    assert str(sshd_host.wrong_known_hosts) in message
    assert "does not match" in message
    assert raised.value.exit_code == ExitCode.INFRASTRUCTURE


def test_unknown_host_is_refused(sshd_host: SshHost, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    with pytest.raises(HostKeyRefused, match="not in known_hosts file"):
        SftpStore("offsite", "dr", target(sshd_host, empty), "/tmp").exists("a/b")


def test_unreachable_host_is_an_infrastructure_error_naming_it(sshd_host: SshHost) -> None:
    port = free_port()
    store = SftpStore("offsite", "dr", target(sshd_host, port=port), "/tmp")
    with pytest.raises(InfrastructureError, match="store offsite") as raised:
        store.list_points().__next__()
    assert raised.value.exit_code == ExitCode.INFRASTRUCTURE
    assert f"{sshd_host.address}:{port}" in str(raised.value)
    assert "store offsite" in str(raised.value)


def test_sftp_host_files_from_inventory_vars(sshd_host: SshHost) -> None:
    hostvars = {
        "ansible_host": sshd_host.address,
        "ansible_port": sshd_host.port,
        "ansible_user": sshd_host.user,
        "ansible_ssh_private_key_file": str(sshd_host.client_key),
        "ansible_ssh_common_args": f"-o UserKnownHostsFile={sshd_host.known_hosts} "
        "-o StrictHostKeyChecking=yes",
    }
    files = open_sftp_host("db-a", hostvars)
    spool = sshd_host.root_dir / f"spool-{uuid.uuid4().hex[:8]}"
    try:
        data = os.urandom(MiB + 3)
        assert files.write_stream(f"{spool}/x/dump.bin", chunks_of(data)) == len(data)
        with files.open_read(f"{spool}/x/dump.bin") as handle:
            assert handle.read() == data
        files.remove_tree(str(spool))
        assert not spool.exists()
    finally:
        files.close()


def test_sftp_host_with_wrong_dr_known_hosts_is_refused(sshd_host: SshHost) -> None:
    hostvars = {
        "ansible_host": sshd_host.address,
        "ansible_port": sshd_host.port,
        "ansible_user": sshd_host.user,
        "ansible_ssh_private_key_file": str(sshd_host.client_key),
        "dr_known_hosts": str(sshd_host.wrong_known_hosts),
    }
    with pytest.raises(HostKeyRefused, match="db-a"):
        open_sftp_host("db-a", hostvars)
