"""`verify_package` on real packages, each broken in one way and re-sealed by the same key.

Re-sealing (a fresh MANIFEST.sha256 over the listed files, signed again) isolates one fault:
the expected result is the whole list of problems, so a check that stops firing, fires twice
or fires on a good package fails here.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator.evidence import sign
from orchestrator.evidence.chain_check import check_chain
from orchestrator.evidence.manifest_lines import ManifestEntry, make_manifest, parse_manifest
from orchestrator.evidence.package import Package, write_package
from orchestrator.evidence.tarball import write_tarball
from orchestrator.evidence.verify import (
    check_package,
    trust_public_key,
    untrusted_signer,
    verify_directory,
    verify_package,
)

NOW = datetime(2026, 11, 23, 2, 6, 0, tzinfo=UTC)
MANIFEST = "MANIFEST.sha256"


def report() -> dict[str, object]:
    return {
        "kind": "verify",
        "id": "verify-3",
        "title": {"zh": "有效性检查", "en": "Validity check"},
        "outcome": "passed",
        "accountable_person": "李工",
    }


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One package written once per module (writing fsyncs); each test gets a copy."""
    base = tmp_path_factory.mktemp("pristine")
    events = base / "events.jsonl"
    events.write_text('{"event": "runner_on_ok"}\n', encoding="utf-8")
    sign.create_signing_key(base / "keys" / "evidence-signing.pem")
    write_package(
        base / "evidence",
        "verify",
        report(),
        {"events/restore.jsonl": events},
        base / "keys" / "evidence-signing.pem",
        now=NOW,
    )
    return base


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "evidence-signing.pem"


@pytest.fixture
def written(pristine: Path, tmp_path: Path, key_path: Path) -> Package:
    shutil.copytree(pristine / "keys", key_path.parent)
    evidence = tmp_path / "evidence"
    shutil.copytree(pristine / "evidence", evidence, symlinks=True)
    (directory,) = [path for path in evidence.iterdir() if path.is_dir()]
    manifest = (directory / MANIFEST).read_bytes()
    return Package(
        path=directory,
        tarball=evidence / f"{directory.name}.tar.gz",
        manifest_sha256=hashlib.sha256(manifest).hexdigest(),
        previous=(directory / "PREVIOUS").read_text(encoding="ascii").strip(),
    )


def seal(directory: Path, key_path: Path, manifest: bytes) -> None:
    """Make `manifest` the package's MANIFEST.sha256, signed, and recorded so in chain.jsonl
    beside the package (when there is one)."""
    (directory / MANIFEST).write_bytes(manifest)
    key = sign.load_signing_key(key_path)
    (directory / f"{MANIFEST}.sig").write_bytes(sign.sign(key, manifest))
    chain = directory.parent / "chain.jsonl"
    if chain.is_file():
        lines = [json.loads(line) for line in chain.read_text(encoding="utf-8").splitlines()]
        for line in lines:
            if line["name"] == directory.name:
                line["manifest_sha256"] = hashlib.sha256(manifest).hexdigest()
        chain.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


def reseal(directory: Path, key_path: Path, paths: list[str] | None = None) -> None:
    """Seal a MANIFEST.sha256 written afresh over `paths` (default: what it lists now)."""
    if paths is None:
        entries, _ = parse_manifest((directory / MANIFEST).read_bytes())
        paths = [entry.path for entry in entries]
    manifest = make_manifest(
        ManifestEntry(hashlib.sha256((directory / path).read_bytes()).hexdigest(), path)
        for path in paths
    )
    seal(directory, key_path, manifest)


def edit_report(directory: Path, change: object) -> None:
    document = json.loads((directory / "report.json").read_text(encoding="utf-8"))
    if callable(change):
        change(document)
    else:
        document = change
    (directory / "report.json").write_text(json.dumps(document), encoding="utf-8")


