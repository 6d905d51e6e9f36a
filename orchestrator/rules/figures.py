"""The one number formatter of every finding: plain decimals, truncated, never rounded.

A figure is printed exactly when it has a finite decimal form within the places allowed;
otherwise it is cut (truncated towards zero) and ends in "…", so a failing figure is never
rounded up (or down) to the limit it fails: 999999 of 10000000 bytes is "9.9999… %", never
"10.0 %", and 1576.801 s of faults print as "1576.801 s", never "1576.8 s". No scientific
notation, ever: 15638400 s is "15638400 s".
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

Number = int | float | Fraction | Decimal
ELLIPSIS = "…"
EXACT_PLACES = 30  # beyond this a value without a finite decimal form shows as p/q


def exact(value: Number) -> Fraction:
    """Given a number, return it as an exact Fraction (a float by its shortest repr, so 0.29
    is 29/100, not the binary neighbour below it). Raise ValueError for NaN or infinity."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{value} is not a finite number")
        return Fraction(repr(value))
    return Fraction(value)


def fixed(value: Number, places: int = 3) -> str:
    """Given a number, return it in plain decimal notation with at most `places` decimals:
    exact when it fits (trailing zeros dropped), otherwise truncated towards zero with "…"."""
    number = exact(value)
    scaled = number * 10**places
    whole = abs(scaled.numerator) // scaled.denominator
    cut = Fraction(whole) != abs(scaled)
    digits = str(whole).rjust(places + 1, "0")
    text = digits if places == 0 else f"{digits[:-places]}.{digits[-places:]}".rstrip("0")
    text = text.rstrip(".")
    sign = "-" if number < 0 and (whole or cut) else ""
    return f"{sign}{text}{ELLIPSIS if cut else ''}"


def number(value: Number) -> str:
    """Given a number, return its exact decimal text (`7`, `0.1`, `0.99995`), or `p/q` when it
    has no finite decimal form within EXACT_PLACES digits."""
    fraction = exact(value)
    text = fixed(fraction, EXACT_PLACES)
    return f"{fraction.numerator}/{fraction.denominator}" if text.endswith(ELLIPSIS) else text


def percent(ratio: Number, places: int = 4) -> str:
    """Given a ratio, return it as a percentage: Fraction(99995, 100000) → "99.995 %",
    Fraction(999999, 10000000) → "9.9999… %"."""
    return f"{fixed(exact(ratio) * 100, places)} %"


def seconds(value: Number, places: int = 3) -> str:
    """Given a duration in seconds, return "<n> s" (millisecond figures print exactly)."""
    return f"{fixed(value, places)} s"


def days(value_seconds: Number, places: int = 2) -> str:
    """Given a duration in seconds, return it in days: 604799 s → "6.99… d"."""
    return f"{fixed(exact(value_seconds) / 86400, places)} d"


def hours(value: Number, places: int = 3) -> str:
    """Given a duration in hours, return "<n> h"."""
    return f"{fixed(value, places)} h"
