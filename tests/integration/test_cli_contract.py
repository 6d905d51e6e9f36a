"""The exit-code contract, end to end: the real `drctl` console script, run as a subprocess,
against conditions an operator meets — a corrupt catalog, a busy job, a port in use, a full
store, a terminal that cannot show Chinese, an unknown --system/--dataset. Each ends with the
contract's exit code, one `error:` line, and never a Python traceback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.actions.workload import run_workload
from orchestrator.model import catalog as cat
from orchestrator.model import schema
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.fixtures.process import free_port, require_binary, require_root

DRCTL = str(Path(sys.executable).parent / "drctl")
ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}


def drctl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed console script; return the finished process (text output)."""
    return subprocess.run(
        [DRCTL, *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env or ENV,
        encoding="utf-8",
        errors="strict",
    )


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    return prepare_sandbox(tmp_path / "sb")


@pytest.fixture
def upgraded(sandbox: Path) -> Path:
    """The sandbox with its catalog made, so commands that only read can run."""
    result = drctl("-c", str(sandbox), "catalog", "upgrade")
    assert result.returncode == 0, result.stderr
    return sandbox


def test_global_options_work_before_and_after_the_command(upgraded: Path) -> None:
    sandbox = upgraded
    before = drctl(
        "-c", str(sandbox), "--json", "calendar", "working-days", "2024-02-09", "2024-02-18"
    )
    after = drctl(
        "calendar", "working-days", "2024-02-09", "2024-02-18", "--json", "-c", str(sandbox)
    )
    assert before.returncode == after.returncode == 0, before.stderr + after.stderr
    assert json.loads(before.stdout) == json.loads(after.stdout)
    assert json.loads(after.stdout)["working_days"] == 1
    # an option given before the command is not reset by the command's own parser
    status = drctl("-c", str(sandbox), "status", "--json")
    assert status.returncode in (0, 1), status.stderr
    assert "findings" in json.loads(status.stdout)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("backup", "--system", "nope"), "--system: no system named 'nope'"),
        (("copy-offsite", "--system", "nope"), "--system: no system named 'nope'"),
        (("backup", "--dataset", "nope"), "--dataset: no dataset named 'nope'"),
    ],
)
def test_unknown_system_or_dataset_is_a_usage_error(
    sandbox: Path, args: tuple[str, ...], named: str
) -> None:
    result = drctl("-c", str(sandbox), *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert named in result.stderr
    no_traceback(result)
    assert not (sandbox.parent / "state" / "catalog.sqlite").exists()  # nothing written


def test_json_errors_are_one_envelope_on_stdout(sandbox: Path) -> None:
    usage = drctl("--json", "-c", str(sandbox), "backup", "--system", "nope")
    parse = drctl("--json", "backup", "--no-such-option")
    missing = drctl("-c", str(sandbox.parent / "absent.yml"), "status", "--json")
    for result, code, kind in ((usage, 2, "usage"), (parse, 2, "usage"), (missing, 2, "usage")):
        assert result.returncode == code, result.stderr
        envelope = json.loads(result.stdout)
        assert envelope["ok"] is False and envelope["exit_code"] == code
        assert envelope["error"]["kind"] == kind and envelope["error"]["message"]
        assert set(envelope) == {"ok", "command", "exit_code", "error"}
        assert set(envelope["error"]) == {"kind", "type", "message", "source", "problems"}
        assert result.stderr.startswith("error: ") or "usage:" not in result.stdout
        no_traceback(result)
    assert usage.stdout and json.loads(usage.stdout)["command"] == "backup"
    assert any("--system" in p for p in json.loads(usage.stdout)["error"]["problems"])


def test_corrupt_catalog_is_an_infrastructure_error(sandbox: Path) -> None:
    state = sandbox.parent / "state"
    state.mkdir(parents=True, exist_ok=True)
    (state / "catalog.sqlite").write_bytes(b"this is not a database, it was overwritten" * 100)
    for command in (("status",), ("backup",), ("--json", "run-due", "--plan")):
        result = drctl("-c", str(sandbox), *command)
        assert result.returncode == 3, result.stdout + result.stderr
        # One line naming the catalog, what is wrong and what to do (docs/cli.md).
        assert f"error: catalog unusable: sqlite:///{state}/catalog.sqlite is damaged" in (
            result.stderr
        )
        assert "(file is not a database)" in result.stderr and "catalog rebuild" in result.stderr
        assert "please report" not in result.stderr
        no_traceback(result)


def test_a_busy_job_is_reported_not_raised(sandbox: Path) -> None:
    site = load_site(sandbox)
    with open_runtime(site) as runtime, runtime.catalog.begin() as connection:
        connection.execute(  # a live process (this one) holds the dry-run's lock
            schema.jobs.insert().values(
                kind="retention_dry_run",
                subject="all",
                state="running",
                lock_key="retention_dry_run:all",
                owner=f"{socket.gethostname()}:{os.getpid()}",
                started_at=cat.now(),
            )
        )
    result = drctl("-c", str(sandbox), "retention", "--dry-run")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "retention_dry_run all is already running" in result.stderr
    no_traceback(result)


def test_a_port_in_use_is_an_infrastructure_error(upgraded: Path) -> None:
    sandbox = upgraded
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        result = drctl("-c", str(sandbox), "metrics", "--listen", f"127.0.0.1:{port}")
    assert result.returncode == 3, result.stdout + result.stderr
    assert f"--listen 127.0.0.1:{port}: cannot serve /metrics" in result.stderr
    assert "in use" in result.stderr
    no_traceback(result)


def test_a_terminal_that_cannot_show_chinese_gets_escapes_not_a_crash(upgraded: Path) -> None:
    sandbox = upgraded
    latin = {**ENV, "PYTHONIOENCODING": "latin-1"}
    text = subprocess.run(
        [DRCTL, "-c", str(sandbox), "status"], capture_output=True, env=latin, timeout=600
    )
    assert text.returncode in (0, 1), text.stderr
    output = text.stdout.decode("latin-1")
    assert "\\u7b26\\u5408" in output or "\\u65e0\\u6cd5\\u5224\\u5b9a" in output  # 符合 / 无法判定
    assert b"Traceback" not in text.stderr
    as_json = subprocess.run(
        [DRCTL, "-c", str(sandbox), "--json", "status"], capture_output=True, env=latin, timeout=600
    )
    assert as_json.returncode == text.returncode
    findings = json.loads(as_json.stdout.decode("latin-1"))["findings"]
    assert any(f["status_zh"] in ("符合", "无法判定", "不适用", "部分符合") for f in findings)
    error = subprocess.run(
        [
            DRCTL,
            "-c",
            str(sandbox),
            "plan",
            "switchover",
            "--start",
            "x",
            "--end",
            "y",
            "--notice-date",
            "z",
        ],
        capture_output=True,
        env=latin,
        timeout=600,
    )
    assert error.returncode == 2 and b"Traceback" not in error.stderr


@pytest.fixture
def tiny_store(sandbox: Path) -> Iterator[Path]:
    """The sandbox's primary store on a 64 KiB tmpfs (root only), unmounted afterwards."""
    require_root("mounting a small tmpfs as a full store")
    require_binary("mount")
    root = sandbox.parent / "stores" / "primary"
    root.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(root)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"SERVICE UNAVAILABLE: cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield root
    finally:
        subprocess.run(["umount", str(root)], check=True)


def test_a_full_store_is_an_infrastructure_error(sandbox: Path, tiny_store: Path) -> None:
    with open_runtime(load_site(sandbox)) as runtime:
        run_workload(runtime, "core-banking", "production", "ledger", postings=2000, seed=3)
    result = drctl("-c", str(sandbox), "backup")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "store primary: cannot write" in result.stderr
    assert "No space left on device" in result.stderr
    no_traceback(result)
    with open_runtime(load_site(sandbox)) as runtime, runtime.catalog.begin() as connection:
        jobs = list(connection.execute(schema.jobs.select()))
        points = cat.list_recovery_points(connection)
    # The ledger did not fit and counts nothing; a small dataset that did fit is backed up on
    # its own (issue 9: one dataset's failure does not stop the others), manifest and all.
    assert "ledger" not in {point.dataset for point in points}
    for point in points:
        assert (tiny_store / point.system / point.dataset / point.id / "manifest.json").is_file()
    assert [(j.kind, j.state, j.lock_key) for j in jobs] == [("backup", "failed", None)]
    assert "No space left on device" in (jobs[0].error or "")


def test_an_unreachable_store_fails_the_backup_before_any_playbook_runs(sandbox: Path) -> None:
    """Fail early (issue 15): the store is probed before a host dumps a byte; no playbook
    runs, so no Ansible event log is written."""
    root = sandbox.parent / "stores" / "primary"
    root.rmdir()  # as an unmounted share: the store's root is gone
    result = drctl("-c", str(sandbox), "backup")
    assert result.returncode == 3, result.stdout + result.stderr
    assert f"store primary: root {root} is not reachable" in result.stderr
    no_traceback(result)
    state = load_site(sandbox).config.state_dir
    assert not list((state / "work" / "events").glob("*.jsonl"))
    root.mkdir()  # back: the dump playbook runs (this fresh sandbox has no data to back up)
    drctl("-c", str(sandbox), "backup")
    assert list((state / "work" / "events").glob("*.jsonl"))


@pytest.mark.parametrize(
    ("key", "content", "problem"),
    [
        ("manifest-ed25519.pem", b"not a key", "manifest_signing.key"),
        ("kek.hex", "密钥".encode() * 8, "expected 64 hex chars"),
    ],
)
def test_a_malformed_backup_key_is_a_usage_error_with_nothing_written(
    sandbox: Path, key: str, content: bytes, problem: str
) -> None:
    """The manifest signing key and the key-encryption key are checked before the catalog
    opens: a backup or scheduler pass that cannot sign or encrypt writes no catalog, job row
    or work directory (exit 2 means nothing was written)."""
    path = sandbox.parent.parent / "keys" / key
    path.write_bytes(content)
    state = sandbox.parent / "state"
    for command in (("backup",), ("run-due",), ("--json", "backup")):
        result = drctl("-c", str(sandbox), *command)
        assert result.returncode == 2, result.stdout + result.stderr
        assert problem in result.stderr
        no_traceback(result)
        assert not (state / "catalog.sqlite").exists() and not (state / "work").exists()


def test_a_state_dir_that_is_a_file_is_a_usage_error(sandbox: Path) -> None:
    """dr.yml's state_dir naming a file (or a path through one) is the operator's config, not
    a broken disk: exit 2 naming the setting, and the file is left as it was."""
    text = sandbox.read_text(encoding="utf-8")
    a_file = sandbox.parent / "not-a-directory"
    a_file.write_text("x")
    for state_dir in (a_file, a_file / "state"):
        sandbox.write_text(text.replace("state_dir: state", f"state_dir: {state_dir}"))
        for command in (("status",), ("backup",)):
            result = drctl("-c", str(sandbox), *command)
            assert result.returncode == 2, result.stdout + result.stderr
            assert f"state_dir: {state_dir}" in result.stderr
            no_traceback(result)
    assert a_file.read_text() == "x"


def test_sigterm_during_a_playbook_ends_the_command_as_interrupted(sandbox: Path) -> None:
    """SIGTERM (systemd stopping the unit) mid-backup ends drctl as Ctrl-C does: exit 130, the
    job recorded aborted, the playbook's processes gone. ansible-runner took SIGTERM and SIGINT
    for itself and never gave them back: the run was 'canceled after 3600s' (exit 3) and every
    later Ctrl-C of the command was ignored."""
    with open_runtime(load_site(sandbox)) as runtime:
        run_workload(runtime, "core-banking", "production", "ledger", postings=20000, seed=3)
    events = sandbox.parent / "state" / "work" / "events"
    before = set(events.glob("*.jsonl"))  # the workload's own playbook run
    process = subprocess.Popen(
        [DRCTL, "-c", str(sandbox), "backup"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    deadline = time.monotonic() + 120
    while set(events.glob("*.jsonl")) == before and time.monotonic() < deadline:
        time.sleep(0.05)  # polling for the playbook to start, not waiting for a result
    assert process.poll() is None, process.communicate()
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stdout + stderr
    assert "error: interrupted" in stderr and "canceled after" not in stderr
    no_traceback(subprocess.CompletedProcess([], 130, stdout, stderr))
    with open_runtime(load_site(sandbox)) as runtime, runtime.catalog.begin() as connection:
        jobs = list(connection.execute(schema.jobs.select()))
    assert [(j.kind, j.state, j.error) for j in jobs] == [
        ("backup", "failed", "aborted: KeyboardInterrupt")
    ]
    left = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(sandbox.parent) not in left