def test_an_untouched_package_and_its_tarball_verify(written: Package) -> None:
    assert verify_package(written.path) == []
    assert verify_package(written.tarball) == []


def test_reseal_alone_keeps_a_package_good(written: Package, key_path: Path) -> None:
    reseal(written.path, key_path)
    assert verify_package(written.path) == []


def test_a_listed_file_missing_on_disk_is_named(written: Package) -> None:
    (written.path / "events" / "restore.jsonl").unlink()
    assert verify_package(written.path) == [
        "events/restore.jsonl: listed in MANIFEST.sha256 but missing"
    ]


def test_a_listed_path_that_is_a_directory_is_missing(written: Package, key_path: Path) -> None:
    manifest = (written.path / MANIFEST).read_bytes() + f"{'0' * 64}  events\n".encode()
    seal(written.path, key_path, manifest)
    assert verify_package(written.path) == ["events: listed in MANIFEST.sha256 but missing"]


def test_a_listed_file_replaced_by_a_symlink_is_refused(written: Package) -> None:
    target = written.path / "events" / "restore.jsonl"
    outside = written.path.parent / "outside.jsonl"
    shutil.copy(target, outside)
    target.unlink()
    target.symlink_to(outside)
    assert verify_package(written.path) == [
        "events/restore.jsonl: symlink refused",
        "events/restore.jsonl: listed in MANIFEST.sha256 but missing",
    ]


def test_a_changed_file_is_named_with_both_digests(written: Package) -> None:
    events = written.path / "events" / "restore.jsonl"
    listed = hashlib.sha256(events.read_bytes()).hexdigest()
    events.write_text('{"event": "runner_on_failed"}\n', encoding="utf-8")
    actual = hashlib.sha256(events.read_bytes()).hexdigest()
    assert verify_package(written.path) == [
        f"events/restore.jsonl: digest mismatch: MANIFEST.sha256 says {listed}, "
        f"file hashes to {actual}"
    ]


def test_a_fifo_in_the_package_is_not_a_regular_file(written: Package) -> None:
    os.mkfifo(written.path / "events" / "pipe")
    assert verify_package(written.path) == ["events/pipe: not a regular file"]


def test_an_unlisted_directory_alone_is_no_problem(written: Package) -> None:
    (written.path / "manifests").mkdir()
    assert verify_package(written.path) == []


@pytest.mark.parametrize("own", [MANIFEST, f"{MANIFEST}.sig"])
def test_a_manifest_listing_itself_or_its_signature_is_refused(
    written: Package, key_path: Path, own: str
) -> None:
    entries, _ = parse_manifest((written.path / MANIFEST).read_bytes())
    seal(written.path, key_path, make_manifest([*entries, ManifestEntry("0" * 64, own)]))
    problems = verify_package(written.path)
    assert problems[0] == f"MANIFEST.sha256: must not list {own}"
    assert problems[1].startswith(f"{own}: digest mismatch: MANIFEST.sha256 says {'0' * 64}")
    assert len(problems) == 2, problems


@pytest.mark.parametrize("required", ["report.html", "report.json", "SIGNER.pub.pem", "PREVIOUS"])
def test_every_required_file_must_be_listed(
    written: Package, key_path: Path, required: str
) -> None:
    entries, _ = parse_manifest((written.path / MANIFEST).read_bytes())
    reseal(written.path, key_path, [e.path for e in entries if e.path != required])
    assert verify_package(written.path) == [
        f"{required}: not listed in MANIFEST.sha256",
        f"{required}: file not listed in MANIFEST.sha256",
    ]


def test_a_missing_manifest_stops_the_check_at_once(written: Package) -> None:
    (written.path / MANIFEST).unlink()
    assert verify_package(written.path) == [
        f"MANIFEST.sha256: missing; nothing in {written.path.name} can be checked"
    ]


