"""Validity checks on a real sandbox: reproducible plans, enclave restores, tampering named.

The sandbox is built through the actions (workload, full backup, off-site copy) with the
real ansible-runner; stores are directories, so tampering is done on the files themselves.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.actions import verify_points, verify_sample
from orchestrator.actions.backup import run_backup
from orchestrator.actions.copy_offsite import run_copy_offsite
from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.actions.verify import scan
from orchestrator.actions.verify_enclave import enclave_site
from orchestrator.actions.verify_plan import build_plan
from orchestrator.actions.verify_points import check_item, check_points
from orchestrator.actions.workload import run_workload
from orchestrator.cli import main
from orchestrator.evidence.verify import verify_package
from orchestrator.integrations.stores.file import FileStore
from orchestrator.model import catalog as cat
from orchestrator.model import schema
from orchestrator.model.plan import PlanItem
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site

SYSTEM = "core-banking"


def build_sandbox(base: Path) -> Path:
    config_path = prepare_sandbox(base)
    site = load_site(config_path)
    with open_runtime(site) as runtime:
        run_workload(runtime, SYSTEM, "production", "ledger", postings=50, seed=5)
        run_backup(runtime, SYSTEM)
        run_copy_offsite(runtime, systems=[SYSTEM])
    return config_path


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sandbox(tmp_path_factory.mktemp("verify") / "sb")


@pytest.fixture()
def pristine(sandbox: Path, tmp_path: Path) -> Iterator[Path]:
    """The shared sandbox; its stores are put back as they were after the test."""
    stores = sandbox.parent / "stores"
    saved = tmp_path / "stores-saved"
    shutil.copytree(stores, saved, symlinks=True)
    yield sandbox
    shutil.rmtree(stores)
    shutil.copytree(saved, stores, symlinks=True)


def point_dir(config: Path, store: str, dataset: str) -> Path:
    root = config.parent / "stores" / store / SYSTEM / dataset
    return sorted(p for p in root.iterdir() if (p / "manifest.json").is_file())[-1]


def a_data_file(point: Path) -> tuple[Path, str]:
    data = point / "data"
    file = sorted(p for p in data.rglob("*") if p.is_file() and p.stat().st_size > 8)[0]
    return file, file.relative_to(data).as_posix()


def flip_byte(path: Path, offset: int = 5) -> None:
    content = bytearray(path.read_bytes())
    content[offset] ^= 0x01
    path.write_bytes(bytes(content))


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def test_plan_with_a_seed_is_identical_twice_and_meets_both_bars(
    sandbox: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first_code, first = run_cli(
        capsys, "-c", str(sandbox), "--json", "verify", "--plan", "--seed", "7"
    )
    second_code, second = run_cli(
        capsys, "-c", str(sandbox), "--json", "verify", "--plan", "--seed", "7"
    )
    assert first_code == second_code == 0
    assert first == second
    plan = json.loads(first)
    assert plan["seed"] == "7"
    assert plan["sample"]["bytes_ratio"] >= 0.10 and plan["sample"]["points_ratio"] >= 0.10
    assert plan["population"]["choice"] == "in_rotation"
    assert plan["population"]["recovery_points"] == 5  # one full point per dataset
    assert plan["sample"]["offsite_items"] >= 1


@pytest.mark.parametrize(
    "tamper", ["flip", "truncate", "missing", "extra", "edited_manifest", "traversal_manifest"]
)
def test_verify_all_names_tampering(pristine: Path, tamper: str) -> None:
    point = point_dir(pristine, "offsite", "config")
    file, relative = a_data_file(point)
    manifest = point / "manifest.json"
    if tamper == "flip":
        flip_byte(file)
    elif tamper == "truncate":
        file.write_bytes(file.read_bytes()[:-3])
    elif tamper == "missing":
        file.unlink()
    elif tamper == "extra":
        (point / "data" / "planted.sh").write_text("echo hi\n")
        relative = "planted.sh"
    elif tamper == "edited_manifest":
        manifest.write_text(manifest.read_text().replace('"engine": "files"', '"engine": "files" '))
        relative = "manifest.json"
    else:
        data = json.loads(manifest.read_text())
        data["files"][0]["path"] = "../../../escaped.txt"
        manifest.write_text(json.dumps(data))
        relative = "manifest.json"
    site = load_site(pristine)
    with open_runtime(site) as runtime:
        result = scan(runtime)
    assert len(result.problems) == 1, [p.describe() for p in result.problems]
    problem = result.problems[0]
    assert (problem.store, problem.file) == ("offsite", relative)
    assert problem.recovery_point.endswith(point.name)
    expected_kind = {
        "flip": "mismatch",
        "truncate": "truncated",
        "missing": "missing",
        "extra": "extra",
    }.get(tamper, "manifest")
    assert problem.kind == expected_kind
    if tamper in ("flip", "truncate", "edited_manifest"):
        assert problem.expected and problem.actual and problem.expected != problem.actual
    if tamper == "traversal_manifest":
        assert "leaves the recovery point" in problem.actual


def test_verify_all_clean_sandbox_checks_every_file_of_both_stores(sandbox: Path) -> None:
    site = load_site(sandbox)
    with open_runtime(site) as runtime:
        result = scan(runtime, workers=2)
    stored = [
        p
        for p in (sandbox.parent / "stores").rglob("*")
        if p.is_file() and p.name not in ("manifest.json", "manifest.json.sig")
    ]
    assert result.ok, [p.describe() for p in result.problems]
    assert result.points == 10
    assert result.bytes == sum(p.stat().st_size for p in stored)


def _item(config_path: Path, dataset: str, store: str) -> PlanItem:
    point = point_dir(config_path, store, dataset)
    return PlanItem(point.name, SYSTEM, dataset, 0, 0, store, "primary", "test")


def test_check_item_refuses_a_traversal_manifest_before_writing(pristine: Path) -> None:
    point = point_dir(pristine, "primary", "programs")
    manifest = point / "manifest.json"
    data = json.loads(manifest.read_text())
    data["files"][0]["path"] = "../../../../../escaped.sh"
    manifest.write_text(json.dumps(data))
    site = load_site(pristine)
    enclave = enclave_site(site.config.model, str(pristine))
    with open_runtime(site) as runtime:
        result = check_item(runtime, enclave, _item(pristine, "programs", "primary"), [])
    assert result.status == "failed"
    assert [m["file"] for m in result.mismatches] == ["manifest.json"]
    assert "leaves the recovery point" in result.mismatches[0]["actual"]
    enclave_root = pristine.parent / "sites" / "verification"
    assert not [p for p in enclave_root.rglob("*") if p.is_file()]
    assert not list(pristine.parent.parent.rglob("escaped.sh"))


def test_check_item_names_a_flipped_byte_with_both_digests(pristine: Path) -> None:
    file, relative = a_data_file(point_dir(pristine, "primary", "config"))
    flip_byte(file)
    site = load_site(pristine)
    enclave = enclave_site(site.config.model, str(pristine))
    with open_runtime(site) as runtime:
        result = check_item(runtime, enclave, _item(pristine, "config", "primary"), [])
    assert result.status == "failed"
    (mismatch,) = result.mismatches
    assert mismatch["file"] == relative and mismatch["kind"] == "mismatch"
    assert len(mismatch["expected"]) == len(mismatch["actual"]) == 64
    assert mismatch["expected"] != mismatch["actual"]


def test_verify_passes_wipes_the_enclave_and_writes_evidence(
    sandbox: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run_cli(capsys, "-c", str(sandbox), "--json", "verify")
    assert code == 0, out
    outcome = json.loads(out)
    assert outcome["passed"] and outcome["counted"]
    assert outcome["wipe"]["result"] == "wiped" and outcome["wipe"]["remaining"] == []
    assert outcome["wipe"]["removed"]
    enclave_root = sandbox.parent / "sites" / "verification"
    assert not [p for p in enclave_root.rglob("*") if p.is_file()]
    package = Path(outcome["evidence"])
    assert verify_package(package, None) == []
    report = json.loads((package / "report.json").read_text())
    assert report["kind"] == "verify" and report["seed"] == outcome["seed"]
    assert report["plan"]["sample"]["meets_bars"]
    assert {row["id"] for row in report["recovery_points"]} == {
        item["recovery_point"] for item in outcome["items"]
    }
    assert report["enclave"]["wipe"]["paths"]
    site = load_site(sandbox)
    with open_runtime(site) as runtime, runtime.catalog.begin() as connection:
        row = connection.execute(
            schema.verifications.select().where(
                schema.verifications.c.id == outcome["verification"]
            )
        ).one()
        assert row.counted and row.status == "passed"
        assert row.evidence_manifest_sha256 and row.seed == outcome["seed"]
        verified = [
            cat.get_recovery_point(connection, item["recovery_point"]) for item in outcome["items"]
        ]
    assert all(point.last_verified_at for point in verified)
    with open_runtime(site) as runtime:
        following = build_plan(runtime)
    assert following.seed_derivation["previous_evidence_sha256"] == row.evidence_manifest_sha256


def test_flipped_byte_in_a_sampled_file_fails_the_check_and_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path = build_sandbox(tmp_path / "sb")
    code, out = run_cli(capsys, "-c", str(config_path), "--json", "verify", "--plan")
    item = json.loads(out)["items"][0]  # the check draws the same sample: nothing counted yet
    point = (
        config_path.parent
        / "stores"
        / item["store"]
        / SYSTEM
        / item["dataset"]
        / item["recovery_point"]
    )
    file, relative = a_data_file(point)
    flip_byte(file)
    code, out = run_cli(capsys, "-c", str(config_path), "verify")
    assert code == 1
    assert f"MISMATCH {item['recovery_point']} in {item['store']}: {relative}: mismatch" in out
    assert "summary:" in out and "counted" in out
    site = load_site(config_path)
    with open_runtime(site) as runtime, runtime.catalog.begin() as connection:
        point_row = cat.get_recovery_point(connection, item["recovery_point"])
        check = connection.execute(
            schema.verifications.select().where(schema.verifications.c.kind == "sample")
        ).one()
    assert point_row.status == "bad"
    assert check.status == "failed" and check.counted
    report = json.loads((Path(check.evidence_path) / "report.json").read_text())
    (mismatch,) = report["mismatches"]
    assert (mismatch["recovery_point"], mismatch["file"]) == (item["recovery_point"], relative)
    assert mismatch["expected"] != mismatch["actual"]


def test_a_check_with_a_chosen_seed_is_run_and_recorded_but_never_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`verify --seed N`: an operator-chosen sample (seeds can be tried with `--plan` first,
    leaving no record) is checked, recorded and packaged, and says why it does not count; the
    30-day clock and the next default sample are as if it had not run."""
    config_path = build_sandbox(tmp_path / "sb")
    with open_runtime(load_site(config_path)) as runtime:
        before = build_plan(runtime)
    code, out = run_cli(capsys, "-c", str(config_path), "--json", "verify", "--seed", "5")
    assert code == 0, out  # it passed and met both bars: nothing failed
    outcome = json.loads(out)
    assert outcome["passed"] and not outcome["counted"]
    assert "seed was given on the command line" in outcome["not_counted_because"]
    report = json.loads((Path(outcome["evidence"]) / "report.json").read_text())
    assert report["counted"] is False and report["plan"]["sample"]["meets_bars"]
    assert report["not_counted_because"] == outcome["not_counted_because"]
    assert "does not count toward the 30-day clock (its seed" in report["summary"]["en"]
    with open_runtime(load_site(config_path)) as runtime:
        with runtime.catalog.begin() as connection:
            (row,) = connection.execute(schema.verifications.select()).all()
        after = build_plan(runtime)
    assert (row.status, row.counted, row.seed) == ("passed", False, "5")
    assert after.seed == before.seed  # the next sample does not move for it
    code, status = run_cli(capsys, "-c", str(config_path), "--json", "status")
    (interval,) = [f for f in json.loads(status)["findings"] if f["rule"] == "verify.interval"]
    assert "no counted" in interval["measured"], interval

    code, out = run_cli(capsys, "-c", str(config_path), "--json", "verify")
    assert code == 0 and json.loads(out)["counted"], out


