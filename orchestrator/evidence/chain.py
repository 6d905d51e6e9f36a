"""The append-only chain of evidence packages: `<evidence_dir>/chain.jsonl`.

One JSON line per package, in the order they were written, all kinds in one chain:
`{"name", "kind", "created_at", "manifest_sha256", "previous"}`. A package's PREVIOUS file holds
the manifest_sha256 of the line before it (64 zeros for the first), so removing, reordering or
altering any package breaks the chain at the next one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from orchestrator.errors import InfrastructureError
from orchestrator.evidence.layout import DIGEST_PATTERN, KINDS, PACKAGE_NAME_PATTERN, ZERO_DIGEST
from orchestrator.evidence.untrusted_read import parse_json

REBUILD_FROM_ANCHOR = (
    "put back the lines from the chain's anchor (every line is kept there byte for byte: "
    "concatenate the anchors in name order, docs/auditor-guide.md §3.6)"
)


@dataclass(frozen=True)
class ChainEntry:
    """One line of chain.jsonl."""

    name: str
    kind: str
    created_at: str
    manifest_sha256: str
    previous: str


def parse_chain_line(line: str, where: str) -> ChainEntry:
    """Given one line of chain.jsonl, return its entry.

    Raise ValueError naming `where` if the line is not a well-formed entry.
    """
    try:
        document = parse_json(line)
    except ValueError as error:
        raise ValueError(f"{where}: expected a JSON object: {error}") from error
    if not isinstance(document, dict):
        raise ValueError(f"{where}: expected a JSON object")
    fields = ("name", "kind", "created_at", "manifest_sha256", "previous")
    missing = [field for field in fields if not isinstance(document.get(field), str)]
    if missing:
        raise ValueError(f"{where}: expected string fields {', '.join(missing)}")
    entry = ChainEntry(**{field: document[field] for field in fields})
    if entry.kind not in KINDS:
        raise ValueError(f"{where}.kind: expected one of {', '.join(KINDS)}, got {entry.kind!r}")
    if not PACKAGE_NAME_PATTERN.match(entry.name):
        # The name becomes a path in the evidence directory: no file-system error, no path
        # out of it, decides what a reader reports.
        raise ValueError(
            f"{where}.name: expected <kind>-<YYYYmmddTHHMMSSZ>-<id>, got {entry.name[:80]!r}"
        )
    for field in ("manifest_sha256", "previous"):
        if not DIGEST_PATTERN.match(getattr(entry, field)):
            raise ValueError(f"{where}.{field}: expected 64 lower-case hex digits")
    return entry


class ChainUnreadable(InfrastructureError, ValueError):
    """chain.jsonl cannot be read: a line is malformed, or the last one is cut short. No
    package can be chained after it, so every writer refuses to start. Exit 3, as for a corrupt
    catalog (docs/cli.md): the evidence directory is infrastructure the operator must repair,
    not a usage or config error. A ValueError too, for the readers that report a bad chain."""

    def __init__(self, problem: str, repair: str, entries: Sequence[ChainEntry] = ()) -> None:
        self.problem = problem
        self.repair = repair
        self.entries = list(entries)  # the whole lines before a cut one, else none
        super().__init__(
            f"{problem}; no evidence package can be written until it is repaired: "
            "`drctl evidence verify --chain` says how"
        )


def read_chain(path: Path) -> list[ChainEntry]:
    """Given the path of chain.jsonl, return its entries in order (empty if it does not exist).

    Raise ChainUnreadable naming the file and line if a line is malformed or the last line is
    cut short (no newline: a crash or a full disk during an append).
    """
    if not path.exists():
        return []
    try:
        data = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ChainUnreadable(f"{path}: not UTF-8 text ({error})", REBUILD_FROM_ANCHOR) from error
    end = data.rfind("\n") + 1
    try:
        entries = [
            parse_chain_line(line, f"{path} line {number}")
            for number, line in enumerate(data[:end].splitlines(), start=1)
            if line.strip()
        ]
    except ValueError as error:
        raise ChainUnreadable(str(error), REBUILD_FROM_ANCHOR) from error
    if end < len(data):
        raise _cut_short(path, data, end, entries)
    return entries


def _cut_short(path: Path, data: str, end: int, entries: list[ChainEntry]) -> ChainUnreadable:
    """Return the error for chain.jsonl whose last line, from character `end`, has no newline."""
    number = data[:end].count("\n") + 1
    size = len(data[:end].encode("utf-8"))
    return ChainUnreadable(
        f"{path} line {number}: cut short: the file does not end with a newline (the line "
        f"has {len(data[end:].encode('utf-8'))} byte(s); a crash or a full disk while a "
        "package was being chained)",
        f"keep the {number - 1} whole line(s) before it: `truncate -s {size} {path}`; the "
        "next package written then chains the package the cut line was for, when that "
        "package is whole and signed by the site's key (until then it shows as not listed, "
        "and its anchor, if one was written, as past the end of the chain)",
        entries,
    )


def last_manifest_digest(entries: Sequence[ChainEntry]) -> str:
    """Given the chain's entries, return the digest a new package's PREVIOUS must hold."""
    return entries[-1].manifest_sha256 if entries else ZERO_DIGEST


def chain_line(entry: ChainEntry) -> bytes:
    """Given an entry, return its line of chain.jsonl (keys sorted, newline-terminated)."""
    return (json.dumps(asdict(entry), sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def append_chain_entry(path: Path, entry: ChainEntry) -> None:
    """Given the path of chain.jsonl and an entry, append it as one line and fsync it. Raise
    OSError when the line cannot be written whole (the disk full: the caller truncates)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        write_fully(descriptor, chain_line(entry))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_fully(descriptor: int, data: bytes) -> None:
    """Given an open file descriptor, write every byte of data. A full disk or a file-size
    limit makes os.write write what fits and return a short count; the next write raises."""
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


def check_chain_links(entries: Sequence[ChainEntry], source: str) -> list[str]:
    """Given the chain's entries, return every broken link and duplicate name in it."""
    problems = []
    expected_previous = ZERO_DIGEST
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        if entry.previous != expected_previous:
            problems.append(
                f"{source} line {number} ({entry.name}): previous {entry.previous} does not "
                f"match the manifest_sha256 of the line before ({expected_previous})"
            )
        if entry.name in seen:
            problems.append(f"{source} line {number}: package {entry.name} listed twice")
        seen.add(entry.name)
        expected_previous = entry.manifest_sha256
    return problems


def check_package_in_chain(
    entries: Sequence[ChainEntry], source: str, name: str, manifest_digest: str, previous: str
) -> list[str]:
    """Given the chain and one package's name, manifest digest and PREVIOUS, return problems.

    The package must be in the chain, its manifest digest must be the one recorded, and its
    PREVIOUS must equal the manifest digest of the entry before it (zeros for the first).
    """
    positions = [index for index, entry in enumerate(entries) if entry.name == name]
    if not positions:
        return [f"{source}: package {name} is not recorded in the chain"]
    index = positions[-1]
    entry = entries[index]
    problems = []
    if entry.manifest_sha256 != manifest_digest:
        problems.append(
            f"{source}: records manifest_sha256 {entry.manifest_sha256} for {name}, "
            f"but its MANIFEST.sha256 hashes to {manifest_digest}"
        )
    expected_previous = entries[index - 1].manifest_sha256 if index > 0 else ZERO_DIGEST
    if previous != expected_previous:
        problems.append(
            f"PREVIOUS: {previous} does not match the manifest_sha256 of the package before "
            f"{name} in {source} ({expected_previous})"
        )
    return problems
