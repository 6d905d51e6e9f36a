"""The whole loop on the embedded sandbox, through the real CLI and real ansible-runner."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from orchestrator.actions.drill import StepRecord, run_drill
from orchestrator.actions.sandbox import SCENARIO, prepare_sandbox
from orchestrator.model.restore_times import restore_timings
from orchestrator.model.scenario import load_scenario
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site


def drctl(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
    )


@pytest.fixture(scope="module")
def drilled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A sandbox after one full drill through the CLI: (config path, drill stdout)."""
    config = prepare_sandbox(tmp_path_factory.mktemp("sandbox") / "sb")
    result = drctl("-c", str(config), "drill", "run")
    assert result.returncode == 0, result.stdout + result.stderr
    yield config, result.stdout


def evidence_path(stdout: str) -> Path:
    line = next(line for line in stdout.splitlines() if line.startswith("evidence: "))
    return Path(line.removeprefix("evidence: "))


def a_data_file(config: Path, store: str = "offsite") -> Path:
    root = config.parent / "stores" / store / "core-banking" / "ledger"
    return sorted(root.glob("*/data/*.db"))[-1]


def test_drill_passes_and_prints_rto_rpo_and_evidence(drilled: tuple[Path, str]) -> None:
    _config, stdout = drilled
    assert "result: PASSED" in stdout
    rto = next(line for line in stdout.splitlines() if line.startswith("RTO: "))
    rpo = next(line for line in stdout.splitlines() if line.startswith("RPO: "))
    assert float(rto.split()[1]) > 0
    assert "postings lost" in rpo and "(750 postings lost)" in rpo
    assert stdout.count(" ok   ") == 11


