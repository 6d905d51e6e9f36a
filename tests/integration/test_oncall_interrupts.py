"""The on-call faults of a check that has already found a mismatch, on a real sandbox with
real `drctl` processes (docs/cli.md, "A check stopped after it found a mismatch"): a data
mismatch is always exit 1.

* Ctrl-C (SIGINT) or SIGTERM after the mismatch was found — once, or a second one while the
  findings are recorded: exit 1 naming the mismatch, the point recorded bad, never 130. The
  pause point is real: the test holds the evidence chain's writers' lock, so drctl, having
  found the mismatch, waits for it writing the failure package; the test sees it waiting in
  /proc/locks (a readiness poll, no sleep) and interrupts it there.
* the catalog locked (the test holds a write transaction, `BEGIN IMMEDIATE`) when the result is
  recorded: exit 1, CatalogUnwritten naming the mismatch and the catalog, on one line; and a
  command stopped by the locked catalog before any check (exit 3) says so on one line too.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import select

from orchestrator.actions import verify_all, verify_sample
from orchestrator.actions.backup import run_backup
from orchestrator.actions.copy_offsite import run_copy_offsite
from orchestrator.evidence.chain_lock import LOCK_FILE
from orchestrator.model import schema
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.fixtures.process import wait_until
from tests.integration.test_failed_check_stays import SEED, corrupt_a_sampled_point, run
from tests.integration.test_verify_sample import (
    SYSTEM,
    a_data_file,
    build_sandbox,
    flip_byte,
    point_dir,
)


def drctl(config_path: Path, *args: str) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "orchestrator", "-c", str(config_path), *args]
    return subprocess.Popen(  # noqa: S603 - argv list
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def remove_a_file(config_path: Path) -> tuple[str, str]:
    """Delete a data file of the primary store's newest ledger point (a `missing` file marks
    the point bad); return (point id, the file's path inside the point)."""
    point = point_dir(config_path, "primary", "ledger")
    path, relative = a_data_file(point)
    path.unlink()
    return point.name, relative


@contextmanager
def chain_lock_held(config_path: Path) -> Iterator[None]:
    """Hold the evidence chain's writers' lock (every package write waits for it)."""
    directory = load_site(config_path).config.evidence_dir
    directory.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


@contextmanager
def catalog_locked(config_path: Path) -> Iterator[Callable[[], None]]:
    """Hold a write transaction on the sandbox's SQLite catalog (as another process would);
    yield what lets it go before the block ends."""
    holder = sqlite3.connect(config_path.parent / "state" / "catalog.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")

    def release() -> None:
        if holder.in_transaction:
            holder.rollback()

    try:
        yield release
    finally:
        release()
        holder.close()


def waits_for_a_lock(pid: int) -> bool:
    """Return whether process pid is blocked waiting for a file lock (/proc/locks `->`)."""
    lines = Path("/proc/locks").read_text(encoding="ascii").splitlines()
    return any("->" in line and line.split()[5] == str(pid) for line in lines)


def bad_marks(config_path: Path) -> tuple[set[str], set[str]]:
    """Return (points with an open integrity failure, points whose status is bad)."""
    with open_runtime(load_site(config_path), writes=False) as runtime:
        with runtime.catalog.begin() as connection:
            failures = schema.integrity_failures.c
            points = schema.recovery_points.c
            open_ = connection.execute(
                select(failures.recovery_point_id).where(failures.resolved_at.is_(None))
            )
            bad = connection.execute(select(points.id).where(points.status == "bad"))
            return {row[0] for row in open_}, {row[0] for row in bad}


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def stopped_writing_evidence(
    config_path: Path, args: tuple[str, ...], stops: tuple[signal.Signals, ...]
) -> tuple[int, str, str]:
    """Run drctl with the evidence chain's lock held; once it waits for that lock (its check
    is over and it is writing the evidence of what it found), send it `stops`; return its exit
    code, stdout and stderr."""
    with chain_lock_held(config_path):
        process = drctl(config_path, *args)
        wait_until(
            lambda: process.poll() is not None or waits_for_a_lock(process.pid),
            timeout=300,
            what=f"drctl {' '.join(args)} waiting to write the evidence of what it found",
        )
        assert process.poll() is None, process.communicate()
        for stop in stops:
            process.send_signal(stop)
        out, err = process.communicate(timeout=300)
    return process.returncode, out, err


@pytest.mark.parametrize(
    "stops",
    [
        pytest.param((signal.SIGINT,), id="ctrl-c"),
        pytest.param((signal.SIGTERM,), id="sigterm"),
    ],
)
def test_verify_all_stopped_after_finding_a_mismatch_exits_1_naming_it(
    tmp_path: Path, stops: tuple[signal.Signals, ...]
) -> None:
    config_path = build_sandbox(tmp_path / "sb")
    point, file = remove_a_file(config_path)
    code, out, err = stopped_writing_evidence(config_path, ("--json", "verify", "--all"), stops)
    assert code == 1, out + err
    [line] = error_lines(err)
    assert "interrupted after finding" in line and point in line and file in line, err
    assert "(exit 1)" in line and "marked bad" in line, line
    envelope = json.loads(out)
    assert envelope["exit_code"] == 1 and envelope["error"]["type"] == "CheckFailed"
    failures, bad = bad_marks(config_path)
    assert point in failures and point in bad


def test_a_second_ctrl_c_while_the_findings_are_recorded_does_not_lose_them(
    tmp_path: Path,
) -> None:
    """The first Ctrl-C stops the scan waiting to write its evidence (its bad marks already
    committed); the second arrives while the interrupted scan records the mismatch again (the
    catalog held locked meanwhile, then let go): it is noted, not raised, and the mismatch is
    recorded and named (exit 1)."""
    config_path = build_sandbox(tmp_path / "sb")
    point, file = remove_a_file(config_path)
    with chain_lock_held(config_path):
        process = drctl(config_path, "verify", "--all")
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(process.stderr or ()))
        reader.start()
        wait_until(
            lambda: process.poll() is not None or waits_for_a_lock(process.pid),
            what="drctl verify --all waiting to write the evidence of its mismatch",
        )
        with catalog_locked(config_path) as release:
            process.send_signal(signal.SIGINT)
            wait_until(
                lambda: process.poll() is not None or any("recording the" in x for x in lines),
                what="drctl verify --all recording what it found",
            )
            process.send_signal(signal.SIGINT)
            release()
            process.wait(timeout=120)
        reader.join()
    err = "".join(lines)
    assert process.returncode == 1, err
    assert "already stopping (SIGINT)" in err, err
    [line] = error_lines(err)
    assert "interrupted after finding" in line and file in line and "marked bad" in line, err
    failures, bad = bad_marks(config_path)
    assert point in failures and point in bad


