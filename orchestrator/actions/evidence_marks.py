"""The bad marks the evidence holds, for a restore to heed when the catalog has lost them.

A bad mark is for good (verification.md §8) and every one is written twice: in the catalog
and in a `verify` evidence package of the local, append-only chain. A catalog put back from
an older copy (a database restore after a disk failure: an honest operator's move) lacks the
marks made since; `status` warns of it (catalog_age), and a restore must not use such a point
meanwhile. So a restore reads the marks of the chain's `verify` packages too — those the
catalog does not already name (a check's or a failure's `evidence_path`): a package the
catalog names was recorded with its marks (they are committed before the package is attached),
so only the others can hold a lost one, and a long history costs a restore nothing more.
"""

from __future__ import annotations

import logging
from pathlib import PurePath

from sqlalchemy import select

from orchestrator.actions.verify_problems import evidence_marks_bad
from orchestrator.evidence.chain import read_chain
from orchestrator.evidence.untrusted_read import parse_json, read_regular
from orchestrator.model import schema
from orchestrator.runtime import Runtime

logger = logging.getLogger(__name__)


def evidence_bad_points(runtime: Runtime) -> dict[str, str]:
    """Return {recovery point id: the package that found it bad} for every point a `verify`
    package of the evidence chain marks bad; empty when the chain cannot be read (every
    command that writes evidence refuses to start then; `evidence verify --chain` says why)."""
    directory = runtime.config.evidence_dir
    try:
        entries = read_chain(directory / "chain.jsonl")
    except (OSError, ValueError) as error:
        logger.warning("evidence chain unreadable, its bad marks not consulted: %s", error)
        return {}
    marks: dict[str, str] = {}
    known = _named_by_catalog(runtime)
    for entry in entries:
        if entry.kind != "verify" or entry.name in known:
            continue
        try:
            report = parse_json(read_regular(directory / entry.name / "report.json"))
        except (OSError, ValueError):
            continue  # a package that cannot be read is `evidence verify`'s finding
        mismatches = report.get("mismatches") if isinstance(report, dict) else None
        for mismatch in mismatches if isinstance(mismatches, list) else []:
            if evidence_marks_bad(mismatch):
                marks.setdefault(str(mismatch.get("recovery_point")), entry.name)
    return marks


def _named_by_catalog(runtime: Runtime) -> set[str]:
    """Return the names of the evidence packages the catalog's checks and failures name."""
    paths = select(schema.verifications.c.evidence_path).union(
        select(schema.integrity_failures.c.evidence_path)
    )
    with runtime.catalog.begin() as connection:
        return {PurePath(path).name for (path,) in connection.execute(paths) if path}