def test_a_symlinked_manifest_is_as_good_as_missing(written: Package) -> None:
    manifest = written.path / MANIFEST
    moved = written.path.parent / "elsewhere.sha256"
    manifest.rename(moved)
    manifest.symlink_to(moved)
    assert verify_package(written.path)[0] == (
        f"MANIFEST.sha256: missing; nothing in {written.path.name} can be checked"
    )


def test_a_package_named_off_pattern_is_reported(written: Package, tmp_path: Path) -> None:
    renamed = tmp_path / "elsewhere" / f"{written.path.name}-copy"
    shutil.copytree(written.path, renamed)
    assert verify_package(renamed) == [
        f"report.json: package.name {written.path.name!r} is not {renamed.name!r}",
        f"{renamed.name}: expected a name like <kind>-<YYYYmmddTHHMMSSZ>-<id>",
    ]


@pytest.mark.parametrize(
    "name",
    [
        "backup-20261123T020600Z-abc123",  # unknown kind
        "verify-20261123T0206Z-abc123",  # short timestamp
        "verify-20261123T020600Z-abc12",  # id too short
        "verify-20261123T020600Z-ABC123",  # upper-case id
        "xverify-20261123T020600Z-abc123",  # anchored at the start
    ],
)
def test_the_package_name_pattern_is_strict(
    written: Package, key_path: Path, tmp_path: Path, name: str
) -> None:
    renamed = tmp_path / "elsewhere" / name
    shutil.copytree(written.path, renamed)
    edit_report(renamed, lambda document: document["package"].update(name=name))
    reseal(renamed, key_path)
    assert verify_package(renamed) == [
        f"{name}: expected a name like <kind>-<YYYYmmddTHHMMSSZ>-<id>"
    ]


@pytest.mark.parametrize(
    ("document", "error"),
    [
        (["not", "an", "object"], "TypeError"),
        ({"kind": "verify"}, "KeyError('package')"),
        ({"package": "verify-20261123T020600Z-abc123"}, "TypeError('not an object')"),
        ({"package": None}, "TypeError('not an object')"),
    ],
)
def test_report_json_without_a_package_object_is_reported(
    written: Package, key_path: Path, document: object, error: str
) -> None:
    edit_report(written.path, document)
    reseal(written.path, key_path)
    (problem,) = verify_package(written.path)
    assert problem.startswith("report.json: expected a JSON object with a 'package' object: ")
    assert error in problem


def test_report_json_that_is_not_json_is_reported(written: Package, key_path: Path) -> None:
    (written.path / "report.json").write_text("{truncated", encoding="utf-8")
    reseal(written.path, key_path)
    (problem,) = verify_package(written.path)
    assert problem.startswith("report.json: expected a JSON object with a 'package' object: ")
    assert "JSONDecodeError" in problem


def test_report_json_that_is_not_utf8_is_named_without_its_bytes(
    written: Package, key_path: Path
) -> None:
    """A UnicodeDecodeError's repr holds the whole file: a flipped byte printed every byte of
    report.json (34 kB for a sandbox drill) in place of one line saying what and where."""
    data = (written.path / "report.json").read_bytes()
    (written.path / "report.json").write_bytes(data[:10] + b"\xff" + data[11:])
    reseal(written.path, key_path)
    (problem,) = verify_package(written.path)
    assert problem == (
        "report.json: expected a JSON object with a 'package' object: UnicodeDecodeError: "
        "'utf-8' codec can't decode byte 0xff in position 10: invalid start byte"
    )


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("name", "verify-20261123T020600Z-ffffff", "package.name 'verify-20261123T020600Z-ffffff'"),
        ("previous", "1" * 64, "package.previous does not match PREVIOUS"),
        (
            "signer_fingerprint",
            "2" * 64,
            "package.signer_fingerprint does not match SIGNER.pub.pem",
        ),
    ],
)
def test_report_json_metadata_must_match_the_package(
    written: Package, key_path: Path, field: str, value: str, problem: str
) -> None:
    edit_report(written.path, lambda document: document["package"].update({field: value}))
    reseal(written.path, key_path)
    (found,) = verify_package(written.path)
    assert found.startswith(f"report.json: {problem}")


