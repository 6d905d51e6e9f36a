"""The calendar override file: statutory holidays and make-up working days the package lacks.

The `chinesecalendar` package carries the State Council holiday notices for 2004-2026 only. A
site lists later years (and any correction) in a YAML file named by `calendar: {overrides: PATH}`
in `dr.yml`::

    # 国务院办公厅关于2027年部分节假日安排的通知 (copy the dates from the published notice)
    years:
      2027:
        source: "国办发明电〔2026〕N号"     # optional, printed in evidence
        holidays: [2027-01-01, 2027-02-06, 2027-02-07]   # days off (放假), weekends included or not
        workdays: [2027-01-31]                            # weekend make-up working days (调休上班)
    corrections:                  # optional: fix single dates in years the package covers
      holidays: [2026-12-31]
      workdays: []

Meaning:

* A year under `years` is **complete** and replaces the package for that year: Monday-Friday
  are working days unless listed under `holidays`; Saturday and Sunday are days off unless
  listed under `workdays`. `holidays` must not be empty (every notice lists some).
* `corrections` only touch years the package covers and that are not under `years`.
* Errors, all reported at once with the file and the path inside it: a value that is not an
  ISO date (`YYYY-MM-DD`), a date outside its year key, a date listed as both holiday and
  working day, an unknown key, a year outside 1900-2199.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path

from orchestrator.errors import InputError

TYPE_CHECKING = False  # not `typing`: `drctl calendar` imports this module (cli/output.py)
if TYPE_CHECKING:
    from typing import Any, Self

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TOP_KEYS = frozenset({"years", "corrections"})
_YEAR_KEYS = frozenset({"holidays", "workdays", "source"})
_CORRECTION_KEYS = frozenset({"holidays", "workdays"})
_MIN_YEAR, _MAX_YEAR = 1900, 2199


@functools.cache
def _plain_date_loader() -> Any:
    """Return a SafeLoader that keeps dates as strings, so `2027-02-30` is reported instead of
    crashing. Made on first use: a site without an override file never loads YAML here
    (`drctl calendar` starts faster; docs/benchmarks.md, start-up)."""
    import yaml

    class PlainDateLoader(yaml.SafeLoader):
        pass

    PlainDateLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return PlainDateLoader


class _Record:
    """An immutable record, equal to another of its class with equal fields: what a frozen
    dataclass gives, without importing `dataclasses` (with `inspect`, about as long as the rest
    of `drctl calendar`'s start; docs/benchmarks.md, start-up). Fields are the `__slots__`;
    those in `_unhashed` are left out of the hash."""

    __slots__: tuple[str, ...] = ()
    _unhashed: frozenset[str] = frozenset()

    def __init__(self, **fields: object) -> None:
        for name in self.__slots__:
            object.__setattr__(self, name, fields[name])

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable: cannot set {name}")

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, _Record)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, n) for n in self.__slots__ if n not in self._unhashed))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"

    def replace(self, **changes: object) -> Self:
        """Return a copy with the named fields changed (`dataclasses.replace`)."""
        return type(self)(**{name: getattr(self, name) for name in self.__slots__} | changes)


class YearOverride(_Record):
    """One year's complete statutory calendar: its days off and its weekend make-up working days."""

    __slots__ = ("year", "holidays", "workdays", "source")
    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: str | None

    def __init__(
        self,
        year: int,
        holidays: frozenset[date],
        workdays: frozenset[date],
        source: str | None = None,
    ) -> None:
        super().__init__(year=year, holidays=holidays, workdays=workdays, source=source)


class CalendarOverrides(_Record):
    """The parsed override file: complete years, single-date corrections, and where it came from."""

    __slots__ = ("years", "corrected_holidays", "corrected_workdays", "path", "sha256")
    _unhashed = frozenset({"years"})
    years: Mapping[int, YearOverride]
    corrected_holidays: frozenset[date]
    corrected_workdays: frozenset[date]
    path: str | None
    sha256: str | None

    def __init__(
        self,
        years: Mapping[int, YearOverride] | None = None,
        corrected_holidays: frozenset[date] = frozenset(),
        corrected_workdays: frozenset[date] = frozenset(),
        path: str | None = None,
        sha256: str | None = None,
    ) -> None:
        super().__init__(
            years={} if years is None else years,
            corrected_holidays=corrected_holidays,
            corrected_workdays=corrected_workdays,
            path=path,
            sha256=sha256,
        )


def load_overrides(path: Path, package_years: range) -> CalendarOverrides:
    """Given the override file's path and the years the package covers, return the overrides.

    Raise InputError naming the file if it cannot be read, is not YAML, or breaks a rule of the
    format (every problem at once, each with its path inside the file).
    """
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InputError(source, [f"cannot read the calendar overrides file: {error}"]) from error
    # Here, not at the top: a site without an override file needs neither (drctl calendar).
    import hashlib

    import yaml

    try:
        data = yaml.load(raw, Loader=_plain_date_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        raise InputError(source, [f"not valid YAML: {error}"]) from error
    overrides = parse_overrides(data, source, package_years)
    return CalendarOverrides(
        years=overrides.years,
        corrected_holidays=overrides.corrected_holidays,
        corrected_workdays=overrides.corrected_workdays,
        path=source,
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def parse_overrides(data: object, source: str, package_years: range) -> CalendarOverrides:
    """Given the loaded YAML of an override file, return the overrides.

    `source` names the file in errors. Raise InputError with every problem found.
    """
    problems: list[str] = []
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise InputError(source, [f"(top level): expected a mapping, got {_kind(data)}"])
    for key in data:
        if key not in _TOP_KEYS:
            problems.append(f"{key}: unknown key; expected one of {_listing(_TOP_KEYS)}")
    years = _parse_years(data.get("years"), problems)
    holidays, workdays = _parse_corrections(data.get("corrections"), years, package_years, problems)
    if problems:
        raise InputError(source, problems)
    return CalendarOverrides(years=years, corrected_holidays=holidays, corrected_workdays=workdays)


def _parse_years(node: object, problems: list[str]) -> dict[int, YearOverride]:
    if node is None:
        return {}
    if not isinstance(node, Mapping):
        problems.append(f"years: expected a mapping of year to its days, got {_kind(node)}")
        return {}
    years: dict[int, YearOverride] = {}
    for key, entry in node.items():
        year = _parse_year_key(key)
        if year is None:
            problems.append(f"years.{key}: expected a year between {_MIN_YEAR} and {_MAX_YEAR}")
            continue
        prefix = f"years.{year}"
        if year in years:
            problems.append(f"{prefix}: listed twice")
            continue
        if not isinstance(entry, Mapping):
            problems.append(f"{prefix}: expected a mapping with holidays and workdays")
            continue
        for entry_key in entry:
            if entry_key not in _YEAR_KEYS:
                problems.append(
                    f"{prefix}.{entry_key}: unknown key; expected one of {_listing(_YEAR_KEYS)}"
                )
        holidays = _parse_dates(entry.get("holidays"), f"{prefix}.holidays", year, problems)
        workdays = _parse_dates(entry.get("workdays"), f"{prefix}.workdays", year, problems)
        if "holidays" not in entry:
            problems.append(f"{prefix}.holidays: missing; list the year's days off")
        elif entry.get("holidays") in (None, []):
            problems.append(f"{prefix}.holidays: empty; every holiday notice lists days off")
        _report_both(holidays, workdays, prefix, problems)
        year_source = entry.get("source")
        if year_source is not None and not isinstance(year_source, str):
            problems.append(f"{prefix}.source: expected text, got {_kind(year_source)}")
            year_source = None
        years[year] = YearOverride(year, frozenset(holidays), frozenset(workdays), year_source)
    return years


def _parse_corrections(
    node: object,
    years: Mapping[int, YearOverride],
    package_years: range,
    problems: list[str],
) -> tuple[frozenset[date], frozenset[date]]:
    if node is None:
        return frozenset(), frozenset()
    if not isinstance(node, Mapping):
        problems.append(f"corrections: expected holidays and workdays, got {_kind(node)}")
        return frozenset(), frozenset()
    for key in node:
        if key not in _CORRECTION_KEYS:
            problems.append(
                f"corrections.{key}: unknown key; expected one of {_listing(_CORRECTION_KEYS)}"
            )
    parsed: dict[str, list[date]] = {}
    for kind in ("holidays", "workdays"):
        path = f"corrections.{kind}"
        parsed[kind] = _parse_dates(node.get(kind), path, None, problems)
        for index, day in enumerate(parsed[kind]):
            if day.year in years:
                problems.append(
                    f"{path}[{index}]: {day} is in {day.year}, which is given under "
                    f"years.{day.year}; list it there"
                )
            elif day.year not in package_years:
                problems.append(
                    f"{path}[{index}]: {day} is in {day.year}, which the chinesecalendar package "
                    f"does not cover; give the whole year under years.{day.year}"
                )
    _report_both(parsed["holidays"], parsed["workdays"], "corrections", problems)
    return frozenset(parsed["holidays"]), frozenset(parsed["workdays"])


def _parse_dates(node: object, path: str, year: int | None, problems: list[str]) -> list[date]:
    if node is None:
        return []
    if not isinstance(node, list):
        problems.append(f"{path}: expected a list of dates (YYYY-MM-DD), got {_kind(node)}")
        return []
    days: list[date] = []
    for index, item in enumerate(node):
        day = _parse_date(item)
        if day is None:
            problems.append(f"{path}[{index}]: {item!r} is not a date (expected YYYY-MM-DD)")
        elif year is not None and day.year != year:
            problems.append(f"{path}[{index}]: {day} is not in {year}")
        else:
            days.append(day)
    return days


def _parse_date(item: object) -> date | None:
    if isinstance(item, date):
        return item if type(item) is date else None
    if not isinstance(item, str) or not _ISO_DATE.match(item):
        return None
    try:
        return date.fromisoformat(item)
    except ValueError:
        return None


def _parse_year_key(key: object) -> int | None:
    if isinstance(key, bool):
        return None
    if isinstance(key, str) and key.isdigit():
        key = int(key)
    if isinstance(key, int) and _MIN_YEAR <= key <= _MAX_YEAR:
        return key
    return None


def _report_both(
    holidays: list[date], workdays: list[date], prefix: str, problems: list[str]
) -> None:
    for day in sorted(set(holidays) & set(workdays)):
        problems.append(f"{prefix}: {day} is listed both as a holiday and as a working day")


def _kind(value: object) -> str:
    return "nothing" if value is None else type(value).__name__


def _listing(keys: frozenset[str]) -> str:
    return ", ".join(sorted(keys))
