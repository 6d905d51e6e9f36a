"""Smoke tests proving each real test-bed service works, and refuses what it must refuse."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paramiko
import pytest
from botocore.exceptions import ClientError

from tests.fixtures.databases import (
    MariaDbServer,
    PostgresServer,
    mariadb_create_database,
    mariadb_sql,
    pg_create_database,
    psql,
)
from tests.fixtures.hosts import SshHost, connect, run_remote
from tests.fixtures.netns import (
    MAX_INDEX,
    NETNS_PREFIX,
    NetnsHost,
    delete_namespace,
    ip,
    list_namespaces,
    session_prefix,
    sweep_stale_namespaces,
)
from tests.fixtures.process import require_binary, require_root
from tests.fixtures.s3 import S3Server, create_locked_bucket, s3_client


def sha256_b64(data: bytes) -> str:
    """Return the base64 SHA-256 of data, as S3 reports ChecksumSHA256."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


# --- SSH ---------------------------------------------------------------------------------------


def test_ssh_strict_host_key_connects_and_runs_a_command(sshd_host: SshHost) -> None:
    client = connect(sshd_host)
    try:
        token = uuid.uuid4().hex
        assert run_remote(client, f"echo {token}; id -un").split() == [token, sshd_host.user]
    finally:
        client.close()


def test_ssh_wrong_known_hosts_is_refused(sshd_host: SshHost) -> None:
    assert sshd_host.wrong_known_hosts is not None
    with pytest.raises(paramiko.BadHostKeyException, match="does not match"):
        connect(sshd_host, known_hosts=sshd_host.wrong_known_hosts)


def test_ssh_unknown_host_is_refused(sshd_host: SshHost, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    with pytest.raises(paramiko.SSHException, match="not found in known_hosts"):
        connect(sshd_host, known_hosts=empty)


def test_sftp_put_matches_remote_sha256(sshd_host: SshHost, sshd_host_b: SshHost) -> None:
    assert sshd_host.port != sshd_host_b.port
    assert sshd_host.host_key_pub != sshd_host_b.host_key_pub
    payload = os.urandom(1024 * 1024 + 7)
    remote = str(sshd_host_b.root_dir / f"upload-{uuid.uuid4().hex}.bin")
    client = connect(sshd_host_b)
    try:
        with client.open_sftp() as sftp, sftp.open(remote, "wb") as handle:
            handle.write(payload)
        remote_digest = run_remote(client, f"sha256sum {remote}").split()[0]
    finally:
        client.close()
    assert remote_digest == hashlib.sha256(payload).hexdigest()


# --- databases ---------------------------------------------------------------------------------


def test_postgres_query_works(postgres_server: PostgresServer) -> None:
    database = pg_create_database(postgres_server, f"smoke_{uuid.uuid4().hex[:8]}")
    psql(
        postgres_server,
        "CREATE TABLE ledger (id int PRIMARY KEY, memo text);"
        "INSERT INTO ledger SELECT g, '账务' || g FROM generate_series(1, 250) g;",
        database,
    )
    out = psql(postgres_server, "SELECT count(*), max(memo) FROM ledger;", database)
    assert out.strip() == "250|账务99"
    assert psql(postgres_server, "SHOW server_version_num;").strip().startswith("15")


def test_postgres_wrong_password_is_refused(postgres_server: PostgresServer) -> None:
    impostor = dataclasses.replace(postgres_server, password="not-the-password")
    with pytest.raises(RuntimeError, match="password authentication failed"):
        psql(impostor, "SELECT 1;")


def test_two_postgres_sites_are_independent(
    postgres_server: PostgresServer, postgres_server_b: PostgresServer
) -> None:
    name = pg_create_database(postgres_server, f"only_a_{uuid.uuid4().hex[:8]}")
    query = f"SELECT count(*) FROM pg_database WHERE datname = '{name}';"
    assert psql(postgres_server, query).strip() == "1"
    assert psql(postgres_server_b, query).strip() == "0"


def test_mariadb_query_works(mariadb_server: MariaDbServer) -> None:
    database = mariadb_create_database(mariadb_server, f"smoke_{uuid.uuid4().hex[:8]}")
    mariadb_sql(
        mariadb_server,
        "CREATE TABLE ledger (id INT PRIMARY KEY, memo VARCHAR(40)) ENGINE=InnoDB;"
        "INSERT INTO ledger VALUES (1, '账务一'), (2, '账务二'), (3, '账务三');",
        database,
    )
    out = mariadb_sql(mariadb_server, "SELECT COUNT(*), MIN(memo) FROM ledger;", database)
    assert out.strip().split("\t") == ["3", "账务一"]
    assert "MariaDB" in mariadb_sql(mariadb_server, "SELECT VERSION();")


def test_mariadb_wrong_password_is_refused(mariadb_server: MariaDbServer) -> None:
    impostor = dataclasses.replace(mariadb_server, password="not-the-password")
    with pytest.raises(RuntimeError, match="Access denied"):
        mariadb_sql(impostor, "SELECT 1;")


# --- S3 (SeaweedFS) ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def locked_bucket(s3_site_a: S3Server) -> str:
    return create_locked_bucket(s3_site_a, f"smoke-{uuid.uuid4().hex[:12]}")


def test_s3_put_with_sha256_checksum(s3_site_a: S3Server, locked_bucket: str) -> None:
    client = s3_client(s3_site_a)
    body = os.urandom(64 * 1024)
    put = client.put_object(
        Bucket=locked_bucket, Key="rp/data.bin", Body=body, ChecksumAlgorithm="SHA256"
    )
    assert put["ChecksumSHA256"] == sha256_b64(body)
    head = client.head_object(Bucket=locked_bucket, Key="rp/data.bin", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == sha256_b64(body)
    assert head["VersionId"] == put["VersionId"]


def test_s3_wrong_sha256_is_refused(s3_site_a: S3Server, locked_bucket: str) -> None:
    client = s3_client(s3_site_a)
    body = b"backup bytes"
    with pytest.raises(ClientError, match=r"\(BadDigest\)") as refused:
        client.put_object(
            Bucket=locked_bucket,
            Key="rp/bad.bin",
            Body=body,
            ChecksumSHA256=sha256_b64(body + b"tampered"),
        )
    assert refused.value.response["Error"]["Code"] == "BadDigest"
    with pytest.raises(ClientError, match=r"\(404\)") as missing:
        client.head_object(Bucket=locked_bucket, Key="rp/bad.bin")
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_s3_compliance_version_cannot_be_deleted_or_shortened(
    s3_site_a: S3Server, locked_bucket: str
) -> None:
    client = s3_client(s3_site_a)
    until = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    put = client.put_object(
        Bucket=locked_bucket,
        Key="rp/manifest.json",
        Body=b"{}",
        ChecksumAlgorithm="SHA256",
        ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate=until,
    )
    version = put["VersionId"]
    with pytest.raises(ClientError, match=r"\(AccessDenied\)") as delete_refused:
        client.delete_object(
            Bucket=locked_bucket,
            Key="rp/manifest.json",
            VersionId=version,
            BypassGovernanceRetention=True,
        )
    assert delete_refused.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError, match=r"\(AccessDenied\)") as shorten_refused:
        client.put_object_retention(
            Bucket=locked_bucket,
            Key="rp/manifest.json",
            VersionId=version,
            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until - timedelta(hours=12)},
        )
    assert shorten_refused.value.response["Error"]["Code"] == "AccessDenied"
    retention = client.get_object_retention(
        Bucket=locked_bucket, Key="rp/manifest.json", VersionId=version
    )["Retention"]
    assert retention["Mode"] == "COMPLIANCE"
    assert retention["RetainUntilDate"] == until


