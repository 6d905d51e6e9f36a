"""The values of the rule pack: rules, their clauses and thresholds, as frozen dataclasses.

Loading and checking the pack file is `orchestrator.rules.pack`; making values stricter for a
site is `orchestrator.rules.site_overrides`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from orchestrator.rules import figures

# The rules of DESIGN §1: code, metrics and alerts use these ids, so the pack must have them all.
REQUIRED_RULE_IDS = (
    "backup.full_interval",
    "backup.rotation",
    "verify.interval",
    "verify.sample",
    "offsite.copy",
    "network.availability",
    "network.max_outage",
    "logs.operation_retention",
    "logs.accounting_retention",
    "backup.content",
    "switchover.notice",
    "dr.bidirectional",
    "dr.mirroring",
    "restore.duration",
    "storage.encryption",
    "encryption.key_escrow",
    "drill.yearly",
    "drill.objectives",
    "power.ups",
)
INTEGRAL_UNITS = frozenset({"working_days", "days", "generations", "seconds", "years", "count"})
UNITS = INTEGRAL_UNITS | {"hours", "ratio"}


class Severity(enum.StrEnum):
    """How bad a non-compliant finding is (requirements.md A16), mildest first."""

    ADVISORY = "advisory"
    WARNING = "warning"
    VIOLATION = "violation"

    @property
    def rank(self) -> int:
        """Return the order of this severity: higher is more severe."""
        return list(Severity).index(self)


class Stricter(enum.StrEnum):
    """Which direction of a threshold value is stricter."""

    LOWER = "lower"
    HIGHER = "higher"


class Comparison(enum.StrEnum):
    """How a measurement passes a threshold: measured <=, <, >=, > the value."""

    LE = "le"
    LT = "lt"
    GE = "ge"
    GT = "gt"


class Basis(enum.StrEnum):
    """Where a threshold's number comes from."""

    CLAUSE = "clause"  # the number is in the text
    DERIVED = "derived"  # arithmetic on the text's number (6个月 -> 184 days)
    INTERPRETATION = "interpretation"  # a requirements.md §4 choice
    BANK_POLICY = "bank_policy"  # a default the text does not give


@dataclass(frozen=True)
class Clause:
    """A clause of a source text: document, article and the original Chinese phrase."""

    source: str
    article: str
    text: str

    def quote(self) -> str:
        """Return the clause as cited in reports: `银发[2002]260号 第七条 「…」`."""
        return f"{self.source} {self.article} 「{self.text}」"


@dataclass(frozen=True)
class Threshold:
    """One number of a rule, its unit, and which way a site may move it."""

    name: str
    value: Fraction
    unit: str
    stricter: Stricter
    basis: Basis
    pack_value: Fraction
    comparison: Comparison | None = None
    follows: str | None = None

    @property
    def display(self) -> str:
        """Return the value as a plain decimal (`7`, `0.1`, `0.99995`)."""
        return format_number(self.value)

    @property
    def overridden(self) -> bool:
        """Return whether the site changed this value from the rule pack's."""
        return self.value != self.pack_value

    def is_weaker(self, candidate: Fraction) -> bool:
        """Given a candidate value, return whether it is weaker than the rule pack's value."""
        if self.stricter is Stricter.LOWER:
            return candidate > self.pack_value
        return candidate < self.pack_value

    def passes(self, measured: Fraction | int) -> bool:
        """Given a measurement, return whether it meets this threshold.

        Raise ValueError for a threshold that is not a pass/fail bound (no comparison).
        """
        if self.comparison is None:
            raise ValueError(f"threshold {self.name} is not a pass/fail bound")
        return {
            Comparison.LE: measured <= self.value,
            Comparison.LT: measured < self.value,
            Comparison.GE: measured >= self.value,
            Comparison.GT: measured > self.value,
        }[self.comparison]


@dataclass(frozen=True)
class Category:
    """A backup-content category a system must declare (seed 002 第六十五条)."""

    id: str
    title_zh: str
    title_en: str


@dataclass(frozen=True)
class Rule:
    """One rule of the pack, with the site's stricter values already applied."""

    id: str
    title_zh: str
    title_en: str
    tier: str
    strength: str
    severity: Severity
    pack_severity: Severity
    clause: Clause
    thresholds: Mapping[str, Threshold] = field(hash=False)
    related_clauses: tuple[Clause, ...] = ()
    requirements: tuple[str, ...] = ()
    judged_en: str = ""
    required_categories: tuple[Category, ...] = ()
    counting_convention: str | None = None
    attested: str | None = None  # judged from dr.yml attestations: per `all` or per `sites`

    def threshold(self, name: str) -> Threshold:
        """Given a threshold name, return it. Raise KeyError naming the rule if it has none."""
        try:
            return self.thresholds[name]
        except KeyError:
            known = ", ".join(self.thresholds) or "none"
            raise KeyError(f"rule {self.id} has no threshold {name!r} (has: {known})") from None

    def value(self, name: str) -> Fraction:
        """Given a threshold name, return its value."""
        return self.threshold(name).value


@dataclass(frozen=True)
class RulePack:
    """Every rule, looked up by id, plus where the pack came from (for evidence)."""

    rules: tuple[Rule, ...]
    source: str
    sha256: str
    version: int = 1

    def get(self, rule_id: str) -> Rule:
        """Given a rule id, return the rule. Raise KeyError if the pack has no such rule."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(f"no rule {rule_id!r} in the rule pack {self.source}")

    def __getitem__(self, rule_id: str) -> Rule:
        return self.get(rule_id)

    def __contains__(self, rule_id: object) -> bool:
        return any(rule.id == rule_id for rule in self.rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def ids(self) -> tuple[str, ...]:
        """Return every rule id, in pack order."""
        return tuple(rule.id for rule in self.rules)


def parse_number(raw: object) -> Fraction | None:
    """Given a YAML scalar (int, float or decimal text such as "0.99995"), return it exactly as
    a Fraction, or None if it is not a finite number."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return Fraction(raw)
    if isinstance(raw, float):
        # repr gives the shortest text that round-trips, so 0.1 becomes exactly 1/10
        raw = repr(raw)
    if isinstance(raw, str):
        try:
            return Fraction(raw.strip())
        except (ValueError, ZeroDivisionError):
            return None
    return None


def check_value(value: Fraction, unit: str) -> str | None:
    """Given a threshold value and its unit, return what is wrong with it, or None."""
    if value <= 0:
        return "expected a positive number"
    if unit == "ratio" and value > 1:
        return "expected a ratio between 0 and 1"
    if unit in INTEGRAL_UNITS and value.denominator != 1:
        return f"expected a whole number of {unit.replace('_', ' ')}"
    return None


def format_number(value: Fraction) -> str:
    """Given an exact value, return it as plain decimal text, or `p/q` if it has no finite
    decimal form (orchestrator.rules.figures.number)."""
    return figures.number(value)