def test_a_store_that_is_down_aborts_with_exit_3_and_counts_nothing(
    pristine: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    offsite = pristine.parent / "stores" / "offsite"
    offsite.rename(offsite.with_name("offsite-unplugged"))
    site = load_site(pristine)
    with open_runtime(site) as runtime, runtime.catalog.begin() as connection:
        before = connection.execute(schema.verifications.select()).all()
    code = main(["-c", str(pristine), "verify", "--seed", "7"])
    assert code == 3
    assert "offsite" in capsys.readouterr().err
    with open_runtime(site) as runtime, runtime.catalog.begin() as connection:
        after = connection.execute(schema.verifications.select()).all()
        points = cat.list_recovery_points(connection)
    assert after == before
    assert all(point.status == "complete" for point in points)


def check_batch(config_path: Path, items: list[PlanItem]) -> tuple[list[Any], list[Path]]:
    """check_points over the items; return the results and the restore runs' events."""
    site = load_site(config_path)
    enclave = enclave_site(site.config.model, str(config_path))
    events: list[Path] = []
    with open_runtime(site) as runtime:
        results = check_points(runtime, enclave, items, events)
    return results, events


def test_check_points_restores_a_batch_in_one_run_and_judges_each_point(pristine: Path) -> None:
    names = ["ledger", "config", "programs"]
    results, events = check_batch(pristine, [_item(pristine, n, "primary") for n in names])
    assert [r.item.dataset for r in results] == names
    assert [(r.status, r.fingerprint) for r in results] == [("passed", "equal")] * 3
    assert len(events) == 1  # one restore run for the three points
    assert len({(r.started_at, r.checked_at) for r in results}) == 1  # timed with the batch
    assert results[0].started_at < results[0].checked_at


def test_a_flipped_byte_in_a_batch_fails_that_point_alone(pristine: Path) -> None:
    file, relative = a_data_file(point_dir(pristine, "primary", "config"))
    flip_byte(file)
    names = ["ledger", "config", "oplogs", "programs"]
    items = [_item(pristine, name, "primary") for name in names]
    (point_dir(pristine, "primary", "oplogs") / "manifest.json").unlink()
    results, events = check_batch(pristine, items)
    assert [r.item.dataset for r in results] == names
    assert [r.status for r in results] == ["passed", "failed", "failed", "passed"]
    assert [(m["file"], m["kind"]) for m in results[1].mismatches] == [(relative, "mismatch")]
    missing = [(m["file"], m["kind"]) for m in results[2].mismatches]
    assert missing == [("manifest.json", "missing")]
    # The batch stopped at the flipped byte before its playbook; the three points whose
    # manifests opened were then checked one by one: two restore runs, for the two that pass.
    assert len(events) == 2
    assert [r.fingerprint for r in results] == ["equal", "", "", "equal"]


def test_a_mismatch_seen_in_a_batch_stays_when_the_file_reads_whole_again(
    pristine: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read that found a flipped byte is kept even if a second read would pass (a flaky
    medium, or a file put back between two reads): the batch's rest is checked alone."""
    file, relative = a_data_file(point_dir(pristine, "primary", "config"))
    whole = file.read_bytes()
    flip_byte(file)
    alone = verify_points.check_item
    rechecked: list[str] = []

    def put_back_then_check(*args: Any) -> Any:
        file.write_bytes(whole)  # the medium reads whole from now on
        rechecked.append(args[2].dataset)
        return alone(*args)

    monkeypatch.setattr(verify_points, "check_item", put_back_then_check)
    names = ["ledger", "config", "programs"]
    results, events = check_batch(pristine, [_item(pristine, n, "primary") for n in names])
    assert [r.status for r in results] == ["passed", "failed", "passed"]
    assert [(m["file"], m["kind"]) for m in results[1].mismatches] == [(relative, "mismatch")]
    assert rechecked == ["ledger", "programs"]  # the point that failed is not read again
    assert file.read_bytes() == whole
    assert len(events) == 2


def test_a_point_refused_in_a_batch_stays_failed_when_the_enclave_then_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A manifest refused before a batch's restore is a failed check even when the batch's
    restore then fails on the enclave: exit 1, the point bad, evidence naming it, as when
    points were checked one by one (a fault after a mismatch never turns it into exit 3)."""
    config_path = build_sandbox(tmp_path / "sb")
    planned = verify_sample.build_plan
    names = ["config", "ledger", "programs"]

    def three_points(runtime: Any, seed: Any = None) -> Any:
        items = tuple(_item(config_path, name, "primary") for name in names)
        return dataclasses.replace(planned(runtime, seed), items=items)

    monkeypatch.setattr(verify_sample, "build_plan", three_points)
    point = point_dir(config_path, "primary", "config")
    manifest = point / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"engine": "files"', '"engine": "files" '))
    # The enclave breaks under the other two points: their system's directory is a file.
    enclave = Path(load_site(config_path).config.model.site("verification").data_root)
    enclave.mkdir(parents=True, exist_ok=True)
    (enclave / SYSTEM).write_text("not a directory\n")
    code = main(["-c", str(config_path), "verify"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "after finding 1 mismatch(es)" in err and "Not a directory" in err
    with open_runtime(load_site(config_path)) as runtime, runtime.catalog.begin() as connection:
        assert cat.get_recovery_point(connection, point.name).status == "bad"
    package = Path(err.rpartition("evidence: ")[2].split()[0])
    assert verify_package(package, None) == []
    assert point.name in (package / "report.json").read_text()


def test_a_recheck_keeps_a_failed_copy_when_the_next_copy_meets_a_fault(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A re-check whose first copy fails and whose next copy then meets a broken enclave:
    the failed copy is a failed check (exit 1, the newer point bad, evidence), not exit 3."""
    config_path = build_sandbox(tmp_path / "sb")
    old = point_dir(config_path, "primary", "config")
    flip_byte(a_data_file(old)[0])
    assert main(["-c", str(config_path), "verify", "--all"]) == 1  # an open incident
    with open_runtime(load_site(config_path)) as runtime:
        run_backup(runtime, SYSTEM)
        run_copy_offsite(runtime, systems=[SYSTEM])
    newer = point_dir(config_path, "offsite", "config")
    assert newer.name == point_dir(config_path, "primary", "config").name != old.name
    flip_byte(a_data_file(newer)[0])  # the off-site copy, re-checked first, is corrupt
    # The enclave breaks under the primary copy: the system's directory is a file.
    enclave = Path(load_site(config_path).config.model.site("verification").data_root)
    enclave.mkdir(parents=True, exist_ok=True)
    (enclave / SYSTEM).write_text("not a directory\n")
    capsys.readouterr()
    code = main(["-c", str(config_path), "verify", "--recheck"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "after finding 1 mismatch(es)" in err and "Not a directory" in err
    with open_runtime(load_site(config_path)) as runtime, runtime.catalog.begin() as connection:
        assert cat.get_recovery_point(connection, newer.name).status == "bad"
    package = Path(err.rpartition("evidence: ")[2].split()[0])
    assert verify_package(package, None) == []
    assert newer.name in (package / "report.json").read_text()


def test_a_manifest_gone_at_a_batchs_second_read_fails_that_point(
    pristine: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A manifest that opened for the batch and is gone when the restore reads it again (a
    flaky medium, or removed and put back between two reads) is a missing file of that point,
    kept as seen; the rest are checked alone. Before, it ended the check as a fault (exit 3)."""
    manifest = point_dir(pristine, "primary", "config") / "manifest.json"
    whole = manifest.read_bytes()
    batch_restore = verify_points.run_restore
    reads: list[int] = []

    def gone_once(*args: Any, **kwargs: Any) -> Any:
        if not reads:
            manifest.unlink()  # gone for the batch's second read
        else:
            manifest.write_bytes(whole)  # and back for any later read
        reads.append(1)
        return batch_restore(*args, **kwargs)

    monkeypatch.setattr(verify_points, "run_restore", gone_once)
    names = ["ledger", "config", "programs"]
    results, _events = check_batch(pristine, [_item(pristine, n, "primary") for n in names])
    assert [r.status for r in results] == ["passed", "failed", "passed"]
    assert [(m["file"], m["kind"]) for m in results[1].mismatches] == [("manifest.json", "missing")]


@pytest.mark.parametrize("look", [2, 3], ids=["at-the-size-check", "at-the-restore"])
def test_a_data_file_gone_between_two_looks_is_missing(
    pristine: Path, monkeypatch: pytest.MonkeyPatch, look: int
) -> None:
    """A file removed right after one of the check's looks at it (the listing, the size
    check, the restore's own look) and before the next read: a missing file of that point,
    a failed check naming it, not a fault that ends the check (exit 3)."""
    file, relative = a_data_file(point_dir(pristine, "primary", "config"))
    exists = FileStore.exists
    seen: list[str] = []

    def removed_once_looked_at(store: FileStore, key: str) -> bool:
        found = exists(store, key)
        if key.endswith(f"/data/{relative}"):
            seen.append(key)
            if len(seen) == look:
                file.unlink()
        return found

    monkeypatch.setattr(FileStore, "exists", removed_once_looked_at)
    site = load_site(pristine)
    enclave = enclave_site(site.config.model, str(pristine))
    with open_runtime(site) as runtime:
        result = check_item(runtime, enclave, _item(pristine, "config", "primary"), [])
    assert len(seen) == look and not file.exists()
    assert result.status == "failed"
    assert [(m["file"], m["kind"]) for m in result.mismatches] == [(relative, "missing")]
