"""A rule's numbers: each threshold's value, unit, which way a site may move it and how it
compares, and reading, checking and writing those numbers exactly (as Fractions)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from fractions import Fraction

from orchestrator.rules import figures

INTEGRAL_UNITS = frozenset({"working_days", "days", "generations", "seconds", "years", "count"})
UNITS = INTEGRAL_UNITS | {"hours", "ratio"}


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
