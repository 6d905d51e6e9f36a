"""A check's signed seed is bound to the evidence chain's own history, on a real sandbox (SQLite
catalog, directory stores, signed evidence chain).

The seed is the evidence key's signature of `<window start>:<previous counted check's digest>`.
A valid signature alone proves little to an auditor if the key holder could sign over any
"previous" digest or any window: each choice draws another sample, so signing over several and
keeping the one that skips a recovery point would pass `evidence verify` package by package.
So `evidence verify` checks the window is the one the check started in (tests/unit/
test_sample_seed_check.py) and, here, that the previous digest is the chain's own newest counted
check before the package. The check itself takes that digest from the chain, not the catalog: a
check killed after its package was written but before its catalog row was counted in the chain,
and the next window's seed must follow the chain an auditor reads.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from orchestrator.actions.verify_plan import build_plan
from orchestrator.cli import main
from orchestrator.evidence import sign
from orchestrator.evidence.chain import chain_line, read_chain
from orchestrator.evidence.chain_check import check_chain
from orchestrator.evidence.layout import CHAIN, TARBALL_SUFFIX, ZERO_DIGEST
from orchestrator.evidence.sample_seed import signed_seed
from orchestrator.evidence.verify import verify_package
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.fixtures.signing import reseal_package
from tests.integration.test_verify_sample import build_sandbox

NOT_DRAWN = "was not drawn from the chain's own history"


def run_check(sandbox: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    code = main(["-c", str(sandbox), "--json", "verify"])
    outcome = json.loads(capsys.readouterr().out)
    assert code == 0 and outcome["counted"], outcome
    return dict(outcome)


def derivation(package: Path) -> dict[str, str]:
    report = json.loads((package / "report.json").read_text())
    return dict(report["plan"]["seed_derivation"])


def chain_problems(sandbox: Path) -> list[str]:
    site = load_site(sandbox)
    trust = {fp: "dr.yml" for fp in site.config.model.evidence.trusted_fingerprints}
    result = check_chain(site.config.evidence_dir, trust, anchor=None)
    return result.problems


def test_each_seed_is_bound_to_the_chains_previous_counted_check_and_a_rebound_one_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox = build_sandbox(tmp_path / "sb")
    first = Path(str(run_check(sandbox, capsys)["evidence"]))
    second = Path(str(run_check(sandbox, capsys)["evidence"]))
    entries = {entry.name: entry for entry in read_chain(first.parent / CHAIN)}
    assert derivation(first)["previous_evidence_sha256"] == ZERO_DIGEST
    assert derivation(second)["previous_evidence_sha256"] == entries[first.name].manifest_sha256
    assert chain_problems(sandbox) == []

    # The key holder re-signs the second check over another history (no previous check):
    # another sample, a valid signature of a well-formed window, the chain line rewritten.
    key = sign.load_signing_key(load_site(sandbox).config.signing_key)
    report = json.loads((second / "report.json").read_text())
    recorded = report["plan"]["seed_derivation"]
    message = f"{recorded['period_start']}:{ZERO_DIGEST}"
    seed, _ = signed_seed(key, message)
    recorded.update(previous_evidence_sha256=ZERO_DIGEST, message=message)
    report["seed"] = report["plan"]["seed"] = seed
    reseal_package(second, key, {"report.json": json.dumps(report, indent=2).encode()})
    (second.parent / f"{second.name}{TARBALL_SUFFIX}").unlink()
    chain = second.parent / CHAIN
    lines = chain.read_bytes().splitlines(keepends=True)
    digest = hashlib.sha256((second / "MANIFEST.sha256").read_bytes()).hexdigest()
    lines[-1] = chain_line(replace(entries[second.name], manifest_sha256=digest))
    chain.write_bytes(b"".join(lines))

    assert verify_package(second) == []  # alone, the package is a valid one
    problems = chain_problems(sandbox)
    assert len(problems) == 1 and NOT_DRAWN in problems[0], problems
    assert second.name in problems[0] and first.name in problems[0]


def test_a_check_the_catalog_lost_after_its_package_still_binds_the_next_seed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Killed between its package and its catalog row, a check is aborted in the catalog
    (verify_record.abort_killed_checks) but counted in the chain: the next plan follows the
    chain, so its package passes `evidence verify`."""
    sandbox = build_sandbox(tmp_path / "sb")
    outcome = run_check(sandbox, capsys)
    package = Path(str(outcome["evidence"]))
    catalog = sandbox.parent / "state" / "catalog.sqlite"
    with sqlite3.connect(catalog) as connection:
        connection.execute(
            "UPDATE verifications SET status = 'aborted', counted = 0, "
            "evidence_manifest_sha256 = NULL WHERE id = ?",
            (outcome["verification"],),
        )
    digest = next(
        entry.manifest_sha256
        for entry in read_chain(package.parent / CHAIN)
        if entry.name == package.name
    )
    with open_runtime(load_site(sandbox)) as runtime:
        plan = build_plan(runtime)
    assert plan.seed_derivation["previous_evidence_sha256"] == digest
    run_check(sandbox, capsys)
    assert chain_problems(sandbox) == []


def drop_last_line(chain: Path) -> None:
    chain.write_bytes(b"".join(chain.read_bytes().splitlines(keepends=True)[:-1]))


@pytest.mark.parametrize("left", ["unchained directory", "tarball only"])
def test_the_seed_follows_the_chain_as_it_will_stand_when_the_check_writes(
    left: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Seen: a check killed after its package was in place but before its chain line left a
    package the next writer chains first (evidence/recover.py); the next check's seed, read
    before that, skipped it, and `evidence verify --chain` failed for good on an honest chain.
    Likewise a counted check kept only as its tarball, which the chain check accepts."""
    sandbox = build_sandbox(tmp_path / "sb")
    first = Path(str(run_check(sandbox, capsys)["evidence"]))
    chain = first.parent / CHAIN
    digest = read_chain(chain)[-1].manifest_sha256
    if left == "unchained directory":  # killed between the rename and the chain line
        drop_last_line(chain)
        (first.parent / f"{first.name}{TARBALL_SUFFIX}").unlink()
    else:
        shutil.rmtree(first)
    with open_runtime(load_site(sandbox)) as runtime:
        plan = build_plan(runtime)
    assert plan.seed_derivation["previous_evidence_sha256"] == digest
    second = Path(str(run_check(sandbox, capsys)["evidence"]))
    assert derivation(second)["previous_evidence_sha256"] == digest
    assert chain_problems(sandbox) == []


def test_a_chain_line_whose_kind_or_time_is_not_its_packages_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The writer picks counted checks by a line's kind: a line rewritten to call a check a
    drill (or to move its time) must not pass as the signed package's own."""
    sandbox = build_sandbox(tmp_path / "sb")
    package = Path(str(run_check(sandbox, capsys)["evidence"]))
    chain = package.parent / CHAIN
    entry = read_chain(chain)[-1]
    drop_last_line(chain)
    with chain.open("ab") as stream:
        stream.write(chain_line(replace(entry, kind="drill", created_at="2020-01-01T00:00:00Z")))
    problems = chain_problems(sandbox)
    assert problems and all("its signed kind and time are verify" in p for p in problems), problems
