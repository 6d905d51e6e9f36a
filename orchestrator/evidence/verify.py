"""Check an evidence package the way an auditor would, and say everything that is wrong.

The checks mirror the offline recipe in docs/auditor-guide.md: every digest in MANIFEST.sha256,
no unlisted files, the ed25519 signature over MANIFEST.sha256, PREVIOUS against chain.jsonl
beside the package, the metadata embedded in report.json against the files it describes, and a
validity check's signed sample seed (evidence/sample_seed.py).

*Who* signed is a separate answer (`PackageCheck.trusted_by`): a valid signature only proves
that the key in SIGNER.pub.pem signed; the package is trusted only when that key's fingerprint
is one the caller trusts (a public key obtained out of band, or the fingerprints pinned in
dr.yml). `check_package` gives both; `verify_package` gives the problems alone.

A *retired* key (rotated out: dr.yml `evidence.retired_fingerprints`, or
`--retired-fingerprint`) is trusted for the packages it signed before the rotation only. One
package does not show where it stands in the chain, so `check_package` accepts it and marks it
(`PackageCheck.retired`); chain_check rejects one that comes after the first package signed by
a current key (its private key, kept on an old node or leaked, signing new evidence).
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.evidence import sign
from orchestrator.evidence.chain import check_package_in_chain, read_chain
from orchestrator.evidence.layout import (
    CHAIN,
    DIGEST_PATTERN,
    MANIFEST,
    PACKAGE_NAME_PATTERN,
    PREVIOUS,
    REPORT_JSON,
    REQUIRED_FILES,
    SIGNATURE,
    SIGNER_PUBLIC_KEY,
    TARBALL_SUFFIX,
)
from orchestrator.evidence.manifest_lines import file_sha256, parse_manifest
from orchestrator.evidence.sample_seed import bound_previous, counted_sample, seed_problems
from orchestrator.evidence.tarball_extract import extract_tarball
from orchestrator.evidence.untrusted_read import parse_json, read_regular

logger = logging.getLogger(__name__)

# Trust: the fingerprints (sha256 of the raw ed25519 public key) a caller accepts as signers,
# each with where that trust comes from ("--public-key bank.pem", "dr.yml evidence...").
Trust = Mapping[str, str]


@dataclass
class PackageCheck:
    """What checking one package found: its problems, who signed it and whether it is trusted.

    `ok` needs both: no problem and a signer the caller trusts.
    """

    path: Path
    problems: list[str] = field(default_factory=list)
    signer_fingerprint: str | None = None
    signature_valid: bool = False
    trusted_by: str | None = None
    manifest_sha256: str | None = None
    previous: str | None = None
    retired: bool = False
    counted_sample: bool = False  # a counted sample check: the next window's seed names it
    kind_and_time: tuple[str, str] | None = None  # report.json's signed package kind, created_at
    seed_previous: str | None = None  # the previous check a signed seed is bound to

    @property
    def ok(self) -> bool:
        return not self.problems and self.trusted_by is not None


def trust_public_key(path: Path) -> dict[str, str]:
    """Given a PEM public key file obtained out of band, return the trust it gives.

    Raise ValueError naming the file if it is unreadable or not an ed25519 public key.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ValueError(f"trusted key {path}: unreadable: {error.strerror}") from error
    key = sign.load_public_key_pem(data, f"trusted key {path}")
    return {sign.fingerprint(key): f"--public-key {path}"}


def verify_package(path: Path, trusted_public_key: Path | None = None) -> list[str]:
    """Given a package directory or its .tar.gz, return its problems (empty: the package is good).

    With `trusted_public_key` (a PEM public key obtained out of band) a package signed by
    another key is a problem too; without it, who signed is not judged (see check_package).
    chain.jsonl beside the package, when present, must record it with a matching PREVIOUS.
    Raise ValueError if the trusted key cannot be read.
    """
    trust = trust_public_key(trusted_public_key) if trusted_public_key is not None else {}
    check = check_package(path, trust)
    problems = list(check.problems)
    if trusted_public_key is not None and check.signature_valid and check.trusted_by is None:
        problems.append(untrusted_signer(check, trust))
    return problems


