"""The chain's anchor in a real S3 store (SeaweedFS): COMPLIANCE-locked objects the store itself
refuses to delete or shorten, and every way of hiding one found by `check_chain`."""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from orchestrator.errors import InputError
from orchestrator.evidence import sign
from orchestrator.evidence.anchor import S3Anchor
from orchestrator.evidence.chain_check import check_chain
from orchestrator.evidence.package import Package, write_package
from orchestrator.integrations.stores.s3 import S3Store
from tests.fixtures.s3 import S3Server, create_locked_bucket, s3_client

RETENTION_DAYS = 3653


def make_anchor(server: S3Server, *, locked: bool = True) -> S3Anchor:
    bucket = f"dr-anchor-{uuid.uuid4().hex[:10]}"
    if locked:
        create_locked_bucket(server, bucket)
    else:
        s3_client(server).create_bucket(Bucket=bucket)
    store = S3Store(
        "offsite",
        "disaster-recovery",
        bucket=bucket,
        prefix="core-banking",
        client=s3_client(server),
        rotation_seconds=7 * 86400.0,
        endpoint_url=server.endpoint_url,
        region=server.region,
    )
    return S3Anchor(store, "evidence-chain", RETENTION_DAYS)


@pytest.fixture
def key(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "evidence.pem"
    sign.create_signing_key(path)
    return path


def trust(key: Path) -> dict[str, str]:
    return {sign.fingerprint(sign.load_signing_key(key)): "test"}


def write(evidence_dir: Path, key: Path, anchor: S3Anchor, count: int) -> list[Package]:
    report = {"kind": "drill", "accountable_person": "王主任", "outcome": "passed"}
    return [
        write_package(evidence_dir, "drill", report, {}, key, anchor=anchor) for _ in range(count)
    ]


def versions(anchor: S3Anchor) -> list[dict[str, object]]:
    answer = anchor.store.client.list_object_versions(
        Bucket=anchor.store.bucket, Prefix=f"{anchor.prefix}/"
    )
    return sorted(answer.get("Versions", []), key=lambda v: str(v["Key"]))


def test_anchors_are_compliance_locked_and_the_store_refuses_to_remove_them(
    s3_site_a: S3Server, tmp_path: Path, key: Path
) -> None:
    anchor = make_anchor(s3_site_a)
    packages = write(tmp_path / "evidence", key, anchor, 2)
    assert all(p.anchor_error is None for p in packages)
    stored = versions(anchor)
    assert [str(v["Key"]).rsplit("/", 1)[-1] for v in stored] == [
        f"{n:08d}-{p.path.name}.json" for n, p in enumerate(packages, start=1)
    ]
    client, bucket = anchor.store.client, anchor.store.bucket
    chain = (tmp_path / "evidence" / "chain.jsonl").read_bytes().splitlines(keepends=True)
    for version, line in zip(stored, chain, strict=True):
        head = client.get_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
        assert head["Body"].read() == line
        assert head["ObjectLockMode"] == "COMPLIANCE"
        assert head["ObjectLockRetainUntilDate"] > datetime.now(UTC) + timedelta(
            days=RETENTION_DAYS - 1
        )
        with pytest.raises(ClientError, match="AccessDenied"):
            client.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
        with pytest.raises(ClientError, match="AccessDenied"):
            client.put_object_retention(
                Bucket=bucket,
                Key=version["Key"],
                VersionId=version["VersionId"],
                Retention={
                    "Mode": "COMPLIANCE",
                    "RetainUntilDate": datetime.now(UTC) + timedelta(days=1),
                },
            )
    assert versions(anchor) == stored
    result = check_chain(tmp_path / "evidence", trust(key), anchor)
    assert result.problems == [] and result.anchors == 2


def test_a_package_removed_from_the_end_is_found_through_the_locked_anchor(
    s3_site_a: S3Server, tmp_path: Path, key: Path
) -> None:
    anchor = make_anchor(s3_site_a)
    evidence_dir = tmp_path / "evidence"
    first, second, third = write(evidence_dir, key, anchor, 3)
    shutil.rmtree(third.path)
    third.tarball.unlink()
    chain = evidence_dir / "chain.jsonl"
    chain.write_text("".join(chain.read_text().splitlines(keepends=True)[:2]))
    problems = check_chain(evidence_dir, trust(key), anchor).problems
    assert any(
        f"anchors package {third.path.name} (manifest sha256 {third.manifest_sha256}) as line 3"
        in problem
        and "removed from the end of the chain" in problem
        for problem in problems
    ), problems


def test_a_delete_marker_or_a_second_version_cannot_hide_an_anchor(
    s3_site_a: S3Server, tmp_path: Path, key: Path
) -> None:
    anchor = make_anchor(s3_site_a)
    evidence_dir = tmp_path / "evidence"
    first, second = write(evidence_dir, key, anchor, 2)
    first_key, second_key = (str(v["Key"]) for v in versions(anchor))
    client, bucket = anchor.store.client, anchor.store.bucket
    client.delete_object(Bucket=bucket, Key=second_key)  # allowed: only adds a delete marker
    forged = json.dumps({"name": "forged"}).encode() + b"\n"
    client.put_object(Bucket=bucket, Key=first_key, Body=forged)  # allowed: a new version
    result = check_chain(evidence_dir, trust(key), anchor)
    assert sorted(result.problems) == sorted(
        [
            f"s3://{bucket}/{second_key}: hidden by 1 delete marker(s); someone tried to delete it",
            f"s3://{bucket}/{first_key}: 2 versions; someone wrote over it (the first is used)",
        ]
    )
    # The first version still anchors the chain: removing the last package is still found.
    shutil.rmtree(second.path)
    second.tarball.unlink()
    chain = evidence_dir / "chain.jsonl"
    chain.write_text(chain.read_text().splitlines(keepends=True)[0])
    problems = check_chain(evidence_dir, trust(key), anchor).problems
    assert any("removed from the end of the chain" in problem for problem in problems), problems


def test_a_bucket_without_object_lock_gets_no_anchor(
    s3_site_a: S3Server, tmp_path: Path, key: Path
) -> None:
    anchor = make_anchor(s3_site_a, locked=False)
    with pytest.raises(InputError, match="has no Object Lock"):
        anchor.require_object_lock()
    (package,) = write(tmp_path / "evidence", key, anchor, 1)
    assert package.path.is_dir()  # the run it records happened: the package stays
    assert package.anchor_error is not None and "has no Object Lock" in package.anchor_error
    assert versions(anchor) == []
    problems = check_chain(tmp_path / "evidence", trust(key), anchor).problems
    assert problems == [
        f"chain.jsonl line 1 ({package.path.name}): not anchored in {anchor.where}; "
        "run `drctl evidence anchor`"
    ]
