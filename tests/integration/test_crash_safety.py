"""Crash- and concurrency-safety on the real test bed: a `drctl` killed with SIGKILL in the
middle of its work, on sshd hosts, PostgreSQL and SeaweedFS S3.

Each test starts the real command as a subprocess, polls for a marker of the moment it wants
(never a blind sleep), kills it with SIGKILL, checks what was left, then runs the next command
and checks what it cleaned, what it reported and that it succeeded.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from orchestrator.model import schema
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.fixtures.databases import PostgresServer, psql
from tests.fixtures.hosts import SshHost
from tests.fixtures.real_site import (
    DB_USER,
    build_config,
    new_database_name,
    pg_create_owned_database,
)
from tests.fixtures.s3 import S3Server, s3_client
from tests.integration.test_real_site import (  # noqa: F401 - fixtures used by name
    db_password,
    grep_secret,
    passwords,
    pg_sites,
    recorded_points,
    s3_stores,
    seed_pg_ledger,
    site_beds,
)

POLL_SECONDS = 0.05
MARKER_TIMEOUT_SECONDS = 240.0


def drctl(config_path: Path, *args: str) -> subprocess.Popen[str]:
    """Start `drctl -c config ARGS…` as a child process (the real console entry point)."""
    return subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "-c", str(config_path), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=900)
    return process.returncode, out, err


def wait_for(what: str, condition: Callable[[], bool], process: subprocess.Popen[str]) -> None:
    """Poll condition until it holds; fail if the process ends first or time runs out."""
    deadline = time.monotonic() + MARKER_TIMEOUT_SECONDS
    while not condition():
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"drctl ended before {what}: {process.returncode}\n{out}\n{err}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(POLL_SECONDS)


def descendants(pid: int) -> set[int]:
    """Return the pids of every live descendant of pid (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.add(child)
            stack.append(child)
    return found


def kill_hard(process: subprocess.Popen[str], also: Callable[[], None] | None = None) -> None:
    """SIGKILL the drctl process alone (as the OOM killer would), then whatever `also` kills,
    and wait until every process drctl had started has gone too (they lose their terminal and
    die of SIGHUP)."""
    orphans = descendants(process.pid)
    process.send_signal(signal.SIGKILL)
    if also is not None:
        also()
    process.communicate(timeout=60)
    deadline = time.monotonic() + 120
    while any(Path(f"/proc/{pid}").exists() for pid in orphans):
        assert time.monotonic() < deadline, f"children of the killed drctl still run: {orphans}"
        time.sleep(POLL_SECONDS)


def hold_children(process: subprocess.Popen[str]) -> Callable[[], None]:
    """Stop (SIGSTOP) every process drctl has started, so the work it waits on (a playbook)
    cannot end while the test looks on; return what lets them go on, for kill_hard's `also`:
    after drctl's SIGKILL they then die as in a crash. drctl itself runs on."""
    held = descendants(process.pid)
    for pid in held:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGSTOP)

    def release() -> None:
        for pid in held:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    return release


def kill_host_work(host: SshHost) -> None:
    """SIGKILL everything running in the host's SSH sessions (its sshd daemon stays): the work
    a playbook had going there dies as in a crash of that host, without any cleanup."""
    daemon = int((host.root_dir / "sshd.pid").read_text().split()[0])
    for pid in descendants(daemon):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def seed_big_ledger(server: PostgresServer, database: str) -> None:
    """The small ledger plus ~16 MiB of incompressible rows, so a dump or restore takes long
    enough to be caught in the middle."""
    seed_pg_ledger(server, database)
    psql(
        server,
        f"SET ROLE {DB_USER}; CREATE TABLE blobs (id int PRIMARY KEY, body bytea);"
        "INSERT INTO blobs SELECT i, decode(string_agg(md5(i::text || '-' || j::text), ''), "
        "'hex') FROM generate_series(1, 512) i, generate_series(1, 2048) j GROUP BY i;",
        database,
    )


def scratch_databases(server: PostgresServer, database: str) -> list[str]:
    """The scratch databases a restore of database left on server (`<database>_dr_<hex>`)."""
    rows = psql(
        server,
        f"SELECT datname FROM pg_database WHERE datname LIKE '{database}\\_dr\\_%' ORDER BY 1;",
    )
    return rows.split()


def files_under(*roots: Path) -> list[Path]:
    return [path for root in roots if root.exists() for path in root.rglob("*") if path.is_file()]


