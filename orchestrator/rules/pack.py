"""The rule pack: every rule with its clause and thresholds, read from playbooks/rules/pack.yml.

The YAML file is the one source of truth shared with the playbooks; this module loads it, checks
it (every problem at once, each with its path, e.g. `rules[3].thresholds.min_days.value:
expected a number`) and returns frozen values. `apply_site_overrides` makes values stricter
for a site and refuses weaker ones, quoting the clause.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import yaml

from orchestrator.errors import InputError
from orchestrator.input_files import SAFE_LOADER
from orchestrator.resources import resource_path
from orchestrator.rules.rule import REQUIRED_RULE_IDS, Category, Clause, Rule, RulePack, Severity
from orchestrator.rules.site_overrides import apply_site_overrides
from orchestrator.rules.status import Status
from orchestrator.rules.threshold import (
    INTEGRAL_UNITS,
    UNITS,
    Basis,
    Comparison,
    Stricter,
    Threshold,
    check_value,
    format_number,
    parse_number,
)

logger = logging.getLogger(__name__)

_RULE_ID = re.compile(r"^[a-z]+(\.[a-z_]+)+$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_TOP_KEYS = frozenset({"version", "rules"})
_RULE_KEYS = frozenset(
    {
        "id",
        "title_zh",
        "title_en",
        "tier",
        "strength",
        "severity",
        "requirements",
        "clause",
        "related_clauses",
        "judged_en",
        "thresholds",
        "required_categories",
        "counting_convention",
        "attested",
    }
)
_CLAUSE_KEYS = frozenset({"source", "article", "text"})
_THRESHOLD_KEYS = frozenset({"value", "unit", "stricter", "comparison", "basis", "follows"})
_CATEGORY_KEYS = frozenset({"id", "title_zh", "title_en"})
_TIERS = frozenset({"core", "supp", "marg"})
_STRENGTHS = frozenset({"M", "S", "E"})
_CONVENTIONS = frozenset({"strict", "inclusive"})
_ATTESTED = frozenset({"all", "sites"})


def default_pack_path() -> Path:
    """Return the repository's rule pack: playbooks/rules/pack.yml beside orchestrator/."""
    return resource_path("playbooks", "rules", "pack.yml")


