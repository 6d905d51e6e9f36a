"""Which counted check a new validity check's seed is signed over: the evidence chain's newest.

The seed's message is `<window start>:<previous counted check's digest>` (sample_seed.py), and
`evidence verify --chain` checks that digest is the chain's own newest counted sample check
before the package (chain_check.py). So the check reads it as the chain will stand when its own
package is written: with the packages a killed writer left unchained, which the writer chains
first (recover.py), and from a package's tarball when its directory cannot be read — the chain
check counts either copy. A package with neither copy readable counts for neither side.
"""

from __future__ import annotations

import logging
import tarfile
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from orchestrator.evidence.chain import ChainEntry, read_chain
from orchestrator.evidence.chain_lock import chain_read_lock
from orchestrator.evidence.layout import CHAIN, REPORT_JSON, TARBALL_SUFFIX, ZERO_DIGEST
from orchestrator.evidence.recover import unchained
from orchestrator.evidence.sample_seed import counted_sample
from orchestrator.evidence.untrusted_read import parse_json, read_regular

logger = logging.getLogger(__name__)

_REPORT_LIMIT = 64 * 1024 * 1024  # a report.json larger than this is not read from a tarball


def previous_counted_check(evidence_dir: Path, key: Ed25519PrivateKey) -> str:
    """Given the evidence directory and the site's signing key, return the manifest digest of
    the chain's newest counted sample check (zeros when it has none).

    Raise ChainUnreadable (exit 3) when chain.jsonl cannot be read."""
    chain = evidence_dir / CHAIN
    if not evidence_dir.is_dir():
        return ZERO_DIGEST
    with chain_read_lock(evidence_dir):
        entries = read_chain(chain) if chain.is_file() else []
        pending = [entry for _, entry in unchained(evidence_dir, entries, key)]
    for entry in reversed([*entries, *pending]):
        if entry.kind == "verify" and counted_sample(_report(evidence_dir, entry)):
            return entry.manifest_sha256
    return ZERO_DIGEST


def _report(evidence_dir: Path, entry: ChainEntry) -> Any:
    """Return a package's report.json, from its directory or else its tarball; None when
    neither can be read (`evidence verify` names the package)."""
    try:
        return parse_json(read_regular(evidence_dir / entry.name / REPORT_JSON))
    except (OSError, ValueError):
        pass
    tarball = evidence_dir / f"{entry.name}{TARBALL_SUFFIX}"
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            member = tar.getmember(f"{entry.name}/{REPORT_JSON}")
            stream = tar.extractfile(member) if member.isreg() else None
            if stream is None or member.size > _REPORT_LIMIT:
                return None
            return parse_json(stream.read())
    except (OSError, KeyError, ValueError, tarfile.TarError, EOFError):
        logger.warning("%s: neither its directory nor its tarball can be read", entry.name)
        return None
