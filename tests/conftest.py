"""Session fixtures for the real test bed: sshd hosts, PostgreSQL, MariaDB, SeaweedFS S3, netns.

Every fixture is session-scoped and lazy: a daemon starts only when a test asks for it, runs as
our child on free ports, and is stopped by PID at session end. Start-up times are printed in the
terminal summary. Tests that use these fixtures are marked `services` (and `netns`) here.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import Phase, settings

from tests.fixtures.databases import (
    MariaDbServer,
    PostgresServer,
    mariadb_running,
    postgres_running,
)
from tests.fixtures.hosts import SshHost, generate_key, sshd_running
from tests.fixtures.netns import (
    NetnsHost,
    free_subnet_index,
    netns_host,
    session_prefix,
    sweep_stale_namespaces,
)
from tests.fixtures.process import require_binary, require_root
from tests.fixtures.s3 import S3Server, seaweedfs_running

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Tests assert behaviour, not timings: a loaded machine (2 cores shared by many runs) must not
# turn a slow example into a failure, so no property test has a deadline.
settings.register_profile("dr", deadline=None)
# `make mutation` sets DRCTL_HYPOTHESIS_PROFILE=mutation: the first failing example kills a
# mutant, so the shrink and explain phases (which only make a failure readable, and took most
# of a killed planner mutant's time) are skipped. The examples generated are the same.
settings.register_profile(
    "mutation",
    parent=settings.get_profile("dr"),
    phases=[phase for phase in Phase if phase not in (Phase.shrink, Phase.explain)],
)
settings.load_profile(os.environ.get("DRCTL_HYPOTHESIS_PROFILE", "dr"))

SERVICE_FIXTURES = {
    "sshd_host",
    "sshd_host_b",
    "postgres_server",
    "postgres_server_b",
    "mariadb_server",
    "mariadb_server_b",
    "s3_site_a",
    "s3_site_b",
    "netns_hosts",
}
NETNS_HOST_ROLES = ("production", "disaster_recovery", "verification")
STARTUP_SECONDS: dict[str, float] = {}


def pytest_sessionstart(session: pytest.Session) -> None:
    """Delete network namespaces left behind by earlier, dead test sessions (root only)."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return
    try:
        swept = sweep_stale_namespaces()
    except RuntimeError as error:
        logger.warning("stale namespace sweep failed: %s", error)
        return
    if swept:
        logger.warning("deleted stale test namespaces: %s", ", ".join(swept))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests that use a real-service fixture `services`, and netns users `netns`."""
    for item in items:
        used = set(getattr(item, "fixturenames", ())) & SERVICE_FIXTURES
        if used:
            item.add_marker(pytest.mark.services)
        if "netns_hosts" in used:
            item.add_marker(pytest.mark.netns)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In a pytest-xdist worker, hand this worker's service start-up times to the controller."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["startup_seconds"] = dict(STARTUP_SECONDS)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    """In the pytest-xdist controller, keep a finished worker's start-up times (name@worker)."""
    output = getattr(node, "workeroutput", {})
    worker = getattr(getattr(node, "gateway", None), "id", "worker")
    for name, seconds in output.get("startup_seconds", {}).items():
        STARTUP_SECONDS[f"{name}@{worker}"] = seconds


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Report how long each started test service took to become ready."""
    if not STARTUP_SECONDS:
        return
    terminalreporter.section("test service start-up times")
    for name, seconds in sorted(STARTUP_SECONDS.items()):
        terminalreporter.write_line(f"{name:<30} {seconds:6.2f} s")


def start_timed(stack: ExitStack, name: str, manager: AbstractContextManager[T]) -> T:
    """Enter manager on stack, recording how long it took under name; return its value."""
    started = time.monotonic()
    value = stack.enter_context(manager)
    STARTUP_SECONDS[name] = time.monotonic() - started
    logger.info("%s ready in %.2f s", name, STARTUP_SECONDS[name])
    return value


def serve(name: str, manager: AbstractContextManager[T]) -> Iterator[T]:
    """Yield manager's value for a session fixture, timing its start and closing it after."""
    with ExitStack() as stack:
        yield start_timed(stack, name, manager)


