"""Gaps in rules/workday_overrides.py that mutation testing found (issue 16): a bad date under
`corrections` or under a year's `workdays` is named by its own path and index, and a make-up
working day outside its year is refused like a holiday outside it."""

from __future__ import annotations

import pytest

from orchestrator.errors import InputError
from orchestrator.rules.workday_overrides import parse_overrides
from orchestrator.rules.workdays import package_years


def problems(data: object) -> list[str]:
    with pytest.raises(InputError, match="calendar.yml") as raised:
        parse_overrides(data, "calendar.yml", package_years())
    return raised.value.problems


def test_a_bad_correction_is_named_by_its_path_and_index() -> None:
    assert problems({"corrections": {"holidays": ["2026-10-01", "soon"]}}) == [
        "corrections.holidays[1]: 'soon' is not a date (expected YYYY-MM-DD)"
    ]
    assert problems({"corrections": {"workdays": [7]}}) == [
        "corrections.workdays[0]: 7 is not a date (expected YYYY-MM-DD)"
    ]


def test_a_year_s_make_up_days_are_checked_like_its_holidays() -> None:
    data = {
        "years": {
            2027: {"holidays": ["2027-01-01"], "workdays": ["2028-01-01", "later", "2027-02-06"]}
        }
    }
    assert problems(data) == [
        "years.2027.workdays[0]: 2028-01-01 is not in 2027",
        "years.2027.workdays[1]: 'later' is not a date (expected YYYY-MM-DD)",
    ]
