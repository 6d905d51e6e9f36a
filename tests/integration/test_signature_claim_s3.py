"""A signed point's `manifest.json.sig` and real SeaweedFS S3 with Object Lock, changed by
someone with write access to the stores and no key (the real sshd hosts, PostgreSQL and
documented dr.yml of tests/integration/test_trust_real.py):

* removed from a directory primary, the point is never copied to the locked off-site bucket,
  where a copy without its signature could never be mended and would be lost for recovery
  with the catalog (before the fix, the catalog vouched for the manifest and it was copied);
* hidden or replaced in a bucket, it is version drift, as before: `verify --all` reports it
  and reads the locked original, and a catalog rebuild trusts the oldest (locked) version, so
  the point, whose manifest says it is signed, comes back.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.site import load_site
from tests.fixtures.databases import PostgresServer
from tests.fixtures.hosts import SshHost
from tests.fixtures.s3 import S3Server, s3_client
from tests.integration.test_real_site import (  # noqa: F401 - fixtures used by name
    db_password,
    passwords,
    pg_sites,
    s3_stores,
    seed_pg_ledger,
    site_beds,
)
from tests.integration.test_trust_real import SYSTEM, ledger_site, points, run, run_json


def bucket_of(stores: dict[str, dict[str, object]], name: str) -> str:
    return str(stores[name]["url"]).removeprefix("s3://").split("/")[0]


def test_a_point_whose_signature_was_removed_is_never_copied_to_a_locked_bucket(
    tmp_path: Path,
    sshd_host: SshHost,
    sshd_host_b: SshHost,
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
    s3_site_b: S3Server,
    capsys: pytest.CaptureFixture[str],
) -> None:
    directory = tmp_path / "primary-store"
    directory.mkdir()
    stores = {
        "primary": {"url": directory.as_uri(), "endpoint_url": None, "region": None},
        "offsite": s3_stores["offsite"],
    }
    stores["primary"]["profile"] = None
    config_path, _ = ledger_site(tmp_path, (sshd_host, sshd_host_b), pg_sites, stores)
    config = str(config_path)
    assert main(["-c", config, "backup"]) == 0
    (point,) = points(config_path)
    (directory / SYSTEM / "ledger" / point.id / "manifest.json.sig").unlink()

    code, _out, err = run(capsys, "-c", config, "copy-offsite")
    assert code == 1, err
    assert "manifest.json.sig" in err and point.id in err
    client = s3_client(s3_site_b)
    listing = client.list_object_versions(
        Bucket=bucket_of(s3_stores, "offsite"), Prefix=f"core-banking/{SYSTEM}/ledger/{point.id}/"
    )
    assert listing.get("Versions", []) == [], listing  # nothing of it in the locked bucket
    assert points(config_path)[0].status == "bad"


def test_a_hidden_or_replaced_s3_signature_is_drift_and_the_locked_original_is_rebuilt(
    tmp_path: Path,
    sshd_host: SshHost,
    sshd_host_b: SshHost,
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
    s3_site_a: S3Server,
    s3_site_b: S3Server,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config_path, _ = ledger_site(tmp_path, (sshd_host, sshd_host_b), pg_sites, s3_stores)
    config = str(config_path)
    assert main(["-c", config, "backup"]) == 0
    assert main(["-c", config, "copy-offsite"]) == 0
    (point,) = points(config_path)
    key = f"core-banking/{SYSTEM}/ledger/{point.id}/manifest.json.sig"
    s3_client(s3_site_a).delete_object(Bucket=bucket_of(s3_stores, "primary"), Key=key)
    s3_client(s3_site_b).put_object(
        Bucket=bucket_of(s3_stores, "offsite"), Key=key, Body=b"\x00" * 64
    )

    # The catalog pins the versions drctl wrote: the locked originals verify, the new ones
    # are reported (and do not mark the point bad: its own bytes are intact).
    code, scan = run_json(capsys, "-c", config, "verify", "--all")
    assert code == 1, scan
    found = {(p["store"], p["file"], p["kind"]) for p in scan["problems"]}
    assert found == {
        ("primary", "manifest.json.sig", "delete-marker"),
        ("offsite", "manifest.json.sig", "overwritten"),
    }, scan["problems"]
    assert points(config_path)[0].status == "complete"

    catalog = Path(load_site(config_path).config.catalog_url.removeprefix("sqlite:///"))
    catalog.unlink()
    assert main(["-c", config, "catalog", "upgrade"]) == 0
    code, outcome = run_json(capsys, "-c", config, "catalog", "rebuild")
    assert code == 0, outcome
    assert (outcome["points"], outcome["copies"], outcome["not_recovered"]) == (1, 2, [])
    assert [row.id for row in points(config_path)] == [point.id]
