"""open_store and check_store from a real dr.yml: S3 (SeaweedFS, credentials from AWS profiles)
and SFTP (sshd) stores, and what check-config reports about them."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.actions.sandbox import make_config, make_inventory
from orchestrator.actions.store_checks import check_store
from orchestrator.integrations.stores import Store, open_store
from orchestrator.integrations.stores.s3 import S3Store
from orchestrator.integrations.stores.sftp import SftpStore
from orchestrator.rules.rotation import lock_seconds
from orchestrator.site import LoadedSite, load_site
from tests.fixtures.hosts import SshHost
from tests.fixtures.process import free_port
from tests.fixtures.s3 import S3Server, create_locked_bucket, s3_client


def use_profiles(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, servers: dict[str, S3Server]
) -> None:
    """Point the standard AWS chain at a credentials file with one profile per server."""
    lines = []
    for profile, server in servers.items():
        lines += [
            f"[{profile}]",
            f"aws_access_key_id = {server.access_key}",
            f"aws_secret_access_key = {server.secret_key}",
            "",
        ]
    credentials = tmp_path / "aws-credentials"
    credentials.write_text("\n".join(lines))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config-absent"))
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)


def write_config(tmp_path: Path, stores: list[dict[str, Any]]) -> LoadedSite:
    data = make_config(tmp_path)
    data["stores"] = stores
    (tmp_path / "inventory.ini").write_text(make_inventory("/usr/bin/python3"))
    path = tmp_path / "dr.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return load_site(path)


def open_named(site: LoadedSite, name: str) -> Store:
    return open_store(site.config.store_settings(name, lock_seconds(site.pack)))


def check(site: LoadedSite, name: str) -> list[str]:
    return check_store(site.config, site.pack, name)


def s3_store(name: str, site: str, server: S3Server, bucket: str, profile: str) -> dict[str, Any]:
    return {
        "name": name,
        "site": site,
        "url": f"s3://{bucket}/dr",
        "profile": profile,
        "endpoint_url": server.endpoint_url,
        "region": server.region,
    }


def sites(tmp_path: Path) -> tuple[str, str]:
    data = make_config(tmp_path)
    return data["sites"][0]["name"], data["sites"][1]["name"]  # type: ignore[index]


def test_check_store_says_what_a_plain_bucket_lacks(
    s3_site_a: S3Server, s3_site_b: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_profiles(monkeypatch, tmp_path, {"site-a": s3_site_a, "site-b": s3_site_b})
    plain = f"dr-plain-{uuid.uuid4().hex[:8]}"
    s3_client(s3_site_a).create_bucket(Bucket=plain)
    locked = create_locked_bucket(s3_site_b, f"dr-locked-{uuid.uuid4().hex[:8]}")
    production, offsite = sites(tmp_path)
    config = write_config(
        tmp_path,
        [
            s3_store("primary", production, s3_site_a, plain, "site-a"),
            s3_store("offsite", offsite, s3_site_b, locked, "site-b"),
        ],
    )
    store = open_named(config, "offsite")
    assert isinstance(store, S3Store)
    assert store.rotation_seconds == 7 * 86400
    problems = check(config, "primary")
    assert len(problems) == 2
    assert problems[0].startswith("stores[0] primary: bucket " + plain)
    assert "versioning is not enabled" in problems[0]
    assert "Object Lock is not enabled" in problems[1]
    assert check(config, "offsite") == []


def test_check_store_reports_an_unreachable_endpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, s3_site_a: S3Server
) -> None:
    use_profiles(monkeypatch, tmp_path, {"site-a": s3_site_a})
    gone = S3Server(f"http://127.0.0.1:{free_port()}", "x", "y")
    production, offsite = sites(tmp_path)
    config = write_config(
        tmp_path,
        [
            s3_store("primary", production, gone, "dr-a", "site-a"),
            s3_store("offsite", offsite, s3_site_a, "dr-b", "site-a"),
        ],
    )
    problems = check(config, "primary")
    assert len(problems) == 1 and gone.endpoint_url in problems[0]
    assert "unreachable" in problems[0]


def test_sftp_store_from_config_and_its_host_key_check(sshd_host: SshHost, tmp_path: Path) -> None:
    production, offsite = sites(tmp_path)
    url = f"sftp://{sshd_host.user}@{sshd_host.address}:{sshd_host.port}{sshd_host.root_dir}/st"
    stores = [
        {"name": "primary", "site": production, "url": f"file://{tmp_path}/primary"},
        {
            "name": "offsite",
            "site": offsite,
            "url": url,
            "known_hosts": str(sshd_host.known_hosts),
            "private_key": str(sshd_host.client_key),
        },
    ]
    config = write_config(tmp_path, stores)
    store = open_named(config, "offsite")
    assert isinstance(store, SftpStore) and store.root == f"{sshd_host.root_dir}/st"
    assert check(config, "offsite") == []
    assert check(config, "primary") == []
    stores[1]["known_hosts"] = str(sshd_host.wrong_known_hosts)
    problems = check(write_config(tmp_path, stores), "offsite")
    assert len(problems) == 1
    assert problems[0].startswith("stores[1] offsite:")
    assert "does not match known_hosts file" in problems[0]