def test_two_s3_sites_are_independent(s3_site_a: S3Server, s3_site_b: S3Server) -> None:
    assert s3_site_a.endpoint_url != s3_site_b.endpoint_url
    bucket = create_locked_bucket(s3_site_b, f"offsite-{uuid.uuid4().hex[:12]}")
    names_b = {b["Name"] for b in s3_client(s3_site_b).list_buckets()["Buckets"]}
    names_a = {b["Name"] for b in s3_client(s3_site_a).list_buckets()["Buckets"]}
    assert bucket in names_b
    assert bucket not in names_a
    wrong_keys = dataclasses.replace(s3_site_b, secret_key=s3_site_a.secret_key)
    with pytest.raises(ClientError, match="when calling the ListBuckets operation") as refused:
        s3_client(wrong_keys).list_buckets()
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


# --- network namespaces ------------------------------------------------------------------------


def ssh_echo(host: SshHost, timeout: float) -> str:
    """Connect to host, run echo, return its output."""
    client = connect(host, timeout=timeout)
    try:
        return run_remote(client, "echo reachable").strip()
    finally:
        client.close()


def test_netns_partition_cuts_ssh_and_heal_restores(netns_hosts: dict[str, NetnsHost]) -> None:
    production = netns_hosts["production"]
    assert production.host.address.startswith("10.200.")
    addresses = {h.host.address for h in netns_hosts.values()}
    assert len(addresses) == len(netns_hosts)
    assert ssh_echo(production.host, timeout=5) == "reachable"

    production.partition("reset")
    try:
        with pytest.raises(
            paramiko.ssh_exception.NoValidConnectionsError, match="Unable to connect to port 22"
        ):
            ssh_echo(production.host, timeout=5)
        production.partition("drop")
        with pytest.raises((TimeoutError, OSError), match="timed out|Unable to connect"):
            ssh_echo(production.host, timeout=1)
        # The other hosts stay reachable while production is cut off.
        assert ssh_echo(netns_hosts["disaster_recovery"].host, timeout=5) == "reachable"
    finally:
        production.heal()
    assert not production.partitioned
    assert ssh_echo(production.host, timeout=5) == "reachable"


@pytest.mark.netns
def test_stale_namespace_sweep_deletes_only_dead_sessions() -> None:
    require_root("network namespaces (stale sweep)")
    require_binary("ip")
    dead_pid = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1
    stale = f"{NETNS_PREFIX}{dead_pid}h1"
    live = f"{session_prefix()}h{MAX_INDEX}"
    for name in (stale, live):
        ip("netns", "add", name)
    try:
        swept = sweep_stale_namespaces()
        remaining = list_namespaces()
    finally:
        for name in set(list_namespaces()) & {stale, live}:
            delete_namespace(name)
    assert stale in swept
    assert stale not in remaining
    assert live in remaining