def test_evidence_package_passes_sha256sum_and_is_complete(drilled: tuple[Path, str]) -> None:
    package = evidence_path(drilled[1])
    check = subprocess.run(
        ["sha256sum", "-c", "--strict", "MANIFEST.sha256"],
        cwd=package,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    for name in ("report.html", "report.json", "MANIFEST.sha256.sig", "PREVIOUS", "SIGNER.pub.pem"):
        assert (package / name).is_file(), name
    assert list((package / "events").glob("*.jsonl")), "raw ansible-runner events are kept"
    assert len(list((package / "manifests").glob("*.json"))) >= 5
    assert package.with_name(package.name + ".tar.gz").is_file()
    report = json.loads((package / "report.json").read_text())
    assert report["outcome"] == "passed"
    assert {finding["rule"] for finding in report["findings"]} >= {"dr.bidirectional"}
    html = (package / "report.html").read_text()
    assert "灾难恢复演练报告" in html and "Disaster-recovery drill report" in html


def test_each_step_makes_one_runner_call_per_site(drilled: tuple[Path, str]) -> None:
    """The disaster is one run (fingerprint, then destroy, then the store wipe, in that
    order) and the consistency check fingerprints both sites in one run."""
    events = evidence_path(drilled[1]) / "events"
    runs = sorted(path.name.split("-")[0] for path in events.glob("*.jsonl"))
    assert runs == sorted(
        ["workload"] * 3 + ["backup"] * 3 + ["disaster", "failover", "failback", "compare"]
    )
    (disaster,) = events.glob("disaster-*.jsonl")
    lines = [json.loads(line) for line in disaster.read_text().splitlines()]
    plays = [e["event_data"]["play"] for e in lines if e["event"] == "playbook_on_play_start"]
    assert plays == [
        "Fingerprint live datasets (row counts and digests, tree listings)",
        "Destroy live datasets",
        "Wipe paths on a host and prove they are gone",
    ]
    (compare,) = events.glob("compare-*.jsonl")
    lines = [json.loads(line) for line in compare.read_text().splitlines()]
    # One dr_datasets run per host: its results hold each dataset's dr_result.
    fingerprinted = {
        (e["event_data"]["host"], item["dr_result"]["name"])
        for e in lines
        if e["event"] == "runner_on_ok"
        for item in e["event_data"]["res"].get("results", [e["event_data"]["res"]])
        if "dr_result" in item
    }
    names = {"ledger", "config", "programs", "oplogs", "audit"}
    assert fingerprinted == {
        (host, f"fingerprint:{name}") for host in ("prod-core-1", "dr-core-1") for name in names
    }


def test_no_runner_call_discovers_an_interpreter(drilled: tuple[Path, str]) -> None:
    """The sandbox's inventory names each host's Python: no call spends a remote command on
    interpreter discovery (Ansible reports one as `discovered_interpreter_python`)."""
    texts = [path.read_text() for path in (evidence_path(drilled[1]) / "events").glob("*.jsonl")]
    assert len(texts) == 10
    assert not [text for text in texts if "discovered_interpreter_python" in text]


def test_failover_and_failback_restores_are_timed_per_dataset(drilled: tuple[Path, str]) -> None:
    config, stdout = drilled
    assert "restore " in next(line for line in stdout.splitlines() if "] ok   failover " in line)
    report = json.loads((evidence_path(stdout) / "report.json").read_text())
    steps = {step["name"]: step for step in report["steps"]}
    with open_runtime(load_site(config)) as runtime, runtime.catalog.begin() as connection:
        rows = list(connection.execute(restore_timings.select()))
    for kind in ("failover", "failback"):
        timed = steps[kind]["detail"]["restore_times"]
        assert {t["dataset"] for t in timed} == {"ledger", "config", "programs", "oplogs", "audit"}
        assert {t["duration_seconds"] for t in timed} == {steps[kind]["duration_seconds"]}
        assert {(t["objective_seconds"], t["within_objective"]) for t in timed} == {(None, None)}
        assert "(no objective declared)" in steps[kind]["message"]
        assert sorted(r.dataset for r in rows if r.kind == kind) == sorted(
            t["dataset"] for t in timed
        )


def test_evidence_never_holds_data_contents(drilled: tuple[Path, str]) -> None:
    package = evidence_path(drilled[1])
    ledger = drilled[0].parent / "sites" / "production" / "data" / "ledger" / "ledger.db"
    holder = b"holder-00042"  # an account holder name stored in the ledger
    assert holder in ledger.read_bytes()
    for path in package.rglob("*"):
        if path.is_file():
            assert holder not in path.read_bytes(), path


def test_verify_all_passes_then_names_a_flipped_byte(drilled: tuple[Path, str]) -> None:
    config = drilled[0]
    clean = drctl("-c", str(config), "verify", "--all")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    target = a_data_file(config)
    original = target.read_bytes()
    try:
        flipped = bytearray(original)
        flipped[len(flipped) // 2] ^= 0x01
        target.write_bytes(bytes(flipped))
        result = drctl("-c", str(config), "verify", "--all")
        assert result.returncode == 1, result.stdout + result.stderr
        assert target.name in result.stdout
        assert hashlib.sha256(original).hexdigest() in result.stdout
        assert hashlib.sha256(bytes(flipped)).hexdigest() in result.stdout
    finally:
        target.write_bytes(original)


@pytest.mark.parametrize("damage", ["truncate", "remove"])
def test_verify_all_catches_truncated_and_missing_files(
    drilled: tuple[Path, str], damage: str
) -> None:
    config = drilled[0]
    target = a_data_file(config, "primary")
    original = target.read_bytes()
    try:
        if damage == "truncate":
            target.write_bytes(original[: len(original) // 3])
        else:
            target.unlink()
        result = drctl("-c", str(config), "--json", "verify", "--all")
        assert result.returncode == 1, result.stderr
        problems = json.loads(result.stdout)["problems"]
        kinds = {(problem["file"], problem["kind"]) for problem in problems}
        assert (target.name, "truncated" if damage == "truncate" else "missing") in kinds
    finally:
        target.write_bytes(original)


def test_recovery_point_without_manifest_is_ignored_as_incomplete(
    drilled: tuple[Path, str],
) -> None:
    config = drilled[0]
    complete = a_data_file(config).parents[1]
    incomplete = complete.with_name("29991231T000000Z-abcdef")
    shutil.copytree(complete, incomplete)
    (incomplete / "manifest.json").unlink()
    try:
        result = drctl("-c", str(config), "--json", "verify", "--all")
        data = json.loads(result.stdout)
        # Earlier tests of this module left bad points behind (bad for good, still open);
        # the incomplete point itself is no problem.
        assert data["problems"] == [], data["problems"]
        assert result.returncode == (1 if data["open_failures"] else 0), result.stderr
        assert any(incomplete.name in item for item in data["incomplete_ignored"])
        from orchestrator.actions.restore import complete_points
        from orchestrator.integrations.stores.file import FileStore

        store = FileStore("offsite", "disaster-recovery", str(config.parent / "stores" / "offsite"))
        assert incomplete.name not in complete_points(store, "core-banking", "ledger")
    finally:
        shutil.rmtree(incomplete)


def test_status_json_lists_every_dataset_with_ages(drilled: tuple[Path, str]) -> None:
    result = drctl("-c", str(drilled[0]), "--json", "status")
    assert result.returncode in (0, 1), result.stderr
    rows = json.loads(result.stdout)["datasets"]
    assert {row["dataset"] for row in rows} == {"ledger", "config", "programs", "oplogs", "audit"}
    for row in rows:
        assert row["last_backup"]["age_seconds"] >= 0
        assert row["offsite_newest_copy"] is not None
        assert row["last_drill"] is not None


def test_a_second_sandbox_run_starts_its_own_chain_and_keeps_the_first_aside(
    tmp_path: Path,
) -> None:
    """Each run is a fresh site: a chain carried onto a fresh catalog made `status` warn after
    every run but the first that the catalog lacked, and was younger than, its evidence. The
    first run's packages are moved aside, not deleted, and still verify with their anchors."""
    config = prepare_sandbox(tmp_path / "sb")
    first = drctl("-c", str(config), "drill", "run")
    assert first.returncode == 0, first.stdout + first.stderr
    first_manifest = (evidence_path(first.stdout) / "MANIFEST.sha256").read_bytes()
    config = prepare_sandbox(tmp_path / "sb")  # fresh data, a fresh chain
    second = drctl("-c", str(config), "drill", "run")
    assert second.returncode == 0, second.stdout + second.stderr
    previous = (evidence_path(second.stdout) / "PREVIOUS").read_text().strip()
    assert previous == "0" * 64  # the first package of its own chain
    status = drctl("-c", str(config), "--json", "status")
    assert "lacks" not in status.stderr and "younger" not in status.stderr, status.stderr
    warnings = json.loads(status.stdout).get("warnings")  # present only when there are some
    assert not warnings, warnings
    chain = drctl("-c", str(config), "evidence", "verify", "--chain")
    assert chain.returncode == 0, chain.stdout + chain.stderr
    assert "chain: 1 package(s)" in chain.stdout and "anchor: 1 anchor(s)" in chain.stdout
    [aside] = (tmp_path / "previous-runs").iterdir()
    kept = aside / "evidence" / evidence_path(first.stdout).name / "MANIFEST.sha256"
    assert kept.read_bytes() == first_manifest
    anchor = str(aside / "anchor" / "evidence-chain")
    kept_chain = ("evidence", "verify", "--chain", str(aside / "evidence"), "--anchor", anchor)
    old = drctl("-c", str(config), *kept_chain)
    assert old.returncode == 0, old.stdout + old.stderr
    assert "chain: 1 package(s)" in old.stdout and "anchor: 1 anchor(s)" in old.stdout


def test_flipped_byte_in_offsite_copy_fails_the_failover(tmp_path: Path) -> None:
    config_path = prepare_sandbox(tmp_path / "sb")
    site = load_site(config_path)
    scenario = load_scenario(SCENARIO, site.config.model)
    flipped: dict[str, str] = {}

    def tamper(record: StepRecord) -> None:
        if record.name != "copy-offsite":
            return
        target = a_data_file(config_path)
        data = bytearray(target.read_bytes())
        flipped["expected"] = hashlib.sha256(data).hexdigest()
        data[100] ^= 0xFF
        target.write_bytes(bytes(data))
        flipped["actual"] = hashlib.sha256(data).hexdigest()
        flipped["file"] = target.name

    with open_runtime(site) as runtime:
        outcome = run_drill(runtime, scenario, SCENARIO, on_step=tamper)
    assert not outcome.passed
    failover = next(step for step in outcome.steps if step.name == "failover")
    assert failover.status == "failed"
    assert flipped["file"] in failover.message
    assert flipped["expected"] in failover.message and flipped["actual"] in failover.message
    assert all(step.status == "skipped" for step in outcome.steps[6:])
    report = json.loads((outcome.evidence_path / "report.json").read_text())  # type: ignore[operator]
    assert report["outcome"] == "failed"
    assert report["mismatches"][0]["expected"] == flipped["expected"]


def test_malformed_config_gives_every_error_and_writes_nothing(tmp_path: Path) -> None:
    config = prepare_sandbox(tmp_path / "sb")
    shutil.rmtree(config.parent / "state", ignore_errors=True)
    data = yaml.safe_load(config.read_text())
    data["systems"][0]["datasets"][1]["engine"] = "tape"
    data["stores"][1]["site"] = "moon"
    data["verification"] = {"offsite_share": 3}
    config.write_text(yaml.safe_dump(data, allow_unicode=True))
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    for command in (["check-config"], ["backup"], ["drill", "run"]):
        result = drctl("-c", str(config), *command)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "systems[0].datasets[1].engine: expected" in result.stderr
        assert "verification.offsite_share" in result.stderr
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def drill_rule_verdicts(config: Path) -> dict[str, tuple[str, str, str]]:
    result = drctl("-c", str(config), "--json", "status")
    assert result.returncode in (0, 1), result.stderr
    return {
        f["rule"]: (f["status"], f["measured"], f["reason"])
        for f in json.loads(result.stdout)["findings"]
        if f["rule"] in ("drill.yearly", "dr.bidirectional")
    }


def test_first_step_that_cannot_reach_its_host_aborts_the_drill_uncounted(
    tmp_path: Path,
) -> None:
    """Issue 9, point 11: an infrastructure failure in the first step is an aborted drill
    (exit 3, recorded aborted, no rule verdict), not a failed one."""
    from tests.fixtures.process import free_port

    config = prepare_sandbox(tmp_path / "sb")
    inventory = config.parent / "inventory.ini"
    closed = free_port()  # nothing listens there: ssh is refused at once
    inventory.write_text(
        inventory.read_text().replace(
            "prod-core-1 ansible_connection=local",
            f"prod-core-1 ansible_connection=ssh ansible_host=127.0.0.1 ansible_port={closed}",
        )
    )
    upgraded = drctl("-c", str(config), "catalog", "upgrade")  # `status` only reads
    assert upgraded.returncode == 0, upgraded.stderr
    before = drill_rule_verdicts(config)
    result = drctl("-c", str(config), "drill", "run")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "ABRT seed-production" in result.stdout and "prod-core-1" in result.stdout
    assert "result: ABORTED" in result.stdout and "Traceback" not in result.stderr
    assert result.stdout.count(" skip ") == 10
    report = json.loads((evidence_path(result.stdout) / "report.json").read_text())
    assert report["outcome"] == "aborted" and report["findings"] == []
    html = (evidence_path(result.stdout) / "report.html").read_text()
    assert "ABORTED" in html and "中止" in html
    from orchestrator.model import schema

    with open_runtime(load_site(config)) as runtime:
        with runtime.catalog.begin() as connection:
            (row,) = list(connection.execute(schema.drills.select()))
    assert row.status == "aborted" and row.failover_ok is None
    assert drill_rule_verdicts(config) == before