def test_killed_verify_leaves_nothing_in_the_enclave_once_the_next_command_ran(
    tmp_path: Path,
    sshd_host: SshHost,
    sshd_host_b: SshHost,
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
) -> None:
    source, enclave_server = pg_sites
    database = pg_create_owned_database(source, new_database_name("corebank"))
    seed_big_ledger(source, database)
    config_path = build_config(
        tmp_path,
        site_beds(sshd_host, sshd_host_b, pg=pg_sites),
        stores=s3_stores,
        databases={"ledger": database},
        datasets=("ledger",),
    )
    code, out, err = finish(drctl(config_path, "backup"))
    assert code == 0, out + err
    enclave = load_site(config_path).config.model.site("verification")
    enclave_spool = Path(enclave.spool)

    # The check restores the ledger into a scratch database in the enclave: kill drctl there,
    # and the restore running on the enclave's host with it.
    verify = drctl(config_path, "verify")
    wait_for(
        "the restore in the enclave",
        lambda: bool(scratch_databases(enclave_server, database)),
        verify,
    )
    kill_hard(verify, also=lambda: kill_host_work(sshd_host_b))
    left = scratch_databases(enclave_server, database)
    assert left, "the kill came too late to leave anything (the test proves nothing)"
    assert files_under(enclave_spool), "the dump was not in the enclave's spool when killed"

    # The next command (a backup) cleans the enclave first and says so, then does its work.
    code, out, err = finish(drctl(config_path, "backup"))
    assert code == 0, out + err
    assert scratch_databases(enclave_server, database) == []
    assert files_under(enclave_spool) == []
    for name in left:
        assert f"cleaned scratch database {name} on {enclave.host}" in err
    assert f"directory {enclave_spool}/verify-core-banking on {enclave.host}" in err
    assert "left by verify" in err
    state = load_site(config_path).config.state_dir
    assert grep_secret([tmp_path, enclave_spool, state], passwords) == []


def secret_holders(config_path: Path, secrets: list[str]) -> list[str]:
    """Return every file drctl or ansible-runner could have written that holds a secret: the
    state dir (catalog, work dir, runner artifacts), evidence, host spools and data roots, and
    Ansible's temporary directories."""
    config = load_site(config_path).config
    roots = [config.state_dir, config.evidence_dir]
    for site in config.model.sites:
        roots += [Path(site.spool), Path(site.data_root)]
    roots += [Path(p) for p in ("/tmp/.dr-ansible", str(Path.home() / ".ansible"))]
    return [
        f"{path}: {secret[:4]}…"
        for path in files_under(*roots)
        for secret in secrets
        if secret.encode() in path.read_bytes()
    ]


def uploads_in_flight(server: S3Server, bucket: str) -> list[str]:
    return [
        u["Key"] for u in s3_client(server).list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    ]


def test_killed_backup_is_taken_over_cleaned_and_a_concurrent_one_refused(
    tmp_path: Path,
    sshd_host: SshHost,
    sshd_host_b: SshHost,
    s3_site_a: S3Server,
    pg_sites: tuple[PostgresServer, PostgresServer],  # noqa: F811
    passwords: str,  # noqa: F811
    s3_stores: dict[str, dict[str, object]],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = pg_sites[0]
    database = pg_create_owned_database(source, new_database_name("corebank"))
    seed_big_ledger(source, database)
    config_path = build_config(
        tmp_path,
        site_beds(sshd_host, sshd_host_b, pg=pg_sites),
        stores=s3_stores,
        databases={"ledger": database},
        datasets=("ledger",),
    )
    # The S3 secret is in drctl's environment too, as an operator's shell may have it.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_site_a.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_site_a.secret_key)
    secrets = [passwords, s3_site_a.secret_key]
    config = load_site(config_path).config
    runner_dir = config.state_dir / "work" / "runner"
    spool = Path(config.model.site("production").spool)
    bucket = str(s3_stores["primary"]["url"]).removeprefix("s3://").split("/")[0]

    # 1. While the first backup's playbook runs, its artifacts hold no secret; a second
    # backup is refused in one line naming the first; then the first is killed.
    first = drctl(config_path, "backup")
    wait_for(
        "the playbook's artifacts", lambda: any(runner_dir.glob("*/artifacts/*/command")), first
    )
    release = hold_children(first)  # the playbook cannot end before the kill
    assert secret_holders(config_path, secrets) == []
    code, out, err = finish(drctl(config_path, "backup"))
    assert code == 3, out + err
    assert err.strip().splitlines() == [err.strip()] and "Traceback" not in err
    assert f"pid {first.pid} since " in err and "already running" in err
    kill_hard(first, also=release)
    assert any(runner_dir.glob("*/artifacts/*/command"))  # left by the kill, and read below
    assert secret_holders(config_path, secrets) == []

    # 2. A backup killed while its dump is being uploaded leaves a multipart upload.
    second = drctl(config_path, "backup")
    wait_for("an upload in flight", lambda: bool(uploads_in_flight(s3_site_a, bucket)), second)
    kill_hard(second)
    assert uploads_in_flight(s3_site_a, bucket)
    assert files_under(spool)

    # 3. The next backup takes over, records both interrupted jobs aborted, cleans and says so.
    code, out, err = finish(drctl(config_path, "backup"))
    assert code == 0, out + err
    assert uploads_in_flight(s3_site_a, bucket) == []
    assert files_under(spool) == [] and not any(runner_dir.iterdir())
    assert f"pid {second.pid}" in err and "took over the lease" in err
    assert "cleaned unfinished writes under core-banking/ledger/" in err and "(upload " in err
    assert re.search(rf"cleaned directory {spool}/backup-core-banking-\S+ on prod-db-1", err)
    with open_runtime(load_site(config_path)) as runtime, runtime.catalog.begin() as c:
        rows = list(
            c.execute(
                select(schema.jobs).where(schema.jobs.c.kind == "backup").order_by(schema.jobs.c.id)
            )
        )
    assert [(r.state, r.holder_pid) for r in rows] == [
        ("aborted", first.pid),
        ("aborted", second.pid),
        ("succeeded", rows[2].holder_pid),
    ]
    assert all("nothing counted" in r.error for r in rows[:2])
    assert [p.status for p in recorded_points(config_path)] == ["complete"]
    assert secret_holders(config_path, secrets) == []