def untrusted_signer(check: PackageCheck, trust: Trust) -> str:
    """Given a package with a valid signature by a key not trusted, say so."""
    expected = ", ".join(f"{fp} ({source})" for fp, source in sorted(trust.items())) or "none"
    return (
        f"{SIGNER_PUBLIC_KEY}: the signature is valid, but the signer {check.signer_fingerprint} "
        f"is not trusted (trusted: {expected})"
    )


def check_package(
    path: Path, trust: Trust, *, chain_beside: bool = True, retired: Trust | None = None
) -> PackageCheck:
    """Given a package directory or its .tar.gz, the trusted fingerprints and the retired ones
    (trusted_by is then their source, and `retired` True: see the module's docstring), check it.

    With chain_beside, chain.jsonl beside the package, when present, must record it with a
    matching PREVIOUS (chain_check passes False: it compares the chain itself). A tarball is
    extracted to a temp directory first; unsafe members refuse it whole.
    """
    chain = path.parent / CHAIN if chain_beside else None
    if path.is_dir():
        return check_directory(path, trust, chain, retired)
    if path.is_file() and path.name.endswith(TARBALL_SUFFIX):
        expected_name = path.name.removesuffix(TARBALL_SUFFIX)
        with tempfile.TemporaryDirectory(prefix="evidence-verify-") as scratch:
            directory, problems = extract_tarball(path, Path(scratch))
            if directory is None:
                return PackageCheck(path, problems)
            if directory.name != expected_name:
                problems.append(
                    f"{path.name}: holds directory {directory.name!r}, expected {expected_name!r}"
                )
            check = check_directory(directory, trust, chain, retired)
            check.path = path
            check.problems[:0] = problems
            return check
    return PackageCheck(path, [f"{path}: expected a package directory or a {TARBALL_SUFFIX} file"])


def verify_directory(directory: Path, trusted_public_key: Path | None, chain: Path) -> list[str]:
    """Given an unpacked package directory, return its problems (see verify_package)."""
    trust = trust_public_key(trusted_public_key) if trusted_public_key is not None else {}
    check = check_directory(directory, trust, chain)
    if trusted_public_key is not None and check.signature_valid and check.trusted_by is None:
        check.problems.append(untrusted_signer(check, trust))
    return check.problems


def check_directory(
    directory: Path, trust: Trust, chain: Path | None, retired: Trust | None = None
) -> PackageCheck:
    """Given an unpacked package directory, check it (see check_package); with chain None the
    chain is not consulted (the caller checks the chain itself)."""
    check = PackageCheck(directory)
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file() or manifest_path.is_symlink():
        check.problems.append(f"{MANIFEST}: missing; nothing in {directory.name} can be checked")
        return check
    try:
        manifest = read_regular(manifest_path)
    except OSError as error:
        check.problems.append(f"{MANIFEST}: unreadable: {error.strerror or error}")
        return check
    entries, problems = parse_manifest(manifest)
    check.problems = problems
    listed = {entry.path for entry in entries}
    problems.extend(_check_files(directory, entries, listed))
    _check_signature(directory, manifest, check)
    if check.signer_fingerprint is not None and check.signature_valid:
        _judge_signer(check, trust, retired or {})
    previous = _read_previous(directory, problems)
    check.previous = previous
    check.manifest_sha256 = hashlib.sha256(manifest).hexdigest()
    problems.extend(_check_embedded_metadata(directory, check))
    if not PACKAGE_NAME_PATTERN.match(directory.name):
        problems.append(f"{directory.name}: expected a name like <kind>-<YYYYmmddTHHMMSSZ>-<id>")
    if chain is None:
        return check
    problems.extend(_check_cited_beside(directory))
    if chain.is_file():
        try:
            entries_in_chain = read_chain(chain)
        except ValueError as error:
            problems.append(str(error))
        else:
            if previous is not None:
                problems.extend(
                    check_package_in_chain(
                        entries_in_chain, CHAIN, directory.name, check.manifest_sha256, previous
                    )
                )
    else:
        logger.warning(
            "%s: no %s beside the package; PREVIOUS (%s) was not checked against the chain",
            directory.name,
            CHAIN,
            previous,
        )
    return check


