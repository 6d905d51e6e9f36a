"""Paths on a host compared as the kernel reads them (orchestrator/host_paths.py)."""

from __future__ import annotations

import pytest

from orchestrator.host_paths import inside, normal, overlap


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("//srv/core", "/srv/core"),
        ("///srv//core/", "/srv/core"),
        ("/srv/dr/data/../../core", "/srv/core"),
        ("/srv/./core", "/srv/core"),
        ("srv/core/..", "srv"),
    ],
)
def test_a_path_is_folded_as_linux_reads_it(path: str, expected: str) -> None:
    assert normal(path) == expected


@pytest.mark.parametrize(
    ("one", "other", "expected"),
    [
        ("/srv/core", "//srv/core", True),
        ("/srv/sandbox/../core", "/srv/core/ledger", True),
        ("/srv", "/srv/core", True),
        ("/srv/core", "/srv/core2", False),
        ("/srv/sandbox", "/srv/core", False),
    ],
)
def test_overlap_is_one_place_or_one_inside_the_other(one: str, other: str, expected: bool) -> None:
    assert overlap(one, other) is expected
    assert overlap(other, one) is expected


def test_inside_is_one_way() -> None:
    assert inside("/srv/core/ledger", "//srv/core")
    assert not inside("/srv", "/srv/core")
