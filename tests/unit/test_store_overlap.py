"""An off-site store that is the primary under another name is the primary (store_overlap.py):
an SFTP host or S3 endpoint is compared by the machine it reaches and its port, not by how it
is spelt, so a copy that would land on the primary is never counted as off-site."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from orchestrator.addresses import CONTROLLER
from orchestrator.store_overlap import same_store_reason

# The sites' DNS as the controller sees it: dr-host is an alias of 10.0.0.5.
ZONE = {"dr-host": {"10.0.0.5"}, "dr-host.bank.example": {"10.0.0.5"}, "far-host": {"10.9.0.7"}}


def fake_machines(name: str) -> frozenset[str]:
    return frozenset(ZONE.get(name, {name}))


def store(endpoint_url: str | None = None, region: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(endpoint_url=endpoint_url, region=region)


SAME_SFTP = [
    ("sftp://backup@10.0.0.5/srv/dr", "sftp://backup@dr-host/srv/dr"),
    ("sftp://backup@dr-host/srv/dr", "sftp://backup@dr-host.bank.example/srv/dr/offsite"),
    ("sftp://backup@dr-host/srv/dr/", "sftp://other@10.0.0.5:22/srv//dr/./x/.."),
    ("sftp://backup@DR-HOST/srv/dr/offsite", "sftp://backup@10.0.0.5/srv/dr"),
]


@pytest.mark.parametrize(("primary", "offsite"), SAME_SFTP)
def test_same_store_reason_finds_an_sftp_alias_of_the_primary(primary: str, offsite: str) -> None:
    reason = same_store_reason(primary, offsite, store(), store(), fake_machines)
    assert reason is not None, (primary, offsite)
    assert "10.0.0.5" in reason and "port 22" in reason


APART_SFTP = [
    ("sftp://backup@dr-host/srv/dr", "sftp://backup@far-host/srv/dr"),
    ("sftp://backup@dr-host/srv/dr", "sftp://backup@10.0.0.5:2222/srv/dr"),
    ("sftp://backup@dr-host/srv/dr", "sftp://backup@10.0.0.5/srv/dr-offsite"),
    ("sftp://backup@dr-host/srv/dr", "sftp://backup@unknown-host/srv/dr"),
]


@pytest.mark.parametrize(("primary", "offsite"), APART_SFTP)
def test_same_store_reason_accepts_another_sftp_machine_port_or_path(
    primary: str, offsite: str
) -> None:
    assert same_store_reason(primary, offsite, store(), store(), fake_machines) is None


def test_same_store_reason_sees_localhost_and_127_0_0_1_as_one_machine() -> None:
    """Resolved for real: localhost and 127.0.0.1 (and ::1) are this controller everywhere."""
    reason = same_store_reason(
        "sftp://backup@localhost/srv/dr",
        "sftp://backup@127.0.0.1:22/srv/dr/offsite",
        store(),
        store(),
    )
    assert reason is not None and CONTROLLER in reason


def test_same_store_reason_compares_a_name_that_does_not_resolve_by_name() -> None:
    """A name the controller cannot resolve does not crash the check; it is itself."""
    apart = same_store_reason(
        "sftp://b@no-such-host.invalid/srv/dr", "sftp://b@127.0.0.1/srv/dr", store(), store()
    )
    same = same_store_reason(
        "sftp://b@no-such-host.invalid/srv/dr",
        "sftp://b@NO-SUCH-HOST.invalid/srv/dr/x",
        store(),
        store(),
    )
    too_long = "sftp://b@" + "a" * 64 + ".example/srv/dr"  # not even valid IDNA
    not_a_name = same_store_reason(too_long, "sftp://b@127.0.0.1/srv/dr", store(), store())
    assert apart is None and same is not None and not_a_name is None


SAME_S3 = [
    ("http://127.0.0.1:8333", "http://dr-host:8333", "s3://dr/points", "s3://dr/points"),
    ("http://10.0.0.5:8333", "http://dr-host.bank.example:8333/", "s3://dr", "s3://dr/offsite"),
    ("https://dr-host", "https://10.0.0.5:443", "s3://dr/a/b", "s3://dr/a"),
    ("http://dr-host", "http://10.0.0.5:80", "s3://dr/a", "s3://dr/a/"),
]


@pytest.mark.parametrize(("first", "second", "primary", "offsite"), SAME_S3)
def test_same_store_reason_finds_an_s3_endpoint_alias_of_the_primary(
    first: str, second: str, primary: str, offsite: str
) -> None:
    machines = {**ZONE, "127.0.0.1": {"10.0.0.5"}}  # the primary's endpoint, seen locally

    def resolver(name: str) -> frozenset[str]:
        return frozenset(machines.get(name, {name}))

    reason = same_store_reason(primary, offsite, store(first), store(second), resolver)
    assert reason is not None and "10.0.0.5" in reason


APART_S3 = [
    ("http://dr-host:8333", "http://far-host:8333", "s3://dr/points", "s3://dr/points"),
    ("http://dr-host:8333", "http://10.0.0.5:8334", "s3://dr/points", "s3://dr/points"),
    ("http://dr-host:8333", "http://10.0.0.5:8333", "s3://dr/points", "s3://dr-offsite/points"),
    ("http://dr-host:8333", "http://10.0.0.5:8333", "s3://dr/points", "s3://dr/points-offsite"),
    ("http://dr-host:8333", "https://10.0.0.5", "s3://dr/points", "s3://dr/points"),
]


@pytest.mark.parametrize(("first", "second", "primary", "offsite"), APART_S3)
def test_same_store_reason_accepts_another_s3_machine_port_bucket_or_prefix(
    first: str, second: str, primary: str, offsite: str
) -> None:
    reason = same_store_reason(primary, offsite, store(first), store(second), fake_machines)
    assert reason is None


def test_same_store_reason_sees_localhost_and_127_0_0_1_endpoints_as_one_s3_server() -> None:
    reason = same_store_reason(
        "s3://dr/points",
        "s3://dr/points/offsite",
        store("http://127.0.0.1:8333"),
        store("http://localhost:8333"),
    )
    assert reason is not None and CONTROLLER in reason


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (store(region="eu-west-1"), store(region="us-east-1")),
        (store(), store("https://s3.eu-west-1.amazonaws.com", "eu-west-1")),
        (store(region="cn-north-1"), store("https://s3.cn-northwest-1.amazonaws.com.cn")),
        (store(region="us-gov-west-1"), store("https://s3-fips.us-gov-east-1.amazonaws.com")),
        (store(region="CN-north-1"), store("https://S3.cn-north-1.amazonaws.com.cn.")),
    ],
)
def test_same_store_reason_sees_one_aws_bucket_whatever_the_region(
    first: SimpleNamespace, second: SimpleNamespace
) -> None:
    """A bucket name is unique in its AWS partition: a second region is the same bucket."""

    def never(name: str) -> frozenset[str]:
        raise AssertionError(f"AWS endpoints are not resolved: {name}")

    assert same_store_reason("s3://dr/points", "s3://dr/points", first, second, never)


def test_same_store_reason_keeps_aws_partitions_and_other_endpoints_apart() -> None:
    cases = [
        (store(region="us-east-1"), store(region="cn-north-1")),
        (store(region="us-east-1"), store("http://127.0.0.1:8333")),
        (store(region="us-east-1"), store("https://s3.us-gov-west-1.amazonaws.com")),
    ]
    for first, second in cases:
        assert same_store_reason("s3://dr/p", "s3://dr/p", first, second) is None, (first, second)


def test_same_store_reason_resolves_an_endpoint_whose_name_begins_with_aws() -> None:
    """Only AWS partitions go unresolved: a bank's own endpoint named aws… is a machine."""

    def machines(name: str) -> frozenset[str]:
        return frozenset({"10.0.0.9"}) if name in ("awsgw.bank.local", "10.0.0.9") else frozenset()

    reason = same_store_reason(
        "s3://dr/points",
        "s3://dr/points",
        store("http://awsgw.bank.local:8333"),
        store("http://10.0.0.9:8333"),
        machines,
    )
    assert reason is not None and "10.0.0.9" in reason
