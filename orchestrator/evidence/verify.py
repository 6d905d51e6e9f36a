"""Check an evidence package the way an auditor would, and say everything that is wrong.

The checks mirror the offline recipe in docs/auditor-guide.md: every digest in MANIFEST.sha256,
no unlisted files, the ed25519 signature over MANIFEST.sha256 (against a trusted key when one is
given), PREVIOUS against chain.jsonl beside the package, and the metadata embedded in
report.json against the files it describes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
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
    file_sha256,
    parse_manifest,
)
from orchestrator.evidence.tarball import extract_tarball

logger = logging.getLogger(__name__)


def verify_package(path: Path, trusted_public_key: Path | None = None) -> list[str]:
    """Given a package directory or its .tar.gz, return its problems (empty: the package is good).

    With `trusted_public_key` (a PEM public key obtained out of band) the signature must be
    by that key. chain.jsonl beside the package, when present, must record it with a matching
    PREVIOUS. A tarball is extracted to a temp directory first; unsafe members refuse it whole.
    """
    if path.is_dir():
        return verify_directory(path, trusted_public_key, path.parent / CHAIN)
    if path.is_file() and path.name.endswith(TARBALL_SUFFIX):
        expected_name = path.name.removesuffix(TARBALL_SUFFIX)
        with tempfile.TemporaryDirectory(prefix="evidence-verify-") as scratch:
            directory, problems = extract_tarball(path, Path(scratch))
            if directory is None:
                return problems
            if directory.name != expected_name:
                problems.append(
                    f"{path.name}: holds directory {directory.name!r}, expected {expected_name!r}"
                )
            return problems + verify_directory(directory, trusted_public_key, path.parent / CHAIN)
    return [f"{path}: expected a package directory or a {TARBALL_SUFFIX} file"]


def verify_directory(directory: Path, trusted_public_key: Path | None, chain: Path) -> list[str]:
    """Given an unpacked package directory, return its problems (see verify_package)."""
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file() or manifest_path.is_symlink():
        return [f"{MANIFEST}: missing; nothing in {directory.name} can be checked"]
    manifest = manifest_path.read_bytes()
    entries, problems = parse_manifest(manifest)
    listed = {entry.path for entry in entries}
    problems.extend(_check_files(directory, entries, listed))
    problems.extend(_check_signature(directory, manifest, trusted_public_key))
    previous = _read_previous(directory, problems)
    manifest_digest = hashlib.sha256(manifest).hexdigest()
    problems.extend(_check_embedded_metadata(directory, previous))
    if not PACKAGE_NAME_PATTERN.match(directory.name):
        problems.append(f"{directory.name}: expected a name like <kind>-<YYYYmmddTHHMMSSZ>-<id>")
    if chain.is_file():
        try:
            entries_in_chain = read_chain(chain)
        except ValueError as error:
            problems.append(str(error))
        else:
            if previous is not None:
                problems.extend(
                    check_package_in_chain(
                        entries_in_chain, CHAIN, directory.name, manifest_digest, previous
                    )
                )
    else:
        logger.warning(
            "%s: no %s beside the package; PREVIOUS (%s) was not checked against the chain",
            directory.name,
            CHAIN,
            previous,
        )
    return problems


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


def _check_signature(
    directory: Path, manifest: bytes, trusted_public_key: Path | None
) -> list[str]:
    signature_path = directory / SIGNATURE
    if not signature_path.is_file():
        return [f"{SIGNATURE}: missing; the package is unsigned"]
    try:
        signer = sign.load_public_key_pem(
            (directory / SIGNER_PUBLIC_KEY).read_bytes(), SIGNER_PUBLIC_KEY
        )
    except (OSError, ValueError) as error:
        signer = None
        problems = [f"{SIGNER_PUBLIC_KEY}: {error}"]
    else:
        problems = []
    key, key_label = signer, SIGNER_PUBLIC_KEY
    if trusted_public_key is not None:
        try:
            trusted = sign.load_public_key_pem(
                trusted_public_key.read_bytes(), str(trusted_public_key)
            )
        except (OSError, ValueError) as error:
            return [*problems, f"trusted key {trusted_public_key}: {error}"]
        if signer is not None and sign.raw_public_key(signer) != sign.raw_public_key(trusted):
            problems.append(
                f"{SIGNER_PUBLIC_KEY}: fingerprint {sign.fingerprint(signer)} is not the trusted "
                f"key's {sign.fingerprint(trusted)}"
            )
        key, key_label = trusted, f"trusted key {trusted_public_key}"
    if key is not None and not sign.verify_signature(key, manifest, signature_path.read_bytes()):
        problems.append(
            f"{SIGNATURE}: signature over {MANIFEST} does not verify with {key_label} "
            f"(fingerprint {sign.fingerprint(key)})"
        )
    return problems


def _read_previous(directory: Path, problems: list[str]) -> str | None:
    try:
        text = (directory / PREVIOUS).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        problems.append(f"{PREVIOUS}: unreadable: {error}")
        return None
    value = text.removesuffix("\n")
    if not DIGEST_PATTERN.match(value) or not text.endswith("\n"):
        problems.append(f"{PREVIOUS}: expected 64 lower-case hex digits and a newline")
        return None
    return value


def _check_embedded_metadata(directory: Path, previous: str | None) -> list[str]:
    try:
        report = json.loads((directory / REPORT_JSON).read_bytes())
        metadata = report["package"]
        if not isinstance(metadata, dict):
            raise TypeError("not an object")
    except (OSError, ValueError, KeyError, TypeError) as error:
        return [f"{REPORT_JSON}: expected a JSON object with a 'package' object: {error!r}"]
    problems = []
    if metadata.get("name") != directory.name:
        problems.append(
            f"{REPORT_JSON}: package.name {metadata.get('name')!r} is not {directory.name!r}"
        )
    if previous is not None and metadata.get("previous") != previous:
        problems.append(f"{REPORT_JSON}: package.previous does not match {PREVIOUS}")
    try:
        signer = sign.load_public_key_pem((directory / SIGNER_PUBLIC_KEY).read_bytes())
    except (OSError, ValueError):
        return problems  # already reported by the signature check
    if metadata.get("signer_fingerprint") != sign.fingerprint(signer):
        problems.append(
            f"{REPORT_JSON}: package.signer_fingerprint does not match {SIGNER_PUBLIC_KEY}"
        )
    return problems
