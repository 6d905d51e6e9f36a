"""The values of the rule pack: rules and their clauses, as frozen dataclasses (their
thresholds: `orchestrator.rules.threshold`).

Loading and checking the pack file is `orchestrator.rules.pack`; making values stricter for a
site is `orchestrator.rules.site_overrides`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from orchestrator.rules.threshold import Threshold

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


class Severity(enum.StrEnum):
    """How bad a non-compliant finding is (requirements.md A16), mildest first."""

    ADVISORY = "advisory"
    WARNING = "warning"
    VIOLATION = "violation"

    @property
    def rank(self) -> int:
        """Return the order of this severity: higher is more severe."""
        return list(Severity).index(self)


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