def load_pack(path: Path | None = None) -> RulePack:
    """Given the pack file's path (default: `default_pack_path()`), return the rule pack.

    Raise InputError naming the file and every problem if it is unreadable or invalid.
    """
    path = path or default_pack_path()
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InputError(source, [f"cannot read the rule pack: {error}"]) from error
    try:
        data = yaml.load(raw, Loader=SAFE_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as error:
        raise InputError(source, [f"not valid YAML: {error}"]) from error
    pack = parse_pack(data, source, hashlib.sha256(raw).hexdigest())
    logger.debug("Loaded %d rules from %s", len(pack.rules), source)
    return pack


def parse_pack(data: object, source: str, sha256: str = "") -> RulePack:
    """Given the loaded YAML of a rule pack, return the pack.

    Raise InputError with every problem, each prefixed with its path (`rules[3].clause.text`).
    """
    problems: list[str] = []
    if not isinstance(data, Mapping):
        raise InputError(source, [f"(top level): expected a mapping with rules, got {_kind(data)}"])
    _unknown_keys(data, _TOP_KEYS, "", problems)
    version = data.get("version", 1)
    if version != 1:
        problems.append(f"version: expected 1, got {version!r}")
    nodes = data.get("rules")
    rules: list[Rule] = []
    if not isinstance(nodes, list):
        problems.append(f"rules: expected a list of rules, got {_kind(nodes)}")
        nodes = []
    seen: set[str] = set()
    for index, node in enumerate(nodes):
        rule_id = node.get("id") if isinstance(node, Mapping) else None
        if isinstance(rule_id, str):
            if rule_id in seen:
                problems.append(f"rules[{index}].id: {rule_id} is listed twice")
            seen.add(rule_id)
        rule = _parse_rule(node, f"rules[{index}]", problems)
        if rule is not None:
            rules.append(rule)
    for rule_id in REQUIRED_RULE_IDS:
        if rule_id not in seen:
            problems.append(f"rules: missing rule {rule_id} (DESIGN §1)")
    if problems:
        raise InputError(source, problems)
    return RulePack(rules=tuple(rules), source=source, sha256=sha256, version=1)


def _parse_rule(node: object, path: str, problems: list[str]) -> Rule | None:
    if not isinstance(node, Mapping):
        problems.append(f"{path}: expected a mapping, got {_kind(node)}")
        return None
    before = len(problems)
    _unknown_keys(node, _RULE_KEYS, path, problems)
    rule_id = _text(node, "id", path, problems)
    if rule_id and not _RULE_ID.match(rule_id):
        problems.append(f"{path}.id: {rule_id!r} is not a rule id like backup.rotation")
    title_zh = _text(node, "title_zh", path, problems)
    title_en = _text(node, "title_en", path, problems)
    tier = _choice(node, "tier", _TIERS, path, problems)
    strength = _choice(node, "strength", _STRENGTHS, path, problems)
    severity = _choice(node, "severity", frozenset(Severity), path, problems)
    clause = _parse_clause(node.get("clause"), f"{path}.clause", problems)
    related = node.get("related_clauses") or []
    if not isinstance(related, list):
        problems.append(f"{path}.related_clauses: expected a list, got {_kind(related)}")
        related = []
    related_clauses = [
        _parse_clause(item, f"{path}.related_clauses[{index}]", problems)
        for index, item in enumerate(related)
    ]
    requirements = node.get("requirements") or []
    if not isinstance(requirements, list) or not all(isinstance(r, str) for r in requirements):
        problems.append(f"{path}.requirements: expected a list of requirement ids like R22")
        requirements = []
    thresholds = _parse_thresholds(node.get("thresholds"), f"{path}.thresholds", problems)
    categories = _parse_categories(node.get("required_categories"), path, problems)
    convention = node.get("counting_convention")
    if convention is not None and convention not in _CONVENTIONS:
        problems.append(f"{path}.counting_convention: expected strict or inclusive")
    attested = node.get("attested")
    if attested is not None and attested not in _ATTESTED:
        problems.append(f"{path}.attested: expected all or sites, got {attested!r}")
    judged = node.get("judged_en", "")
    if not isinstance(judged, str):
        problems.append(f"{path}.judged_en: expected text, got {_kind(judged)}")
    if len(problems) > before or clause is None or None in related_clauses:
        return None
    return Rule(
        id=rule_id,
        title_zh=title_zh,
        title_en=title_en,
        tier=tier,
        strength=strength,
        severity=Severity(severity),
        pack_severity=Severity(severity),
        clause=clause,
        thresholds=MappingProxyType(thresholds),
        related_clauses=tuple(c for c in related_clauses if c is not None),
        requirements=tuple(requirements),
        judged_en=str(judged).strip(),
        required_categories=tuple(categories),
        counting_convention=convention,
        attested=attested,
    )


def _parse_clause(node: object, path: str, problems: list[str]) -> Clause | None:
    if not isinstance(node, Mapping):
        problems.append(f"{path}: expected a mapping with source, article and text")
        return None
    _unknown_keys(node, _CLAUSE_KEYS, path, problems)
    values = [_text(node, key, path, problems) for key in ("source", "article", "text")]
    if not all(values):
        return None
    return Clause(source=values[0], article=values[1], text=values[2])


def _parse_thresholds(node: object, path: str, problems: list[str]) -> dict[str, Threshold]:
    if not isinstance(node, Mapping):
        problems.append(f"{path}: expected a mapping of threshold names, got {_kind(node)}")
        return {}
    thresholds: dict[str, Threshold] = {}
    for name, entry in node.items():
        entry_path = f"{path}.{name}"
        if not isinstance(name, str) or not _NAME.match(name):
            problems.append(f"{entry_path}: expected a lower-case threshold name")
            continue
        if not isinstance(entry, Mapping):
            problems.append(f"{entry_path}: expected a mapping with value, unit and stricter")
            continue
        before = len(problems)
        _unknown_keys(entry, _THRESHOLD_KEYS, entry_path, problems)
        value = parse_number(entry.get("value"))
        unit = _choice(entry, "unit", UNITS, entry_path, problems)
        if value is None:
            problems.append(f"{entry_path}.value: expected a number, got {entry.get('value')!r}")
        elif unit:
            complaint = check_value(value, unit)
            if complaint:
                problems.append(f"{entry_path}.value: {format_number(value)}: {complaint}")
        stricter = _choice(entry, "stricter", frozenset(Stricter), entry_path, problems)
        basis = _choice(entry, "basis", frozenset(Basis), entry_path, problems)
        comparison = entry.get("comparison")
        if comparison is not None and comparison not in frozenset(Comparison):
            problems.append(f"{entry_path}.comparison: expected one of ge, gt, le, lt")
        elif comparison is not None and stricter and _direction(comparison) != stricter:
            problems.append(
                f"{entry_path}.comparison: {comparison} contradicts stricter: {stricter}"
            )
        follows = entry.get("follows")
        if len(problems) > before or value is None:
            continue
        thresholds[name] = Threshold(
            name=name,
            value=value,
            unit=unit,
            stricter=Stricter(stricter),
            basis=Basis(basis),
            pack_value=value,
            comparison=Comparison(comparison) if comparison is not None else None,
            follows=follows if isinstance(follows, str) else None,
        )
    for name, threshold in thresholds.items():
        _check_follows(node[name].get("follows"), threshold, thresholds, f"{path}.{name}", problems)
    return thresholds


def _check_follows(
    follows: object,
    threshold: Threshold,
    thresholds: Mapping[str, Threshold],
    path: str,
    problems: list[str],
) -> None:
    if follows is None:
        return
    leader = thresholds.get(follows) if isinstance(follows, str) else None
    if leader is None or leader.follows is not None:
        problems.append(f"{path}.follows: {follows!r} is not another threshold of this rule")
    elif leader.stricter != threshold.stricter or leader.unit != threshold.unit:
        problems.append(f"{path}.follows: {follows} has another unit or direction")


def _parse_categories(node: object, path: str, problems: list[str]) -> list[Category]:
    if node is None:
        return []
    path = f"{path}.required_categories"
    if not isinstance(node, list):
        problems.append(f"{path}: expected a list of categories, got {_kind(node)}")
        return []
    categories: list[Category] = []
    for index, item in enumerate(node):
        item_path = f"{path}[{index}]"
        if not isinstance(item, Mapping):
            problems.append(f"{item_path}: expected a mapping with id, title_zh and title_en")
            continue
        _unknown_keys(item, _CATEGORY_KEYS, item_path, problems)
        values = [_text(item, key, item_path, problems) for key in ("id", "title_zh", "title_en")]
        if all(values):
            categories.append(Category(id=values[0], title_zh=values[1], title_en=values[2]))
    return categories


def _direction(comparison: str) -> Stricter:
    return Stricter.LOWER if comparison in (Comparison.LE, Comparison.LT) else Stricter.HIGHER


def _text(node: Mapping[object, object], key: str, path: str, problems: list[str]) -> str:
    value = node.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{path}.{key}: expected non-empty text, got {_kind(value)}")
        return ""
    return value.strip()


def _choice(
    node: Mapping[object, object], key: str, choices: frozenset[str], path: str, problems: list[str]
) -> str:
    value = node.get(key)
    if value not in choices:
        expected = ", ".join(sorted(choices))
        problems.append(f"{path}.{key}: expected one of {expected}, got {value!r}")
        return ""
    return str(value)


def _unknown_keys(
    node: Mapping[object, object], allowed: frozenset[str], path: str, problems: list[str]
) -> None:
    prefix = f"{path}." if path else ""
    for key in node:
        if key not in allowed:
            expected = ", ".join(sorted(allowed))
            problems.append(f"{prefix}{key}: unknown key; expected one of {expected}")


def _kind(value: object) -> str:
    return "nothing" if value is None else type(value).__name__


__all__ = [
    "INTEGRAL_UNITS",
    "REQUIRED_RULE_IDS",
    "Basis",
    "Category",
    "Clause",
    "Comparison",
    "Rule",
    "RulePack",
    "Severity",
    "Status",
    "Stricter",
    "Threshold",
    "apply_site_overrides",
    "default_pack_path",
    "format_number",
    "load_pack",
    "parse_number",
    "parse_pack",
]