def _judge_signer(check: PackageCheck, trust: Trust, retired: Trust) -> None:
    """Given a package with a valid signature, record who trusts its signer: a current key
    first (a fingerprint both current and retired counts as current)."""
    assert check.signer_fingerprint is not None
    check.trusted_by = trust.get(check.signer_fingerprint)
    if check.trusted_by is None and check.signer_fingerprint in retired:
        check.trusted_by = retired[check.signer_fingerprint]
        check.retired = True


def _check_files(directory: Path, entries: list[Any], listed: set[str]) -> list[str]:
    problems = []
    for own in (MANIFEST, SIGNATURE):
        if own in listed:
            problems.append(f"{MANIFEST}: must not list {own}")
    for required in REQUIRED_FILES:
        if required not in listed:
            problems.append(f"{required}: not listed in {MANIFEST}")
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory).as_posix()
        if path.is_symlink():
            problems.append(f"{relative}: symlink refused")
        elif path.is_file() and relative not in listed and relative not in (MANIFEST, SIGNATURE):
            problems.append(f"{relative}: file not listed in {MANIFEST}")
        elif not path.is_file() and not path.is_dir():
            problems.append(f"{relative}: not a regular file")
    for entry in entries:
        target = directory / entry.path
        if target.is_symlink() or not target.is_file():
            problems.append(f"{entry.path}: listed in {MANIFEST} but missing")
            continue
        actual = file_sha256(target)
        if actual != entry.digest:
            problems.append(
                f"{entry.path}: digest mismatch: {MANIFEST} says {entry.digest}, "
                f"file hashes to {actual}"
            )
    return problems


def _check_signature(directory: Path, manifest: bytes, check: PackageCheck) -> None:
    """Check MANIFEST.sha256.sig with the key in SIGNER.pub.pem; record the signer."""
    signature_path = directory / SIGNATURE
    try:
        signer = sign.load_public_key_pem(
            read_regular(directory / SIGNER_PUBLIC_KEY), SIGNER_PUBLIC_KEY
        )
    except OSError as error:
        check.problems.append(f"{SIGNER_PUBLIC_KEY}: unreadable: {error.strerror or error}")
        return
    except ValueError as error:
        check.problems.append(f"{SIGNER_PUBLIC_KEY}: {error}")
        return
    check.signer_fingerprint = sign.fingerprint(signer)
    try:
        signature = read_regular(signature_path)
    except OSError:
        check.problems.append(f"{SIGNATURE}: missing; the package is unsigned")
        return
    if sign.verify_signature(signer, manifest, signature):
        check.signature_valid = True
        return
    check.problems.append(
        f"{SIGNATURE}: signature over {MANIFEST} does not verify with {SIGNER_PUBLIC_KEY} "
        f"(fingerprint {check.signer_fingerprint})"
    )


def _read_previous(directory: Path, problems: list[str]) -> str | None:
    try:
        text = read_regular(directory / PREVIOUS).decode("ascii")
    except (OSError, UnicodeDecodeError) as error:
        # strerror, not str(error): the path would name the scratch directory of a tarball.
        problems.append(f"{PREVIOUS}: unreadable: {getattr(error, 'strerror', None) or error}")
        return None
    value = text.removesuffix("\n")
    if not DIGEST_PATTERN.match(value) or not text.endswith("\n"):
        problems.append(f"{PREVIOUS}: expected 64 lower-case hex digits and a newline")
        return None
    return value