@pytest.fixture(scope="session")
def ssh_client_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return one ed25519 client key accepted by every test sshd (like an orchestrator's key)."""
    key = tmp_path_factory.mktemp("ssh-client") / "id_ed25519"
    generate_key(key, "drctl-test-client")
    return key


@pytest.fixture(scope="session")
def sshd_host(tmp_path_factory: pytest.TempPathFactory, ssh_client_key: Path) -> Iterator[SshHost]:
    """An sshd on 127.0.0.1 (free port) with strict known_hosts; yields its SshHost."""
    root = tmp_path_factory.mktemp("sshd-a")
    yield from serve("sshd_host", sshd_running(root, "host-a", client_key=ssh_client_key))


@pytest.fixture(scope="session")
def sshd_host_b(
    tmp_path_factory: pytest.TempPathFactory, ssh_client_key: Path
) -> Iterator[SshHost]:
    """A second, independent sshd on 127.0.0.1 (its own host key and port)."""
    root = tmp_path_factory.mktemp("sshd-b")
    yield from serve("sshd_host_b", sshd_running(root, "host-b", client_key=ssh_client_key))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL 15 cluster (site A)."""
    yield from serve("postgres_server", postgres_running())


@pytest.fixture(scope="session")
def postgres_server_b() -> Iterator[PostgresServer]:
    """A second PostgreSQL 15 cluster (site B)."""
    yield from serve("postgres_server_b", postgres_running())


@pytest.fixture(scope="session")
def mariadb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDbServer]:
    """A MariaDB server (site A)."""
    root = tmp_path_factory.mktemp("mariadb-a")
    yield from serve("mariadb_server", mariadb_running(root))


@pytest.fixture(scope="session")
def mariadb_server_b(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDbServer]:
    """A second MariaDB server (site B)."""
    root = tmp_path_factory.mktemp("mariadb-b")
    yield from serve("mariadb_server_b", mariadb_running(root))


@pytest.fixture(scope="session")
def s3_site_a(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """SeaweedFS S3 for the primary (production) site."""
    root = tmp_path_factory.mktemp("s3-site-a")
    yield from serve("s3_site_a", seaweedfs_running(root, "site-a"))


@pytest.fixture(scope="session")
def s3_site_b(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """SeaweedFS S3 for the off-site (disaster-recovery) site."""
    root = tmp_path_factory.mktemp("s3-site-b")
    yield from serve("s3_site_b", seaweedfs_running(root, "site-b"))


@pytest.fixture(scope="session")
def netns_hosts(
    tmp_path_factory: pytest.TempPathFactory, ssh_client_key: Path
) -> Iterator[dict[str, NetnsHost]]:
    """Three sshd hosts, each in its own network namespace (root only), keyed by role.

    Roles: production, disaster_recovery, verification; each host at 10.200.<i>.2:22 and able
    to be partitioned with nftables. Namespaces are deleted at session end.
    """
    require_root("network namespaces (netns_hosts)")
    require_binary("ip")
    require_binary("nft")
    with ExitStack() as stack:
        hosts: dict[str, NetnsHost] = {}
        started = time.monotonic()
        for role in NETNS_HOST_ROLES:
            manager = new_netns_host(tmp_path_factory, role, ssh_client_key, hosts.values())
            hosts[role] = stack.enter_context(manager)
        STARTUP_SECONDS["netns_hosts"] = time.monotonic() - started
        yield hosts


def new_netns_host(
    tmp_path_factory: pytest.TempPathFactory,
    role: str,
    client_key: Path,
    existing: Iterable[NetnsHost],
) -> AbstractContextManager[NetnsHost]:
    """Return a context manager for one more namespace host on the next free 10.200.<i> subnet."""
    index = free_subnet_index(exclude={host.index for host in existing})
    root = tmp_path_factory.mktemp(f"netns-{role}")
    return netns_host(session_prefix(), index, root, client_key=client_key)
