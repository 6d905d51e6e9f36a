"""Check a whole evidence directory: every package, the chain between them, and its anchor.

What each check catches:

* chain.jsonl's own links (`previous` = the line before's `manifest_sha256`): a line cut out
  of the middle, lines swapped;
* every listed package present and valid, its MANIFEST.sha256 hashing to the recorded digest,
  its signed PREVIOUS equal to the line's `previous`, signed by a trusted key: a package
  deleted, replaced or re-signed, or chain.jsonl rewritten to hide a deletion;
* packages present but not listed;
* each sample check's signed seed bound to the chain's own newest counted check before it
  (evidence/sample_seed.py): a key holder who signed the seed over another "previous" check,
  to pick among samples, or a chain that lost a counted check;
* a package signed by a retired key (verify.py) after, in chain order, the first package
  signed by a current key: the retired key's private half (kept on a decommissioned node, or
  leaked) signing new evidence, e.g. a forged passed drill appended at the end. Chain order
  needs no clock: the links and the write-once anchors authenticate it;
* the anchor (anchor.py): the n-th anchor equal, byte for byte, to line n. A package removed
  from the **end** with its line leaves an anchor past the end of chain.jsonl; a rewritten
  line differs from its anchor; a line never anchored is reported too.

Without an anchor the end of the chain cannot be proven: that is not a problem found but a
check not run (`ChainCheck.not_checked`), and the result is not ok either way.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.evidence.anchor import Anchor, AnchorRecord, anchor_name
from orchestrator.evidence.chain import (
    ChainEntry,
    ChainUnreadable,
    chain_line,
    check_chain_links,
    read_chain,
)
from orchestrator.evidence.chain_lock import chain_read_lock
from orchestrator.evidence.layout import CHAIN, PACKAGE_NAME_PATTERN, TARBALL_SUFFIX, ZERO_DIGEST
from orchestrator.evidence.untrusted_read import parse_json
from orchestrator.evidence.verify import PackageCheck, Trust, check_package

logger = logging.getLogger(__name__)

NO_ANCHOR = (
    "the end of the chain: no anchor was given, so a package removed from the end of the "
    "chain together with its line of chain.jsonl cannot be detected"
)


@dataclass
class ChainCheck:
    """What checking an evidence directory found."""

    directory: Path
    packages: int = 0
    anchors: int = 0
    anchor_where: str | None = None
    anchor_guarantee: str | None = None
    signers: dict[str, int] = field(default_factory=dict)
    retired_signers: set[str] = field(default_factory=set)
    first_current: str | None = None  # "line N (name, key FP)": where retired keys stop
    problems: list[str] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return whether every check ran and none found a problem."""
        return not self.problems and not self.not_checked


def check_chain(
    evidence_dir: Path, trust: Trust, anchor: Anchor | None, retired: Trust | None = None
) -> ChainCheck:
    """Given the evidence directory, the trusted signers, the chain's anchor (None: none given,
    the end of the chain is not checked) and the retired signers, check it all.

    Raise InfrastructureError if the anchor's store cannot be read.
    """
    result = ChainCheck(evidence_dir)
    with chain_read_lock(evidence_dir):  # a snapshot no writer is half-way through
        entries = _read_entries(evidence_dir / CHAIN, result)
        present = _package_names(evidence_dir)
        records, strays = anchor.records() if anchor is not None else ([], [])
    result.packages = len(entries)
    result.problems.extend(check_chain_links(entries, CHAIN))
    counted = (ZERO_DIGEST, "none")  # the newest counted sample check so far: seeds bind it
    for number, entry in enumerate(entries, start=1):
        problems, checks = _check_listed(
            evidence_dir, number, entry, (trust, retired or {}), result
        )
        result.problems.extend(problems)
        result.problems.extend(_seed_link(f"{CHAIN} line {number} ({entry.name})", checks, counted))
        if any(check.counted_sample for check in checks):
            counted = (entry.manifest_sha256, f"line {number} ({entry.name})")
    listed = {entry.name for entry in entries}
    for name in sorted(present - listed):
        result.problems.append(f"{name}: a package in {evidence_dir} that {CHAIN} does not list")
    if anchor is None:
        result.not_checked.append(NO_ANCHOR)
        return result
    result.anchor_where, result.anchor_guarantee = anchor.where, anchor.guarantee
    result.anchors = len(records)
    result.problems.extend(strays)
    result.problems.extend(compare_anchors(entries, records, anchor.where))
    return result


