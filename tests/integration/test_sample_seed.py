"""The default seed of a validity check is the evidence key's signature of its window.

Before, the seed was `<period start>:<previous evidence digest>` in clear: anyone who could read
the catalog or the evidence chain (a DBA, a store's administrator) could compute a window's
sample ahead and know which recovery points it would not read. Now it is the hex of the site's
ed25519 evidence key's signature of that text: ed25519 signs deterministically, so retries in one
window draw the same sample, nobody without the key can compute it, and an auditor checks it
offline with real `openssl` and the package's SIGNER.pub.pem.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from orchestrator.actions.verify_plan import build_plan
from orchestrator.cli import main
from orchestrator.evidence import sign
from orchestrator.evidence.sample_seed import SEED_SIGNED, signed_seed
from orchestrator.evidence.verify import verify_package
from orchestrator.runtime import open_runtime
from orchestrator.site import load_site
from tests.fixtures.process import require_binary
from tests.fixtures.signing import reseal_package
from tests.integration.test_verify_sample import build_sandbox


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sandbox(tmp_path_factory.mktemp("seed") / "sb")


def openssl_verifies(public_pem: Path, message: str, seed: str, work: Path) -> bool:
    """Check the seed as the auditor's guide says: the message and the seed's bytes in files,
    `openssl pkeyutl -verify -rawin` with the signer's public key."""
    (work / "message").write_text(message)
    (work / "seed.sig").write_bytes(bytes.fromhex(seed))
    argv = [require_binary("openssl"), "pkeyutl", "-verify", "-pubin", "-inkey", str(public_pem)]
    argv += ["-rawin", "-in", str(work / "message"), "-sigfile", str(work / "seed.sig")]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    return done.returncode == 0 and "Signature Verified Successfully" in done.stdout


def test_the_default_seed_is_the_evidence_keys_signature_and_cannot_be_computed_without_it(
    sandbox: Path, tmp_path: Path
) -> None:
    site = load_site(sandbox)
    with open_runtime(site) as runtime:
        plan, again = build_plan(runtime), build_plan(runtime)
    key = sign.load_signing_key(site.config.signing_key)
    derivation = plan.seed_derivation
    message = f"{derivation['period_start']}:{derivation['previous_evidence_sha256']}"
    assert derivation["method"] == SEED_SIGNED and derivation["message"] == message
    assert derivation["signed_by"] == sign.fingerprint(key)
    assert again.seed == plan.seed and again.items == plan.items  # a retry draws the same
    assert message not in plan.seed and len(plan.seed) == 128
    public = tmp_path / "SIGNER.pub.pem"
    public.write_bytes(sign.public_key_pem(key))
    assert openssl_verifies(public, message, plan.seed, tmp_path)
    other = Ed25519PrivateKey.generate()  # the same window and evidence, another key
    assert signed_seed(other, message)[0] != plan.seed
    stranger = tmp_path / "stranger.pub.pem"
    stranger.write_bytes(sign.public_key_pem(other))
    assert not openssl_verifies(stranger, message, plan.seed, tmp_path)


def test_the_package_lets_an_auditor_check_the_seed_with_openssl(
    sandbox: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["-c", str(sandbox), "--json", "verify"])
    outcome = json.loads(capsys.readouterr().out)
    assert code == 0 and outcome["counted"], outcome
    package = Path(outcome["evidence"])
    report = json.loads((package / "report.json").read_text())
    derivation = report["plan"]["seed_derivation"]
    assert report["seed"] == outcome["seed"] and derivation["method"] == SEED_SIGNED
    assert openssl_verifies(
        package / "SIGNER.pub.pem", derivation["message"], report["seed"], tmp_path
    )
    forged = derivation["message"].replace(derivation["period_start"], "2000-01-03")
    assert not openssl_verifies(package / "SIGNER.pub.pem", forged, report["seed"], tmp_path)


def test_planning_without_the_evidence_key_is_refused_before_anything_is_read(
    sandbox: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = load_site(sandbox)
    key = site.config.signing_key
    moved = tmp_path / "key.pem"
    key.rename(moved)
    try:
        code = main(["-c", str(sandbox), "verify", "--plan"])
        missing = capsys.readouterr().err
        given = main(["-c", str(sandbox), "--json", "verify", "--plan", "--seed", "7"])
    finally:
        moved.rename(key)
    assert code == 2 and "evidence.signing_key" in missing and "Traceback" not in missing
    assert given in (0, 1)  # a given seed needs no key: it is never counted


def test_evidence_verify_names_a_chosen_seed_passed_off_as_drawn(
    sandbox: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["-c", str(sandbox), "--json", "verify"])
    outcome = json.loads(capsys.readouterr().out)
    assert code == 0, outcome
    package = Path(outcome["evidence"])
    assert verify_package(package) == []
    key = sign.load_signing_key(load_site(sandbox).config.signing_key)
    report = json.loads((package / "report.json").read_text())
    chosen, _ = signed_seed(key, "2000-01-03:" + "0" * 64)  # signed, but not this window's
    report["seed"] = report["plan"]["seed"] = chosen
    body = json.dumps(report, ensure_ascii=False, indent=2).encode()
    reseal_package(package, key, {"report.json": body})  # what an operator with the key can do
    assert openssl_verifies(package / "SIGNER.pub.pem", "2000-01-03:" + "0" * 64, chosen, tmp_path)
    problems = verify_package(package)
    assert any("the sample was chosen, not drawn" in problem for problem in problems), problems


def test_a_drawn_seed_given_back_reproduces_its_plan_and_a_bad_one_is_a_usage_error(
    sandbox: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["-c", str(sandbox), "--json", "verify", "--plan"])
    drawn = json.loads(capsys.readouterr().out)
    assert code == 0 and drawn["seed_derivation"]["method"] == SEED_SIGNED
    code = main(["-c", str(sandbox), "--json", "verify", "--plan", "--seed", drawn["seed"]])
    given = json.loads(capsys.readouterr().out)
    assert code == 0 and given["seed"] == drawn["seed"]
    assert given["items"] == drawn["items"]  # the same sample, reproduced
    assert given["seed_derivation"] == {"method": "given on the command line"}
    for bad in ("a" * 129, "7 8", "ab/cd", ""):
        assert main(["-c", str(sandbox), "verify", "--plan", "--seed", bad]) == 2
        err = capsys.readouterr().err
        assert "--seed" in err and "expected 1 to 128" in err and "Traceback" not in err