def test_a_sampled_check_interrupted_after_its_mismatch_exits_1_and_records_it(
    tmp_path: Path,
) -> None:
    config_path = build_sandbox(tmp_path / "sb")
    dataset, point = corrupt_a_sampled_point(config_path)
    both = (signal.SIGINT, signal.SIGINT)
    code, out, err = stopped_writing_evidence(config_path, ("verify", "--seed", SEED), both)
    assert code == 1, out + err
    [line] = error_lines(err)
    assert "interrupted after finding" in line and point in line, err
    failures, bad = bad_marks(config_path)
    assert point in failures and point in bad
    with open_runtime(load_site(config_path), writes=False) as runtime:
        with runtime.catalog.begin() as connection:
            checks = schema.verifications.c
            [status] = connection.execute(select(checks.status).where(checks.kind == "sample"))
    assert status[0] == "aborted"


def test_a_recheck_interrupted_after_its_mismatch_exits_1_and_records_it(tmp_path: Path) -> None:
    """An open incident; a newer point whose primary copy is corrupt too: the re-check finds
    it, is interrupted waiting to write its evidence, exits 1 naming it, the point bad."""
    config_path = build_sandbox(tmp_path / "sb")
    flip_byte(a_data_file(point_dir(config_path, "primary", "config"))[0])
    assert drctl(config_path, "verify", "--all").wait(timeout=300) == 1  # an open incident
    with open_runtime(load_site(config_path)) as runtime:
        run_backup(runtime, SYSTEM)
        run_copy_offsite(runtime, systems=[SYSTEM])
    newer = point_dir(config_path, "primary", "config")
    flip_byte(a_data_file(newer)[0])
    code, out, err = stopped_writing_evidence(
        config_path, ("verify", "--recheck"), (signal.SIGINT,)
    )
    assert code == 1, out + err
    [line] = error_lines(err)
    assert "re-check" in line and "interrupted after finding" in line, err
    assert newer.name in line, line
    failures, bad = bad_marks(config_path)
    assert newer.name in failures and newer.name in bad


