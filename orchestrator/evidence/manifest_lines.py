"""MANIFEST.sha256 of an evidence package: one `<sha256>  <path>` line per file in
`sha256sum -c` format, written sorted and parsed with every problem named by its line."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from orchestrator.evidence.layout import MANIFEST, validate_member_path

# `sha256sum` writes "<hex>  <path>" (text mode) or "<hex> *<path>" (binary mode).
MANIFEST_LINE_PATTERN = re.compile(r"^([0-9a-f]{64}) [ *](.+)$")
READ_CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ManifestEntry:
    """One line of MANIFEST.sha256: the sha256 of a file and its path inside the package."""

    digest: str
    path: str


def file_sha256(path: Path) -> str:
    """Given a file, return the hex sha256 of its bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(READ_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def make_manifest(entries: Iterable[ManifestEntry]) -> bytes:
    """Given manifest entries, return MANIFEST.sha256 bytes in `sha256sum -c` format, sorted."""
    lines = [f"{entry.digest}  {entry.path}\n" for entry in sorted(entries, key=lambda e: e.path)]
    return "".join(lines).encode("ascii")


def parse_manifest(data: bytes) -> tuple[list[ManifestEntry], list[str]]:
    """Given MANIFEST.sha256 bytes, return its entries and the problems found in it.

    Problems name the line number: bad syntax, unsafe paths and duplicate paths.
    """
    entries: list[ManifestEntry] = []
    problems: list[str] = []
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return [], [f"{MANIFEST}: expected ASCII text"]
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        match = MANIFEST_LINE_PATTERN.match(line)
        if match is None:
            problems.append(f"{MANIFEST} line {number}: expected '<64 hex digits>  <path>'")
            continue
        digest, path = match.groups()
        unsafe = validate_member_path(path)
        if unsafe:
            problems.append(f"{MANIFEST} line {number}: path {path!r} refused: {'; '.join(unsafe)}")
            continue
        if path in seen:
            problems.append(f"{MANIFEST} line {number}: {path} listed twice")
            continue
        seen.add(path)
        entries.append(ManifestEntry(digest=digest, path=path))
    if not text.endswith("\n") and text:
        problems.append(f"{MANIFEST}: last line has no newline")
    return entries, problems
