"""The requirements of 银发[2002]260号 (R1–R42) clause by clause, and their status from the
findings of the rules that judge them.

The list is playbooks/rules/requirements.yml (beside the rule pack); which rule judges a
requirement is said once, in the pack (each rule's `requirements:`). `judge_requirements`
puts every requirement beside the findings of its rules and rolls them up:

* no rule names the requirement: 无法判定 ("no rule yet"), never 不适用 and never left out;
* otherwise the worst of its findings, in the order 不符合, 部分符合, 无法判定, 符合; 不适用 only
  when every finding is 不适用.

This is the one place a requirement is judged; `drctl report` only lays it out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from orchestrator.errors import InputError
from orchestrator.input_files import SAFE_LOADER
from orchestrator.resources import resource_path
from orchestrator.rules.finding import Finding
from orchestrator.rules.rule import RulePack
from orchestrator.rules.status import Status

_ID = re.compile(r"^R(\d+)$")
_KEYS = frozenset({"id", "article", "strength", "text", "summary_en"})
_SOURCES = re.compile(r"^(jobs:[a-z_]+|verifications|drills|switchover_plans)$")
# Worst first: the roll-up of several findings is the first of these any finding has.
_ROLL_UP = (Status.NON_COMPLIANT, Status.PARTIAL, Status.UNKNOWN, Status.COMPLIANT)
NO_RULE_REASON = "no rule judges this requirement yet 尚无判定规则"


@dataclass(frozen=True)
class Requirement:
    """One requirement: its id, article, strength, the seed's phrase and an English summary."""

    id: str
    article: str
    strength: str
    text: str
    summary_en: str


@dataclass(frozen=True)
class Catalogue:
    """The requirement list, the source document, and each rule's evidence sources."""

    source: str
    requirements: tuple[Requirement, ...]
    evidence: Mapping[str, tuple[str, ...]]
    path: str


@dataclass(frozen=True)
class RequirementStatus:
    """A requirement with the rules that judge it, their findings and the rolled-up status."""

    requirement: Requirement
    rules: tuple[str, ...]
    findings: tuple[Finding, ...]
    status: Status
    reason: str


def default_catalogue_path() -> Path:
    """Return the shipped playbooks/rules/requirements.yml."""
    return resource_path("playbooks", "rules", "requirements.yml")


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Given the file (default: the shipped one), return the requirement list. Raise
    InputError naming the file and every problem (ids out of order, unknown keys, …)."""
    path = path or default_catalogue_path()
    try:
        data = yaml.load(path.read_bytes(), Loader=SAFE_LOADER)  # noqa: S506 - a safe loader
    except (OSError, yaml.YAMLError) as error:
        raise InputError(str(path), [f"cannot read the requirement list: {error}"]) from error
    problems: list[str] = []
    requirements = _parse_requirements(data, problems) if isinstance(data, Mapping) else []
    evidence = _parse_evidence(
        data.get("evidence") if isinstance(data, Mapping) else None, problems
    )
    if not isinstance(data, Mapping) or not isinstance(data.get("source"), str):
        problems.append("source: expected the document's name")
    if problems:
        raise InputError(str(path), problems)
    assert isinstance(data, Mapping)
    return Catalogue(str(data["source"]), tuple(requirements), evidence, str(path))


def _parse_requirements(data: Mapping[str, object], problems: list[str]) -> list[Requirement]:
    nodes = data.get("requirements")
    if not isinstance(nodes, list):
        problems.append("requirements: expected a list")
        return []
    found = []
    for index, node in enumerate(nodes):
        where = f"requirements[{index}]"
        if not isinstance(node, Mapping) or set(node) != _KEYS:
            problems.append(f"{where}: expected exactly the keys {', '.join(sorted(_KEYS))}")
            continue
        if not all(isinstance(node[key], str) and node[key] for key in _KEYS):
            problems.append(f"{where}: every value must be non-empty text")
            continue
        match = _ID.match(node["id"])
        if match is None or int(match.group(1)) != index + 1:
            problems.append(f"{where}.id: expected R{index + 1} (ids in order, none missing)")
            continue
        found.append(Requirement(*(str(node[key]) for key in Requirement.__dataclass_fields__)))
    return found


def _parse_evidence(node: object, problems: list[str]) -> dict[str, tuple[str, ...]]:
    if not isinstance(node, Mapping):
        problems.append("evidence: expected a mapping of rule id to sources")
        return {}
    parsed: dict[str, tuple[str, ...]] = {}
    for rule_id, sources in node.items():
        if not isinstance(sources, list) or not all(
            isinstance(s, str) and _SOURCES.match(s) for s in sources
        ):
            problems.append(
                f"evidence.{rule_id}: expected a list of jobs:<kind>, verifications, drills "
                "or switchover_plans"
            )
            continue
        parsed[str(rule_id)] = tuple(sources)
    return parsed


def check_against_pack(catalogue: Catalogue, pack: RulePack) -> None:
    """Raise InputError when a rule of the pack names a 260号 requirement the list lacks, or
    the evidence map names a rule the pack lacks (the two files must agree)."""
    known = {requirement.id for requirement in catalogue.requirements}
    highest = len(catalogue.requirements)
    problems = [
        f"{pack.source}: rule {rule.id} names {rid}, which {catalogue.path} does not list"
        for rule in pack
        for rid in rule.requirements
        if (match := _ID.match(rid)) and int(match.group(1)) <= highest and rid not in known
    ]
    problems += [
        f"evidence.{rule_id}: no such rule in {pack.source}"
        for rule_id in catalogue.evidence
        if rule_id not in pack
    ]
    if problems:
        raise InputError(catalogue.path, problems)


def roll_up(findings: Iterable[Finding]) -> Status:
    """Given the findings of a requirement's rules (at least one), return its status."""
    statuses = {finding.status for finding in findings}
    for status in _ROLL_UP:
        if status in statuses:
            return status
    return Status.NOT_APPLICABLE


def judge_requirements(
    catalogue: Catalogue, pack: RulePack, findings: Iterable[Finding]
) -> list[RequirementStatus]:
    """Given the requirement list, the rule pack and every finding, return each requirement
    with its rules, their findings and its status (see the module docstring)."""
    check_against_pack(catalogue, pack)
    findings = list(findings)
    rows = []
    for requirement in catalogue.requirements:
        rules = tuple(rule.id for rule in pack if requirement.id in rule.requirements)
        own = tuple(finding for finding in findings if finding.rule in rules)
        if not rules or not own:
            status, reason = Status.UNKNOWN, NO_RULE_REASON if not rules else "no finding"
        else:
            status = roll_up(own)
            counts = {s: sum(f.status is s for f in own) for s in Status}
            reason = ", ".join(f"{n} {s.label_zh}" for s, n in counts.items() if n)
        rows.append(RequirementStatus(requirement, rules, own, status, reason))
    return rows