def _read_entries(chain: Path, result: ChainCheck) -> list[ChainEntry]:
    """Return the chain's entries; a missing chain or a cut last line is a problem."""
    if not chain.is_file():
        result.problems.append(f"{chain}: missing; no package can be placed in a chain")
        return []
    try:
        return read_chain(chain)
    except ChainUnreadable as error:  # a cut last line: the whole lines are still checked
        result.problems.append(f"{error.problem}. Repair: {error.repair}")
        return error.entries


def _check_listed(
    evidence_dir: Path,
    number: int,
    entry: ChainEntry,
    trusts: tuple[Trust, Trust],
    result: ChainCheck,
) -> tuple[list[str], list[PackageCheck]]:
    """Given line `number` of the chain and the (current, retired) signers, check its copies
    (directory, tarball) and return their problems and checks; record their signers in result."""
    trust, retired = trusts
    where = f"{CHAIN} line {number} ({entry.name})"
    copies = [
        path
        for path in (evidence_dir / entry.name, evidence_dir / f"{entry.name}{TARBALL_SUFFIX}")
        if path.exists()
    ]
    if not copies:
        return [f"{where}: the package is missing (neither directory nor {TARBALL_SUFFIX})"], []
    problems: list[str] = []
    signers = set()
    checks = [check_package(path, trust, chain_beside=False, retired=retired) for path in copies]
    for path, check in zip(copies, checks, strict=True):
        problems.extend(  # a tarball's own problems may already begin with its name
            problem if problem.startswith(f"{path.name}: ") else f"{path.name}: {problem}"
            for problem in _judge(check, entry, trust)
        )
        signers.add(check.signer_fingerprint or "unknown")
        if check.retired and check.signer_fingerprint is not None:
            result.retired_signers.add(check.signer_fingerprint)
            late = _retired_too_late(where, check, result.first_current)
            problems.extend(problem for problem in late if problem not in problems)
    for signer in signers:
        result.signers[signer] = result.signers.get(signer, 0) + 1
    current = [c for c in checks if c.trusted_by is not None and not c.retired]
    if current and result.first_current is None:
        result.first_current = f"line {number} ({entry.name}, key {current[0].signer_fingerprint})"
    return problems, checks


def _seed_link(where: str, checks: Sequence[PackageCheck], counted: tuple[str, str]) -> list[str]:
    """Given a line's package checks and the chain's newest counted sample check before it
    (digest, where), return the problem when the package's signed seed is bound to another
    previous check: a seed signed over a history of the signer's choosing draws a sample of
    its choosing, however validly signed."""
    bound = {check.seed_previous for check in checks if check.seed_previous is not None}
    digest, line = counted
    return [
        f"{where}: its sample's seed is signed over the previous check {previous}, but the "
        f"newest counted check before it in {CHAIN} is {line} ({digest}): the seed was not "
        "drawn from the chain's own history, so its sample may have been chosen"
        for previous in sorted(bound - {digest})
    ]


def _retired_too_late(where: str, check: PackageCheck, first_current: str | None) -> list[str]:
    """Given a package signed by a retired key and the first package of the chain signed by a
    current key (None: none yet), return the problem when the package comes after it."""
    if first_current is None:
        return []
    return [
        f"{where}: signed by the retired key {check.signer_fingerprint} ({check.trusted_by}), "
        f"after the first package signed by a current key, {CHAIN} {first_current}: a retired "
        "key is trusted only for the packages before the rotation; its private key signing "
        "new evidence means it was kept or leaked"
    ]


