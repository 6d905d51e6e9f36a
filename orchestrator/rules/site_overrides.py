"""A site's own settings for rules (dr.yml `rules:`): stricter is allowed, weaker is an error.

    rules:
      backup.rotation: {min_days: 30}
      verify.interval: {max_days: 14}
      backup.content: {severity: violation}

A weaker value quotes the clause it would break; an unknown rule or threshold is an error too.
A threshold that `follows` another (verify.interval warn_days and schedule_days follow max_days)
moves with it by the same amount when the site does not set it, so its margin is kept.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from orchestrator.errors import InputError
from orchestrator.model.settings import Attestation
from orchestrator.rules.rule import Rule, RulePack, Severity
from orchestrator.rules.threshold import (
    INTEGRAL_UNITS,
    Basis,
    Stricter,
    Threshold,
    check_value,
    format_number,
    parse_number,
)

logger = logging.getLogger(__name__)

SEVERITY_KEY = "severity"


def apply_site_overrides(
    pack: RulePack, overrides: Mapping[str, Mapping[str, Any]], source: str
) -> RulePack:
    """Given the rule pack, a site's settings per rule id and the file they come from, return
    the pack with the stricter values applied.

    Raise InputError naming `source` with every weaker value (quoting the clause), unknown rule,
    unknown threshold and malformed value, each at its path (`rules.backup.rotation.min_days`).
    """
    problems: list[str] = []
    changed: dict[str, Rule] = {}
    for rule_id, settings in overrides.items():
        path = f"rules.{rule_id}"
        if rule_id not in pack:
            problems.append(f"{path}: unknown rule{_suggest(str(rule_id), pack.ids())}")
            continue
        if not isinstance(settings, Mapping):
            problems.append(f"{path}: expected a mapping of threshold names to values")
            continue
        rule = _apply_to_rule(pack.get(rule_id), settings, path, problems)
        if rule is not None:
            changed[rule.id] = rule
    if problems:
        raise InputError(source, problems)
    for rule in changed.values():
        for threshold in rule.thresholds.values():
            if threshold.overridden:
                logger.info(
                    "Site setting for %s: %s = %s (rule pack: %s)",
                    rule.id,
                    threshold.name,
                    threshold.display,
                    format_number(threshold.pack_value),
                )
    rules = tuple(changed.get(rule.id, rule) for rule in pack.rules)
    return replace(pack, rules=rules)


def _apply_to_rule(
    rule: Rule, settings: Mapping[str, Any], path: str, problems: list[str]
) -> Rule | None:
    before = len(problems)
    severity = rule.severity
    explicit: dict[str, Fraction] = {}
    for name, raw in settings.items():
        item_path = f"{path}.{name}"
        if name == SEVERITY_KEY:
            severity = _parse_severity(rule, raw, item_path, problems) or severity
            continue
        threshold = rule.thresholds.get(name)
        if threshold is None:
            known = [*rule.thresholds, SEVERITY_KEY]
            problems.append(f"{item_path}: unknown setting{_suggest(str(name), known)}")
            continue
        value = _parse_value(threshold, raw, item_path, problems)
        if value is not None:
            explicit[name] = value
    thresholds = _with_followers(rule, explicit, path, problems)
    if len(problems) > before:
        return None
    return replace(rule, severity=severity, thresholds=MappingProxyType(thresholds))


def _parse_severity(rule: Rule, raw: object, path: str, problems: list[str]) -> Severity | None:
    if raw not in frozenset(Severity):
        problems.append(f"{path}: expected one of advisory, warning, violation, got {raw!r}")
        return None
    severity = Severity(str(raw))
    if severity.rank < rule.pack_severity.rank:
        problems.append(
            f"{path}: {severity} is lower than {rule.pack_severity} set by the rule pack for "
            f"{rule.clause.quote()}; a site may raise a severity, never lower it"
        )
        return None
    return severity


def _parse_value(
    threshold: Threshold, raw: object, path: str, problems: list[str]
) -> Fraction | None:
    value = parse_number(raw)
    if value is None:
        problems.append(f"{path}: expected a number, got {raw!r}")
        return None
    complaint = check_value(value, threshold.unit)
    if complaint:
        problems.append(f"{path}: {format_number(value)}: {complaint}")
        return None
    return value


def _with_followers(
    rule: Rule, explicit: Mapping[str, Fraction], path: str, problems: list[str]
) -> dict[str, Threshold]:
    """Return the rule's thresholds with explicit values and moved followers; report weaker ones."""
    values = {name: threshold.value for name, threshold in rule.thresholds.items()}
    values.update(explicit)
    for name, threshold in rule.thresholds.items():
        leader = threshold.follows
        if leader is None or name in explicit or leader not in explicit:
            continue
        delta = explicit[leader] - rule.thresholds[leader].value
        values[name] = _clamp(threshold.value + delta, explicit[leader], threshold)
    for name, value in explicit.items():
        threshold = rule.thresholds[name]
        if threshold.is_weaker(value):
            problems.append(f"{path}.{name}: {_weaker_message(rule, threshold, value)}")
        elif threshold.follows is not None and _beyond(value, values[threshold.follows], threshold):
            problems.append(
                f"{path}.{name}: {format_number(value)} is beyond {threshold.follows} "
                f"{format_number(values[threshold.follows])}"
            )
    return {
        name: replace(threshold, value=values[name]) for name, threshold in rule.thresholds.items()
    }


