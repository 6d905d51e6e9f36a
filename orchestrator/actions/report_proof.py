"""The evidence step of `drctl report`: every package the report cites, checked, and the
findings that rest on one that cannot be shown, no longer judged on its strength.

The catalog's drill and verification rows name their evidence package and its manifest digest.
`drctl status` judges from those rows alone (it must stay fast); the report, a signed document,
claims no more than it can show. Each package it cites (a row of the period, or a drill or
sampled check the rules read from before it) is checked once, the way `drctl evidence verify`
does (evidence/verify.check_package against the fingerprints pinned in dr.yml), and its
manifest digest compared with the one the catalog recorded. A package signed by a retired key
(evidence.retired_fingerprints) is shown only when it comes, in chain order, before the first
package signed by a current key (evidence/chain_check.py). A package missing, failing that
check, whose digest differs, or never recorded on a row that has a verdict, cannot be shown.

When one cannot be shown, the period is judged again through the same path from the catalog
without those rows (and the restore timings they recorded). A finding that turns worse
without them rested on them: it becomes 无法判定 (unknown: docs/rules.md, the data needed to
judge is missing; never compliant), its reason naming the packages and what the packages that
verify show. A finding no worse without them keeps its verdict: the report never judges a
rule better because a package is gone (a failed drill's row still counts against the rule).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from orchestrator.actions.evidence_setup import EvidenceSetup, pinned_retired, pinned_trust
from orchestrator.actions.report_evidence import Period
from orchestrator.config import LoadedConfig
from orchestrator.evidence.chain_check import before_rotation, check_chain
from orchestrator.evidence.layout import TARBALL_SUFFIX
from orchestrator.evidence.verify import Trust, check_package, untrusted_signer
from orchestrator.model import schema
from orchestrator.model.catalog import Catalog
from orchestrator.model.snapshot import Snapshot
from orchestrator.rules.finding import Finding
from orchestrator.rules.status import Status

# Verifications that no rule reads (integrity scans, re-checks): cited only when in the period.
_UNREAD_KINDS = ("all", "recheck")
# Rows with no verdict: no package is expected of them.
_NO_VERDICT = ("running", "aborted")
# Worst last, as the requirement roll-up orders them.
_ORDER = (
    Status.NOT_APPLICABLE,
    Status.COMPLIANT,
    Status.PARTIAL,
    Status.UNKNOWN,
    Status.NON_COMPLIANT,
)
STATES = {
    "verified": ("已核验", "verified"),
    "missing": ("证据包缺失", "package missing"),
    "not_recorded": ("未记录证据包", "no package recorded"),
    "fails": ("证据包未通过校验", "package fails verification"),
    "digest_differs": ("清单摘要与目录记录不符", "manifest digest differs from the catalog's"),
}


@dataclass(frozen=True)
class Cited:
    """One catalog row whose package the report cites: `drills` or `verifications`."""

    table: str
    id: str
    kind: str
    status: str
    path: str | None
    manifest_sha256: str | None


@dataclass(frozen=True)
class Proof:
    """What checking a cited row's package found."""

    cited: Cited
    state: str  # a key of STATES
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.state == "verified"

    @property
    def name(self) -> str:
        """Return the package's name, or the row's when none is recorded."""
        if self.cited.path:
            return Path(self.cited.path).name
        return f"({self.cited.table} {self.cited.id})"

    def to_dict(self) -> dict[str, Any]:
        """Return the proof as JSON-able data (state with its Chinese and English label)."""
        zh, en = STATES[self.state]
        return {
            "record": self.cited.table,
            "id": self.cited.id,
            "kind": self.cited.kind,
            "status": self.cited.status,
            "name": self.name,
            "path": self.cited.path,
            "manifest_sha256": self.cited.manifest_sha256,
            "state": self.state,
            "state_zh": zh,
            "state_en": en,
            "problems": list(self.problems),
        }


def cited_rows(catalog: Catalog, period: Period, judged_at: float) -> list[Cited]:
    """Given the catalog, the period and the instant judged (epoch seconds), return the rows
    the report cites: every drill and verification finished in the period, and every drill
    and sampled check finished before it (the rules look back at them), oldest first."""
    rows = []
    with catalog.begin() as connection:
        for name, table in (("verifications", schema.verifications), ("drills", schema.drills)):
            for row in connection.execute(select(table).order_by(table.c.started_at)):
                moment = row.finished_at or row.started_at
                kind = row.kind if name == "verifications" else row.scenario
                if moment > judged_at or (row.status in _NO_VERDICT and not row.evidence_path):
                    continue
                if moment < period.start_ts and kind in _UNREAD_KINDS and name != "drills":
                    continue
                rows.append(
                    Cited(
                        name,
                        row.id,
                        kind,
                        row.status,
                        row.evidence_path,
                        row.evidence_manifest_sha256,
                    )
                )
    return rows


def check_cited(config: LoadedConfig, rows: Iterable[Cited]) -> list[Proof]:
    """Given the config and the cited rows, check each package once against the fingerprints
    dr.yml pins and the digest the catalog recorded, and return a proof per row."""
    trust, retired = pinned_trust(config), pinned_retired(config)
    by_path: dict[str, tuple[str, tuple[str, ...], str | None]] = {}
    proofs = []
    early: dict[str, str] | None = None  # the packages a retired key may have signed, when needed
    for cited in rows:
        if not cited.path:
            proofs.append(Proof(cited, "not_recorded"))
            continue
        if cited.path not in by_path:
            path = Path(cited.path)
            by_path[cited.path] = _check(path, trust, retired)
            if by_path[cited.path][0] == "retired":
                if early is None:
                    early = before_rotation(config.evidence_dir, trust, retired)
                by_path[cited.path] = _judge_retired(path, by_path[cited.path], early)
        state, problems, digest = by_path[cited.path]
        if state == "verified" and digest != cited.manifest_sha256:
            recorded = cited.manifest_sha256 or "none"
            problems = (f"the catalog records {recorded}, the package's manifest is {digest}",)
            state = "digest_differs"
        proofs.append(Proof(cited, state, problems))
    return proofs


