"""Write a signed, chained evidence package an auditor can check offline (DESIGN §3).

    <evidence_dir>/<kind>-<YYYYmmddTHHMMSSZ>-<short id>/   report.html report.json events/
        manifests/ SIGNER.pub.pem PREVIOUS MANIFEST.sha256 MANIFEST.sha256.sig
    <evidence_dir>/<same name>.tar.gz
    <evidence_dir>/chain.jsonl                              one line per package, append-only

Everything is checked before anything is written. The package is built in `.tmp-*` inside
evidence_dir and renamed into place, then the tarball (temp name, rename), then the chain line
(fsync), then the chain's anchor (anchor.py: every line not yet anchored is written to the
write-once store). Writers hold an exclusive lock on `.chain.lock`, so concurrent writers cannot
fork the chain, and any `.tmp-*` found under the lock is debris of a crashed writer and is
removed; a package a killed writer renamed into place but never chained is chained by the
next writer (recover.py). The signing key must exist (`drctl evidence keygen`); it is never
created here.

A failed anchor write does not undo the package (the run it records happened): it is logged,
returned in `Package.anchor_error`, reported by `drctl evidence verify --chain`, and the next
writer or `drctl evidence anchor` writes the missing anchors.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from orchestrator import __version__
from orchestrator.errors import OrchestratorError
from orchestrator.evidence import sign
from orchestrator.evidence.anchor import Anchor, anchor_chain, anchor_name
from orchestrator.evidence.chain import (
    ChainEntry,
    append_chain_entry,
    last_manifest_digest,
    read_chain,
)
from orchestrator.evidence.chain_lock import chain_write_lock
from orchestrator.evidence.content import PACKAGE_KEY, check_report, encode_report
from orchestrator.evidence.layout import (
    CHAIN,
    MANIFEST,
    PREVIOUS,
    REPORT_HTML,
    REPORT_JSON,
    REPORT_PDF,
    SIGNATURE,
    SIGNER_PUBLIC_KEY,
    TARBALL_SUFFIX,
    TEMPORARY_PREFIX,
    make_package_name,
    validate_attachment_path,
)
from orchestrator.evidence.manifest_lines import ManifestEntry, make_manifest
from orchestrator.evidence.recover import chain_interrupted
from orchestrator.evidence.render import render_report_html
from orchestrator.evidence.secret_scan import find_secrets_in_json_file
from orchestrator.evidence.tarball import DIRECTORY_MODE, FILE_MODE, write_tarball
from orchestrator.evidence.target_versions import target_system_versions
from orchestrator.evidence.verify import verify_package
from orchestrator.timefmt import iso_utc

__all__ = ["Package", "anchor_evidence", "verify_package", "write_package"]

logger = logging.getLogger(__name__)

COPY_CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Package:
    """A written package: its directory, its tarball, its manifest digest and its PREVIOUS,
    and the anchors written with it (or why anchoring failed)."""

    path: Path
    tarball: Path
    manifest_sha256: str
    previous: str
    anchored: tuple[str, ...] = ()
    anchor_error: str | None = None


def write_package(
    evidence_dir: Path,
    kind: str,
    report: Mapping[str, Any],
    attachments: Mapping[str, Path],
    signing_key: Path,
    now: datetime | None = None,
    *,
    provenance: Mapping[str, Any] | None = None,
    anchor: Anchor | None = None,
    pdf: Callable[[str], bytes] | None = None,
) -> Package:
    """Given a report, attachment files and a signing key, write a package and chain it.

    `attachments` maps a path inside the package (under events/ or manifests/) to a source
    file. `provenance` (operator, versions, calendar: provenance.py) goes into the package
    metadata, with the target-system versions read from the attached events; `anchor` is
    where the chain's lines are also kept write-once; `pdf` (given report.html, return PDF
    bytes) adds report.pdf, printed from the very page the package holds. Raise ValueError,
    with nothing written, if the kind is unknown, the report or an attachment holds a secret,
    the report names no accountable person, an attachment path is unsafe or its source is not
    a readable file, or the signing key does not exist or is not an ed25519 key.
    """
    moment = now if now is not None else datetime.now(UTC)
    name = make_package_name(kind, moment, secrets.token_hex(3))  # refuses naive times
    created_at = iso_utc(moment)
    check_report(report, kind)
    sources = _check_attachments(attachments)
    key = _load_key(signing_key)
    recorded = _recorded_metadata(provenance, sources)
    evidence_dir.mkdir(parents=True, exist_ok=True)
    with chain_write_lock(evidence_dir):
        _remove_debris(evidence_dir)
        entries = chain_interrupted(evidence_dir, read_chain(evidence_dir / CHAIN), key)
        previous = last_manifest_digest(entries)
        metadata = {
            "kind": kind,
            "name": name,
            "created_at": created_at,
            "signer_fingerprint": sign.fingerprint(key),
            "previous": previous,
            "orchestrator_version": __version__,
            **recorded,
            **_anchor_metadata(anchor, len(entries) + 1, name),
        }
        document = {**report, PACKAGE_KEY: metadata}
        entry = _commit(evidence_dir, name, document, sources, key, int(moment.timestamp()), pdf)
        anchored, anchor_error = _anchor([*entries, entry], anchor)
    logger.info(
        "wrote %s evidence package %s (manifest sha256 %s)", kind, name, entry.manifest_sha256
    )
    return Package(
        evidence_dir / name,
        evidence_dir / f"{name}{TARBALL_SUFFIX}",
        entry.manifest_sha256,
        previous,
        anchored,
        anchor_error,
    )


def _anchor_metadata(anchor: Anchor | None, sequence: int, name: str) -> dict[str, Any]:
    """Return the package metadata naming where its chain line is kept write-once (nothing
    without an anchor)."""
    if anchor is None:
        return {}
    return {
        "anchor": {
            "where": anchor.where,
            "name": anchor_name(sequence, name),
            "guarantee": anchor.guarantee,
        }
    }


def _commit(
    evidence_dir: Path,
    name: str,
    document: Mapping[str, Any],
    sources: Mapping[PurePosixPath, Path],
    key: Ed25519PrivateKey,
    mtime: int,
    pdf: Callable[[str], bytes] | None = None,
) -> ChainEntry:
    """Under the chain lock, write the package directory, its tarball and its chain line, all
    or nothing; return the chain line."""
    final = evidence_dir / name
    tarball = evidence_dir / f"{name}{TARBALL_SUFFIX}"
    if final.exists() or tarball.exists():
        raise FileExistsError(f"{final}: an evidence package with this name already exists")
    chain = evidence_dir / CHAIN
    staging = evidence_dir / f"{TEMPORARY_PREFIX}{name}"
    staged_tarball = evidence_dir / f"{TEMPORARY_PREFIX}{name}{TARBALL_SUFFIX}"
    chain_size = chain.stat().st_size if chain.exists() else 0
    renamed = False
    try:
        staging.mkdir(mode=DIRECTORY_MODE)
        digest = _build_directory(staging, document, sources, key, pdf)
        os.rename(staging, final)
        renamed = True
        write_tarball(final, staged_tarball, mtime)
        _fsync_file(staged_tarball)
        os.rename(staged_tarball, tarball)
        _fsync_directory(evidence_dir)
        metadata = document[PACKAGE_KEY]
        entry = ChainEntry(
            name, metadata["kind"], metadata["created_at"], digest, metadata["previous"]
        )
        append_chain_entry(chain, entry)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        staged_tarball.unlink(missing_ok=True)
        if renamed:
            shutil.rmtree(final, ignore_errors=True)
            tarball.unlink(missing_ok=True)
        if chain.exists() and chain.stat().st_size > chain_size:
            os.truncate(chain, chain_size)  # drop a partly appended line
        raise
    return entry


def anchor_evidence(
    evidence_dir: Path, anchor: Anchor, signing_key: Path, *, dry_run: bool = False
) -> list[str]:
    """Given the evidence directory, its anchor and the site's signing key, chain any package
    a killed writer left unchained (as every writer does first) and write every chain line not
    yet anchored, under the writers' lock; with dry_run, write nothing. Return the names
    anchored (or that would be). Raise InfrastructureError or OSError when the store fails,
    ValueError when chain.jsonl is malformed or the key cannot be read."""
    if dry_run:
        return anchor_chain(anchor, read_chain(evidence_dir / CHAIN), dry_run=True)
    key = _load_key(signing_key)
    evidence_dir.mkdir(parents=True, exist_ok=True)
    with chain_write_lock(evidence_dir):
        entries = chain_interrupted(evidence_dir, read_chain(evidence_dir / CHAIN), key)
        return anchor_chain(anchor, entries)


def _load_key(path: Path) -> Ed25519PrivateKey:
    if not path.is_file():
        raise ValueError(
            f"evidence signing key {path} does not exist: create it with `drctl evidence "
            "keygen` (it is never created on the fly)"
        )
    return sign.load_signing_key(path)


def _recorded_metadata(
    provenance: Mapping[str, Any] | None, sources: Mapping[PurePosixPath, Path]
) -> dict[str, Any]:
    """Return what the package records beside the report: the provenance, and the versions
    of the target systems the attached events report."""
    recorded = dict(provenance or {})
    events = [source for target, source in sorted(sources.items()) if target.parts[0] == "events"]
    recorded["versions"] = {
        **dict(recorded.get("versions") or {}),
        "target_systems": target_system_versions(events),
    }
    return recorded


def _anchor(entries: list[ChainEntry], anchor: Anchor | None) -> tuple[tuple[str, ...], str | None]:
    """Write the chain's missing anchors; return what was written, or why it failed."""
    if anchor is None:
        return (), None
    try:
        return tuple(anchor_chain(anchor, entries)), None
    except (OrchestratorError, OSError, ValueError) as error:
        reason = " ".join(line.strip() for line in str(error).splitlines()) or repr(error)
        logger.error(
            "evidence package %s is written but not anchored in %s: %s; "
            "run `drctl evidence anchor` once the store is back",
            entries[-1].name,
            anchor.where,
            reason,
        )
        return (), reason