def _clamp(value: Fraction, leader_value: Fraction, threshold: Threshold) -> Fraction:
    """Keep a moved follower positive and never beyond its leader."""
    floor = Fraction(1) if threshold.unit in INTEGRAL_UNITS else leader_value / 2
    if threshold.stricter is Stricter.LOWER:
        return min(max(value, floor), leader_value)
    return max(value, leader_value)


def _beyond(value: Fraction, leader_value: Fraction, threshold: Threshold) -> bool:
    if threshold.stricter is Stricter.LOWER:
        return value > leader_value
    return value < leader_value


def _weaker_message(rule: Rule, threshold: Threshold, value: Fraction) -> str:
    required = format_number(threshold.pack_value)
    if threshold.basis in (Basis.CLAUSE, Basis.DERIVED):
        by = f"required by {rule.clause.quote()}"
    else:
        label = "bank policy default" if threshold.basis is Basis.BANK_POLICY else "interpretation"
        by = f"set by the rule pack ({label}) for {rule.clause.quote()}"
    return f"{format_number(value)} is weaker than {required} {by}"


def _suggest(name: str, known: Any) -> str:
    choices = list(known)
    close = difflib.get_close_matches(name, choices, n=1)
    if close:
        return f"; did you mean {close[0]}?"
    return f"; expected one of {', '.join(choices)}"


def attestation_problems(
    attestations: Sequence[Attestation], pack: RulePack, subjects: Collection[str]
) -> list[str]:
    """Given dr.yml's attestations, the rule pack and the names an attestation may cover
    (sites, systems, stores, `all`), return a problem for each attestation of an unknown rule
    or subject, or one that expires before it was made — an attestation nothing would read."""
    problems = []
    for index, attestation in enumerate(attestations):
        path = f"attestations[{index}]"
        if attestation.rule not in pack:
            problems.append(
                f"{path}.rule: unknown rule {attestation.rule!r}"
                + _suggest(attestation.rule, pack.ids())
            )
        if attestation.subject not in subjects:
            problems.append(
                f"{path}.subject: unknown site, system or store {attestation.subject!r}"
                + _suggest(attestation.subject, sorted(subjects))
            )
        if attestation.expires < attestation.date:
            problems.append(
                f"{path}.expires: {attestation.expires} is before its date {attestation.date}"
            )
    return problems