def test_report_json_metadata_with_fields_missing(written: Package, key_path: Path) -> None:
    edit_report(written.path, lambda document: document.update(package={}))
    reseal(written.path, key_path)
    assert verify_package(written.path) == [
        f"report.json: package.name None is not {written.path.name!r}",
        "report.json: package.previous does not match PREVIOUS",
        "report.json: package.signer_fingerprint does not match SIGNER.pub.pem",
    ]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("0" * 64, "PREVIOUS: expected 64 lower-case hex digits and a newline"),
        ("0" * 63 + "\n", "PREVIOUS: expected 64 lower-case hex digits and a newline"),
        ("A" * 64 + "\n", "PREVIOUS: expected 64 lower-case hex digits and a newline"),
        ("前" * 4 + "\n", "PREVIOUS: unreadable: "),
    ],
)
def test_a_malformed_previous_is_reported_and_not_compared(
    written: Package, key_path: Path, content: str, problem: str
) -> None:
    (written.path / "PREVIOUS").write_text(content, encoding="utf-8")
    reseal(written.path, key_path)
    (found,) = verify_package(written.path)
    assert found.startswith(problem)


def test_a_missing_signature_says_the_package_is_unsigned(written: Package) -> None:
    (written.path / f"{MANIFEST}.sig").unlink()
    assert verify_package(written.path) == ["MANIFEST.sha256.sig: missing; the package is unsigned"]


def test_a_garbled_signer_key_is_reported_once(written: Package) -> None:
    (written.path / "SIGNER.pub.pem").write_text("not a key\n", encoding="utf-8")
    problems = verify_package(written.path)
    assert problems[0].startswith("SIGNER.pub.pem: digest mismatch")
    assert problems[1].startswith("SIGNER.pub.pem: ")
    assert len(problems) == 2, problems


def test_a_signature_by_another_key_does_not_verify(written: Package, tmp_path: Path) -> None:
    other = tmp_path / "other.pem"
    manifest = (written.path / MANIFEST).read_bytes()
    (written.path / f"{MANIFEST}.sig").write_bytes(
        sign.sign(sign.load_or_create_signing_key(other), manifest)
    )
    (problem,) = verify_package(written.path)
    assert problem.startswith(
        "MANIFEST.sha256.sig: signature over MANIFEST.sha256 does not verify with SIGNER.pub.pem"
    )