def _check_embedded_metadata(directory: Path, check: PackageCheck) -> list[str]:
    """Check report.json's package metadata and signed seed; note on `check` whether it is a
    counted sample check and which previous check its seed is bound to (chain_check.py)."""
    previous = check.previous
    try:
        report = parse_json(read_regular(directory / REPORT_JSON))
        metadata = report["package"]
        if not isinstance(metadata, dict):
            raise TypeError("not an object")
    except (OSError, ValueError, KeyError, TypeError) as error:
        return [f"{REPORT_JSON}: expected a JSON object with a 'package' object: {_why(error)}"]
    check.counted_sample, check.seed_previous = counted_sample(report), bound_previous(report)
    check.kind_and_time = (str(metadata.get("kind")), str(metadata.get("created_at")))
    problems = []
    if metadata.get("name") != directory.name:
        problems.append(
            f"{REPORT_JSON}: package.name {metadata.get('name')!r} is not {directory.name!r}"
        )
    if previous is not None and metadata.get("previous") != previous:
        problems.append(f"{REPORT_JSON}: package.previous does not match {PREVIOUS}")
    try:
        signer = sign.load_public_key_pem(read_regular(directory / SIGNER_PUBLIC_KEY))
    except (OSError, ValueError):
        return problems  # already reported by the signature check
    if metadata.get("signer_fingerprint") != sign.fingerprint(signer):
        problems.append(
            f"{REPORT_JSON}: package.signer_fingerprint does not match {SIGNER_PUBLIC_KEY}"
        )
    return problems + seed_problems(report, signer)


def _cited(report: object) -> list[tuple[str, str]]:
    """Return (name, manifest sha256) of each package a compliance report's report.json names:
    those of the chain in its period and the cited ones it verified (a cited package it could
    not show is listed with the catalog's digest, which need not be the package's)."""
    evidence = report.get("evidence") if isinstance(report, dict) else None
    if not isinstance(report, dict) or report.get("kind") != "report":
        return []
    if not isinstance(evidence, dict):
        return []
    listed = [*(evidence.get("packages") or []), *(evidence.get("checked") or [])]
    return [
        (str(row["name"]), str(row["manifest_sha256"]))
        for row in listed
        if isinstance(row, dict)
        and row.get("state", "verified") == "verified"
        and PACKAGE_NAME_PATTERN.match(str(row.get("name")))
        and isinstance(row.get("manifest_sha256"), str)
    ]


def _check_cited_beside(directory: Path) -> list[str]:
    """Given a package directory, return a problem for each package its compliance report
    names that lies beside it with another manifest digest: the report was paired with other
    evidence than it judged (a package swapped for another, authentic or not). A named package
    not beside it is not a problem here: `--chain` finds a package missing from the chain."""
    try:
        report = parse_json(read_regular(directory / "report.json"))
    except (OSError, ValueError):
        return []  # a report.json that cannot be read is named by the digest checks
    problems = []
    for name, digest in dict(_cited(report)).items():
        manifest = directory.parent / name / MANIFEST
        if not manifest.is_file() or manifest.is_symlink():
            continue
        try:
            actual = hashlib.sha256(read_regular(manifest)).hexdigest()
        except OSError as error:
            actual = f"unreadable ({error.strerror or error})"
        if actual != digest:
            problems.append(
                f"report.json names {name} with manifest sha256 {digest}, but the package of "
                f"that name beside it hashes to {actual}: not the evidence this report judged"
            )
    return problems


def _why(error: Exception) -> str:
    """Given why report.json could not be read, return it in one line: never the file's bytes
    (a UnicodeDecodeError's repr holds them all) nor a path (a tarball's scratch directory)."""
    if isinstance(error, UnicodeDecodeError):
        return f"UnicodeDecodeError: {error}"
    if isinstance(error, OSError):
        return f"{type(error).__name__}: {error.strerror or error}"
    return repr(error)