def _check(path: Path, trust: Trust, retired: Trust) -> tuple[str, tuple[str, ...], str | None]:
    """Return the package's state ("retired": it verifies, signed by a retired key, its place
    in the chain not yet judged), its problems and its manifest digest."""
    if not path.exists():
        return "missing", (f"{path}: no such package",), None
    check = check_package(path, trust, retired=retired)
    problems = list(check.problems)
    if check.signature_valid and check.trusted_by is None:
        problems.append(untrusted_signer(check, trust))
    if problems or not check.ok:
        return "fails", tuple(problems) or ("the signer is unknown",), check.manifest_sha256
    if check.retired:
        return (
            "retired",
            (f"signed by the retired key {check.signer_fingerprint}",),
            (check.manifest_sha256),
        )
    return "verified", (), check.manifest_sha256


def _judge_retired(
    path: Path, checked: tuple[str, tuple[str, ...], str | None], early: dict[str, str]
) -> tuple[str, tuple[str, ...], str | None]:
    """Given a package that verifies with a retired key and the packages before the rotation
    (name: manifest digest), return its state: verified when it is one of them, else fails."""
    _, problems, digest = checked
    name = path.name.removesuffix(TARBALL_SUFFIX)
    if digest is not None and early.get(name) == digest:
        return "verified", (), digest
    why = (
        f"{problems[0]}, but it is not before the first package signed by a current key in "
        "the chain: a retired key is trusted only for the packages before the rotation"
    )
    return "fails", (why,), digest


def check_whole_chain(setup: EvidenceSetup) -> dict[str, Any]:
    """Given the site's evidence settings, check its whole chain and anchor as `drctl evidence
    verify --chain` does, and return what the report states of it: ok, the packages, the
    anchor and every problem (a check that could not run is one too).

    The catalog's rows are what the report cites; a package removed with its row and its line
    of chain.jsonl (a failed check made to disappear) leaves no row to cite, only a broken
    link or an anchor past the end of the chain. Raise InfrastructureError when the anchor
    store cannot be read.
    """
    result = check_chain(setup.directory, setup.trust, setup.anchor, setup.retired)
    problems = [*result.problems, *(f"NOT checked: {item}" for item in result.not_checked)]
    return {
        "ok": result.ok,
        "packages": result.packages,
        "anchor": result.anchor_where,
        "anchors": result.anchors,
        "problems": problems,
    }


def without_unproven(snapshot: Snapshot, unproven: Sequence[Proof]) -> Snapshot:
    """Given a snapshot and the proofs that failed, return it without their rows and the
    restore timings those rows recorded."""
    verifications = {p.cited.id for p in unproven if p.cited.table == "verifications"}
    drills = {p.cited.id for p in unproven if p.cited.table == "drills"}
    sources = {f"verify {i}" for i in verifications} | {f"drill {i}" for i in drills}
    return dataclasses.replace(
        snapshot,
        verifications=tuple(v for v in snapshot.verifications if v.id not in verifications),
        drills=tuple(d for d in snapshot.drills if d.id not in drills),
        restore_timings=tuple(t for t in snapshot.restore_timings if t.source not in sources),
    )


def reconcile(
    findings: Sequence[Finding], proven: Sequence[Finding], unproven: Sequence[Proof]
) -> list[Finding]:
    """Given the findings judged from every row, those judged without the unproven rows and
    the unproven proofs, return the findings the report states: unknown where the verdict was
    better with the unproven rows than without them, unchanged otherwise."""
    without = {(f.rule, f.subject): f for f in proven}
    names = ", ".join(f"{p.name} ({STATES[p.state][1]})" for p in unproven)
    stated = []
    for finding in findings:
        other = without.get((finding.rule, finding.subject))
        worse = other is not None and _ORDER.index(other.status) > _ORDER.index(finding.status)
        if not worse or _ORDER.index(finding.status) >= _ORDER.index(Status.UNKNOWN):
            stated.append(_measured_apart(finding, other, names))
            continue
        assert other is not None
        reason = (
            f"证据无法证实 / rests on evidence that cannot be shown: {names}; judged from the "
            f"catalog's rows it would be {finding.status.label_en}; from the packages that "
            f"verify it is {other.status.label_en} ({other.reason})"
        )
        stated.append(dataclasses.replace(finding, status=Status.UNKNOWN, reason=reason))
    return stated


def _measured_apart(finding: Finding, other: Finding | None, names: str) -> Finding:
    """Given a finding kept as judged from every row and the same judged without the unproven
    ones, return it, its reason saying what the packages that verify measure when that differs:
    a verdict better than unknown must not claim, unqualified, rows no package shows."""
    if (
        other is None
        or other.measured == finding.measured
        or _ORDER.index(finding.status) >= _ORDER.index(Status.UNKNOWN)
    ):
        return finding
    reason = (
        f"{finding.reason}; measured from the catalog's rows, of which some evidence cannot be "
        f"shown / 部分证据无法证实: {names}; from the packages that verify: {other.measured}"
    )
    return dataclasses.replace(finding, reason=reason)