def _judge(check: PackageCheck, entry: ChainEntry, trust: Trust) -> list[str]:
    problems = list(check.problems)
    if check.manifest_sha256 is not None and check.manifest_sha256 != entry.manifest_sha256:
        problems.append(
            f"its MANIFEST.sha256 hashes to {check.manifest_sha256}, but {CHAIN} records "
            f"{entry.manifest_sha256}"
        )
    if check.previous is not None and check.previous != entry.previous:
        problems.append(
            f"its signed PREVIOUS is {check.previous}, but {CHAIN} says {entry.previous}: "
            f"{CHAIN} was rewritten"
        )
    signed = check.kind_and_time
    if signed is not None and signed != (entry.kind, entry.created_at):
        problems.append(
            f"its signed kind and time are {signed[0]} {signed[1]}, but {CHAIN} says "
            f"{entry.kind} {entry.created_at}: {CHAIN} was rewritten"
        )
    if check.signature_valid and check.trusted_by is None:
        trusted = ", ".join(sorted(trust)) or "none"
        problems.append(
            f"signed by {check.signer_fingerprint}, which is not trusted (trusted: {trusted})"
        )
    return problems


def _package_names(evidence_dir: Path) -> set[str]:
    names = set()
    for path in evidence_dir.iterdir():
        name = path.name.removesuffix(TARBALL_SUFFIX)
        if PACKAGE_NAME_PATTERN.match(name):
            names.add(name)
    return names


def compare_anchors(
    entries: Sequence[ChainEntry], records: Sequence[AnchorRecord], where: str
) -> list[str]:
    """Given the chain's lines and the anchors read back, return every disagreement."""
    problems = []
    by_sequence: dict[int, list[AnchorRecord]] = {}
    for record in records:
        by_sequence.setdefault(record.sequence, []).append(record)
        problems.extend(record.problems)
    for number, entry in enumerate(entries, start=1):
        found = by_sequence.get(number, [])
        expected = anchor_name(number, entry.name)
        if not found:
            problems.append(
                f"{CHAIN} line {number} ({entry.name}): not anchored in {where}; "
                "run `drctl evidence anchor`"
            )
            continue
        for record in found:
            problems.extend(_compare_record(record, number, entry, expected))
    for number in sorted(n for n in by_sequence if n > len(entries) or n < 1):
        for record in by_sequence[number]:
            problems.append(
                f"{record.key}: anchors package {record.package} "
                f"({_anchored_digest(record)}) as line {number}, but {CHAIN} has "
                f"{len(entries)} line(s): the package was removed from the end of the chain"
            )
    return problems


def _compare_record(
    record: AnchorRecord, number: int, entry: ChainEntry, expected: str
) -> list[str]:
    """Given an anchor of line `number` and that line, return how they disagree."""
    if record.package != entry.name:
        return [
            f"{record.key}: anchors {record.package} as line {number}, but {CHAIN} "
            f"line {number} is {entry.name} (expected {expected}): {CHAIN} was rewritten"
        ]
    if not record.content:
        # An S3 anchor with only delete markers has said so (record.problems); a file
        # emptied by whoever may write the directory vouches for nothing either.
        if record.problems:
            return []
        return [
            f"{record.key}: empty; it does not hold {CHAIN} line {number}, so nothing proves "
            "that line"
        ]
    if record.content != chain_line(entry):
        return [
            f"{record.key}: differs from {CHAIN} line {number}: {CHAIN} was rewritten "
            f"(anchor: {record.content.decode('utf-8', 'replace').strip()})"
        ]
    return []


def _anchored_digest(record: AnchorRecord) -> str:
    try:
        return f"manifest sha256 {parse_json(record.content)['manifest_sha256']}"
    except (ValueError, KeyError, TypeError):
        return "unreadable content"


def before_rotation(evidence_dir: Path, trust: Trust, retired: Trust) -> dict[str, str]:
    """Given the evidence directory and the (current, retired) signers, return the name and
    manifest digest of each of the chain's packages before the first one signed by a current
    key: the only ones a retired key may have signed. Packages are checked in chain order
    until that one; an unreadable chain gives none (a retired key is then trusted for nothing)."""
    try:
        entries = read_chain(evidence_dir / CHAIN)
    except ValueError:
        return {}
    names: dict[str, str] = {}
    for entry in entries:
        for path in (evidence_dir / entry.name, evidence_dir / f"{entry.name}{TARBALL_SUFFIX}"):
            if not path.exists():
                continue
            check = check_package(path, trust, chain_beside=False, retired=retired)
            if check.trusted_by is not None and not check.retired:
                return names
        names[entry.name] = entry.manifest_sha256
    return names