def test_a_mismatch_the_locked_catalog_cannot_record_exits_1_naming_both(tmp_path: Path) -> None:
    config_path = build_sandbox(tmp_path / "sb")
    point, file = remove_a_file(config_path)
    catalog = config_path.parent / "state" / "catalog.sqlite"
    with catalog_locked(config_path):
        process = drctl(config_path, "--json", "verify", "--all")
        out, err = process.communicate(timeout=300)
    assert process.returncode == 1, out + err
    [line] = error_lines(err)
    assert point in line and file in line, line
    assert "could not record" in line and f"sqlite:///{catalog}" in line, line
    assert "locked by another process" in line and "[SQL" not in line, line
    assert json.loads(out)["error"]["type"] == "CatalogUnwritten"
    # Once the catalog is free, the next scan finds the mismatch again and records it.
    assert drctl(config_path, "verify", "--all").wait(timeout=300) == 1
    failures, bad = bad_marks(config_path)
    assert point in failures and point in bad


def test_a_check_stopped_by_the_locked_catalog_before_it_began_says_so_on_one_line(
    tmp_path: Path,
) -> None:
    config_path = build_sandbox(tmp_path / "sb")
    with catalog_locked(config_path):
        process = drctl(config_path, "verify", "--seed", SEED)
        out, err = process.communicate(timeout=300)
    assert process.returncode == 3, out + err
    lines = [line for line in err.splitlines() if line.strip()]
    [line] = error_lines(err)
    assert "locked by another process" in line and "catalog unusable: sqlite:///" in line, err
    assert not any("[SQL" in each or "INSERT" in each for each in lines), err


def test_verify_all_stopped_after_finding_only_an_intruder_exits_1_naming_it(
    tmp_path: Path,
) -> None:
    """An intruder marks no point bad, so nothing is recorded before the scan's own evidence:
    stopped there (Ctrl-C while it waits to write that package), the scan still exits 1
    naming it, as the finished scan does, and never 130."""
    config_path = build_sandbox(tmp_path / "sb")
    genuine = point_dir(config_path, "primary", "ledger")
    planted = genuine.parent / "20200101T000000Z-feed01"
    shutil.copytree(genuine, planted)
    args = ("--json", "verify", "--all")
    code, out, err = stopped_writing_evidence(config_path, args, (signal.SIGINT,))
    assert code == 1, out + err
    [line] = error_lines(err)
    assert "interrupted after finding" in line and planted.name in line, line
    assert "intruder" in line and "(exit 1)" in line, line
    assert json.loads(out)["error"]["type"] == "CheckFailed"
    failures, bad = bad_marks(config_path)
    assert genuine.name not in bad and not failures  # an intruder marks no recorded point


@pytest.mark.parametrize(
    ("args", "module", "name"),
    [
        pytest.param(("verify", "--all"), verify_all, "write_scan_evidence", id="scan"),
        pytest.param(("verify", "--seed", SEED), verify_sample, "write_site_package", id="check"),
    ],
)
def test_a_check_interrupted_after_its_failure_package_names_that_package(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    module: ModuleType,
    name: str,
) -> None:
    """The failure package of the mismatch is written first; Ctrl-C arrives while the check
    writes its own package (that write raises KeyboardInterrupt, as main's SIGINT handler
    would). The message names the failure package on disk, never `not written`."""
    config_path = build_sandbox(tmp_path / "sb")
    _, point = corrupt_a_sampled_point(config_path)

    def interrupted(*_args: Any, **_kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(module, name, interrupted)
    code, out, err = run(capsys, "-c", str(config_path), *args)
    monkeypatch.undo()
    assert code == 1, out + err
    [line] = error_lines(err)
    assert "interrupted after finding" in line and point in line, line
    directory = load_site(config_path).config.evidence_dir
    [package] = [p for p in directory.glob("verify-*") if p.is_dir()]
    assert f"evidence: {package}" in line and "not written" not in line, line