def test_a_trusted_key_that_cannot_be_read_is_refused(written: Package, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-key.pem"
    with pytest.raises(ValueError, match=rf"^trusted key {missing}: unreadable: "):
        verify_package(written.path, trusted_public_key=missing)


def test_a_chain_that_cannot_be_read_is_reported(written: Package) -> None:
    chain = written.path.parent / "chain.jsonl"
    chain.write_text(chain.read_text(encoding="utf-8").rstrip("\n"), encoding="utf-8")
    (problem,) = verify_package(written.path)
    assert problem.startswith(f"{chain} line 1: cut short: the file does not end with a newline")


def test_a_chain_recording_another_manifest_digest_is_reported(written: Package) -> None:
    chain = written.path.parent / "chain.jsonl"
    line = json.loads(chain.read_text(encoding="utf-8"))
    line["manifest_sha256"] = "3" * 64
    chain.write_text(json.dumps(line) + "\n", encoding="utf-8")
    (problem,) = verify_package(written.path)
    assert problem == (
        f"chain.jsonl: records manifest_sha256 {'3' * 64} for {written.path.name}, "
        f"but its MANIFEST.sha256 hashes to {written.manifest_sha256}"
    )


def test_neither_a_directory_nor_a_tarball_is_refused(tmp_path: Path) -> None:
    stray = tmp_path / "package.zip"
    stray.write_bytes(b"PK")
    assert verify_package(stray) == [f"{stray}: expected a package directory or a .tar.gz file"]
    assert verify_package(tmp_path / "absent") == [
        f"{tmp_path / 'absent'}: expected a package directory or a .tar.gz file"
    ]


def test_a_tarball_holding_another_package_name_is_reported(
    written: Package, tmp_path: Path
) -> None:
    renamed = tmp_path / "verify-20261123T020600Z-ffffff.tar.gz"
    write_tarball(written.path, renamed, int(NOW.timestamp()))
    problems = verify_package(renamed)
    assert problems == [
        f"{renamed.name}: holds directory {written.path.name!r}, "
        "expected 'verify-20261123T020600Z-ffffff'"
    ]


def test_a_package_signed_by_an_untrusted_key_names_both_fingerprints(
    written: Package, key_path: Path, tmp_path: Path
) -> None:
    other = sign.load_or_create_signing_key(tmp_path / "other.pem")
    trusted = tmp_path / "trusted.pub.pem"
    trusted.write_bytes(sign.public_key_pem(other))
    signer = sign.load_signing_key(key_path)
    assert verify_package(written.path, trusted_public_key=trusted) == [
        f"SIGNER.pub.pem: the signature is valid, but the signer {sign.fingerprint(signer)} is "
        f"not trusted (trusted: {sign.fingerprint(other)} (--public-key {trusted}))",
    ]
    own = tmp_path / "own.pub.pem"
    own.write_bytes(sign.public_key_pem(signer))
    assert verify_package(written.path, trusted_public_key=own) == []


def test_a_package_away_from_its_chain_says_previous_was_not_checked(
    written: Package, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    away = tmp_path / "delivered" / written.path.name
    shutil.copytree(written.path, away)
    with caplog.at_level("WARNING", logger="orchestrator.evidence.verify"):
        assert verify_package(away) == []
    assert caplog.messages == [
        f"{written.path.name}: no chain.jsonl beside the package; PREVIOUS ({'0' * 64}) was not "
        "checked against the chain"
    ]


# Gaps mutation testing found (issue 16): each test below fails on a change to verify.py that
# every test above let through.


def test_files_listed_after_a_missing_one_are_still_checked(written: Package) -> None:
    (written.path / "events" / "restore.jsonl").unlink()
    html = written.path / "report.html"
    html.write_bytes(html.read_bytes() + b"<!-- edited -->")
    problems = verify_package(written.path)
    assert problems[0] == "events/restore.jsonl: listed in MANIFEST.sha256 but missing"
    assert problems[1].startswith("report.html: digest mismatch: MANIFEST.sha256 says ")
    assert len(problems) == 2, problems


def test_a_garbled_signer_key_is_named_with_what_was_expected(written: Package) -> None:
    (written.path / "SIGNER.pub.pem").write_text("not a key\n", encoding="utf-8")
    problems = check_package(written.path, {}).problems
    assert problems[1].startswith(
        "SIGNER.pub.pem: SIGNER.pub.pem: expected a PEM ed25519 public key"
    ), problems


def test_a_check_names_the_package_and_its_previous(written: Package, tmp_path: Path) -> None:
    check = check_package(written.path, {})
    assert (check.path, check.previous, check.problems) == (written.path, written.previous, [])
    assert check.manifest_sha256 == written.manifest_sha256
    assert check_package(written.tarball, {}).path == written.tarball
    broken = tmp_path / f"{written.path.name}.tar.gz"
    broken.write_bytes(b"not gzip")
    refused = check_package(broken, {})
    assert refused.path == broken and refused.problems[0].startswith(f"{broken.name}: ")
    stray = tmp_path / "package.zip"
    stray.write_bytes(b"PK")
    assert check_package(stray, {}).path == stray


def test_a_signature_that_does_not_verify_makes_no_signer_trusted(
    written: Package, key_path: Path, tmp_path: Path
) -> None:
    manifest = (written.path / MANIFEST).read_bytes()
    other = sign.load_or_create_signing_key(tmp_path / "other.pem")
    (written.path / f"{MANIFEST}.sig").write_bytes(sign.sign(other, manifest))
    signer = sign.fingerprint(sign.load_signing_key(key_path))
    check = check_package(written.path, {signer: "dr.yml"})
    assert (check.signer_fingerprint, check.signature_valid) == (signer, False)
    assert check.trusted_by is None and not check.ok


def record_another_digest(chain: Path) -> None:
    line = json.loads(chain.read_text(encoding="utf-8"))
    line["manifest_sha256"] = "3" * 64
    chain.write_text(json.dumps(line) + "\n", encoding="utf-8")


def test_the_chain_beside_a_tarball_is_consulted(written: Package) -> None:
    record_another_digest(written.path.parent / "chain.jsonl")
    (problem,) = verify_package(written.tarball)
    assert problem.startswith(f"chain.jsonl: records manifest_sha256 {'3' * 64} for ")


def test_without_chain_beside_the_chain_is_left_to_the_caller(written: Package) -> None:
    record_another_digest(written.path.parent / "chain.jsonl")
    assert check_package(written.path, {}, chain_beside=False).problems == []
    assert check_package(written.tarball, {}, chain_beside=False).problems == []


def test_a_tarball_reports_its_own_problems_before_the_package_s(
    written: Package, tmp_path: Path
) -> None:
    unsigned = tmp_path / "unsigned" / written.path.name
    shutil.copytree(written.path, unsigned)
    (unsigned / f"{MANIFEST}.sig").unlink()
    renamed = tmp_path / "verify-20261123T020600Z-ffffff.tar.gz"
    write_tarball(unsigned, renamed, int(NOW.timestamp()))
    assert verify_package(renamed) == [
        f"{renamed.name}: holds directory {written.path.name!r}, "
        "expected 'verify-20261123T020600Z-ffffff'",
        "MANIFEST.sha256.sig: missing; the package is unsigned",
    ]


def test_a_trusted_key_that_is_not_a_key_is_refused_naming_it(tmp_path: Path) -> None:
    garbled = tmp_path / "bank.pem"
    garbled.write_text("not a key\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"^trusted key {garbled}: expected a PEM ed25519"):
        trust_public_key(garbled)


def test_an_untrusted_signer_names_every_trusted_fingerprint_or_none(written: Package) -> None:
    check = check_package(written.path, {})
    trust = {"b" * 64: "dr.yml evidence.trusted[1]", "a" * 64: "--public-key bank.pem"}
    assert untrusted_signer(check, trust) == (
        f"SIGNER.pub.pem: the signature is valid, but the signer {check.signer_fingerprint} is "
        f"not trusted (trusted: {'a' * 64} (--public-key bank.pem), "
        f"{'b' * 64} (dr.yml evidence.trusted[1]))"
    )
    assert untrusted_signer(check, {}).endswith("is not trusted (trusted: none)")


def test_verify_directory_judges_the_signer_and_the_given_chain(
    written: Package, key_path: Path, tmp_path: Path
) -> None:
    chain = written.path.parent / "chain.jsonl"
    assert verify_directory(written.path, None, chain) == []
    own = tmp_path / "own.pub.pem"
    signer = sign.load_signing_key(key_path)
    own.write_bytes(sign.public_key_pem(signer))
    assert verify_directory(written.path, own, chain) == []
    other = tmp_path / "other.pub.pem"
    other.write_bytes(sign.public_key_pem(sign.load_or_create_signing_key(tmp_path / "o.pem")))
    (problem,) = verify_directory(written.path, other, chain)
    assert problem.startswith(
        f"SIGNER.pub.pem: the signature is valid, but the signer {sign.fingerprint(signer)} "
    )
    record_another_digest(chain)
    (problem,) = verify_directory(written.path, None, chain)
    assert problem.startswith(f"chain.jsonl: records manifest_sha256 {'3' * 64} for ")


def test_a_tarball_without_previous_names_no_scratch_directory(
    written: Package, tmp_path: Path
) -> None:
    # The problem reads the same for the directory and its tarball; it used to carry the path
    # of the temporary directory the tarball was unpacked into, gone by the time it is read.
    bare = tmp_path / "bare" / written.path.name
    shutil.copytree(written.path, bare)
    (bare / "PREVIOUS").unlink()
    tarball = tmp_path / f"{written.path.name}.tar.gz"
    write_tarball(bare, tarball, int(NOW.timestamp()))
    expected = [
        "PREVIOUS: listed in MANIFEST.sha256 but missing",
        "PREVIOUS: unreadable: No such file or directory",
    ]
    assert verify_package(bare) == expected
    assert verify_package(tarball) == expected


def hidden_member(name: str) -> bytes:
    """Return a gzip stream of a tar holding `name`, to append to a package's tarball."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        member = tarfile.TarInfo(name)
        member.size = len(b'{"outcome": "passed"}\n')
        tar.addfile(member, io.BytesIO(b'{"outcome": "passed"}\n'))
    return gzip.compress(raw.getvalue())


def test_a_tarball_with_a_second_gzip_stream_after_the_archive_is_refused(
    written: Package,
) -> None:
    # tarfile and `tar -x` stop at the first end marker; `tar -i` extracts the appended file,
    # which no manifest lists. It used to verify as ok.
    with written.tarball.open("ab") as stream:
        stream.write(hidden_member(f"{written.path.name}/events/extra.jsonl"))
    assert verify_package(written.tarball) == [
        f"{written.tarball.name}: tarball refused: it holds data after the end of the archive, "
        "which no manifest lists (files `tar -i` would extract, or bytes hidden in the padding)"
    ]


def test_a_tarball_whose_padding_holds_data_is_refused(written: Package) -> None:
    raw = bytearray(gzip.decompress(written.tarball.read_bytes()))
    raw[-100] = ord("x")  # in the zero padding after the end marker
    written.tarball.write_bytes(gzip.compress(bytes(raw)))
    assert verify_package(written.tarball) == [
        f"{written.tarball.name}: tarball refused: it holds data after the end of the archive, "
        "which no manifest lists (files `tar -i` would extract, or bytes hidden in the padding)"
    ]


@pytest.mark.parametrize(
    ("offset", "why"),
    [(-6, "CRC check failed"), (-2, "Incorrect length of data produced")],
)
def test_a_tarball_whose_gzip_trailer_is_broken_is_refused(
    written: Package, offset: int, why: str
) -> None:
    # `tar -xzf` (the auditor guide's recipe) fails on it; it used to verify as ok.
    data = bytearray(written.tarball.read_bytes())
    data[offset] ^= 1
    written.tarball.write_bytes(bytes(data))
    (problem,) = verify_package(written.tarball)
    assert problem.startswith(f"{written.tarball.name}: not a readable .tar.gz: {why}"), problem


def test_the_chain_check_names_a_refused_tarball_once(written: Package, key_path: Path) -> None:
    # The tarball's own problems already begin with its name; the chain printed it twice
    # ("X.tar.gz: X.tar.gz: tarball refused: …").
    with written.tarball.open("ab") as stream:
        stream.write(hidden_member(f"{written.path.name}/events/extra.jsonl"))
    signer = sign.fingerprint(sign.load_signing_key(key_path))
    problems = check_chain(written.path.parent, {signer: "test"}, None).problems
    refused = [problem for problem in problems if "tarball refused" in problem]
    assert refused, problems
    for problem in refused:
        assert problem.count(written.tarball.name) == 1, problem