def _check_attachments(attachments: Mapping[str, Path]) -> dict[PurePosixPath, Path]:
    sources: dict[PurePosixPath, Path] = {}
    problems: list[str] = []
    for relative, source in attachments.items():
        target = validate_attachment_path(relative)
        if target in sources:
            raise ValueError(f"attachment path {relative!r}: given twice")
        if not source.is_file():
            raise ValueError(f"attachment {relative!r}: source {source} is not a readable file")
        problems.extend(find_secrets_in_json_file(source, relative))
        sources[target] = source
    if problems:
        raise ValueError(
            "attachments: refusing to write evidence holding secrets at "
            f"{'; '.join(problems)}; mask them (no_log) before attaching"
        )
    return sources


def _build_directory(
    staging: Path,
    report: Mapping[str, Any],
    sources: Mapping[PurePosixPath, Path],
    key: Ed25519PrivateKey,
    pdf: Callable[[str], bytes] | None = None,
) -> str:
    """Given an empty staging directory, fill it with the package; return the manifest digest."""
    report_json = encode_report(report)
    # Render from the JSON just written, so report.html shows exactly what report.json holds.
    page = render_report_html(json.loads(report_json))
    metadata = report[PACKAGE_KEY]
    entries = [
        _write_file(staging, REPORT_JSON, report_json),
        _write_file(staging, REPORT_HTML, page.encode("utf-8")),
        _write_file(staging, SIGNER_PUBLIC_KEY, sign.public_key_pem(key)),
        _write_file(staging, PREVIOUS, f"{metadata['previous']}\n".encode("ascii")),
    ]
    if pdf is not None:
        entries.append(_write_file(staging, REPORT_PDF, pdf(page)))
    for target, source in sorted(sources.items()):
        entries.append(_copy_file(staging, target, source))
    manifest = make_manifest(entries)
    _write_file(staging, MANIFEST, manifest)
    _write_file(staging, SIGNATURE, sign.sign(key, manifest))
    for directory in sorted({staging / target.parent for target in sources}, reverse=True):
        _fsync_directory(directory)
    _fsync_directory(staging)
    return hashlib.sha256(manifest).hexdigest()


def _write_file(staging: Path, relative: str, data: bytes) -> ManifestEntry:
    target = staging / relative
    with target.open("xb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())
    os.chmod(target, FILE_MODE)
    return ManifestEntry(digest=hashlib.sha256(data).hexdigest(), path=relative)


def _copy_file(staging: Path, relative: PurePosixPath, source: Path) -> ManifestEntry:
    target = staging.joinpath(*relative.parts)
    target.parent.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with source.open("rb") as reader, target.open("xb") as writer:
        while chunk := reader.read(COPY_CHUNK_BYTES):
            digest.update(chunk)
            writer.write(chunk)
        writer.flush()
        os.fsync(writer.fileno())
    os.chmod(target, FILE_MODE)
    return ManifestEntry(digest=digest.hexdigest(), path=relative.as_posix())


def _remove_debris(evidence_dir: Path) -> None:
    for debris in evidence_dir.glob(f"{TEMPORARY_PREFIX}*"):
        logger.warning("removing %s left by an interrupted evidence writer", debris)
        if debris.is_dir() and not debris.is_symlink():
            shutil.rmtree(debris)
        else:
            debris.unlink()


def _fsync_file(path: Path) -> None:
    with path.open("rb") as stream:
        os.fsync(stream.fileno())


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
