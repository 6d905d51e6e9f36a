"""chain.jsonl: each malformed line named by file and line, appends that survive, and every
broken link reported."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import pytest

from orchestrator.errors import ExitCode
from orchestrator.evidence.chain import (
    ChainEntry,
    ChainUnreadable,
    append_chain_entry,
    check_chain_links,
    check_package_in_chain,
    last_manifest_digest,
    parse_chain_line,
    read_chain,
)

ZERO, A, B, C = "0" * 64, "a" * 64, "b" * 64, "c" * 64


def entry(name: str, digest: str, previous: str, kind: str = "drill") -> ChainEntry:
    return ChainEntry(name, kind, "2026-11-23T02:06:00Z", digest, previous)


def line(**changes: object) -> str:
    document = {**asdict(entry("drill-20261123T020600Z-abc123", A, ZERO)), **changes}
    return json.dumps({k: v for k, v in document.items() if v is not None})


def test_a_good_line_parses_and_every_kind_is_accepted() -> None:
    assert parse_chain_line(line(), "c line 1") == entry("drill-20261123T020600Z-abc123", A, ZERO)
    for kind in ("drill", "verify", "report"):
        assert parse_chain_line(line(kind=kind), "c").kind == kind


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", r"^c line 4: expected a JSON object: "),
        ("[1]", r"^c line 4: expected a JSON object$"),
        ('"name"', r"^c line 4: expected a JSON object$"),
        (line(name=None), r"^c line 4: expected string fields name$"),
        (line(kind=3, previous=None), r"^c line 4: expected string fields kind, previous$"),
        (
            line(kind="backup"),
            r"^c line 4\.kind: expected one of drill, verify, report, got 'backup'$",
        ),
        (line(manifest_sha256="A" * 64), r"^c line 4\.manifest_sha256: expected 64 lower-case hex"),
        (line(previous="0" * 63), r"^c line 4\.previous: expected 64 lower-case hex digits$"),
    ],
)
def test_a_malformed_line_is_named(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_chain_line(text, "c line 4")


def test_read_chain_numbers_lines_and_skips_blank_ones(tmp_path: Path) -> None:
    chain = tmp_path / "chain.jsonl"
    assert read_chain(chain) == []
    first = entry("drill-20261123T020600Z-abc123", A, ZERO)
    second = entry("verify-20261124T020600Z-def456", B, A, kind="verify")
    append_chain_entry(chain, first)
    with chain.open("a", encoding="utf-8") as stream:
        stream.write("\n   \n")
    append_chain_entry(chain, second)
    assert read_chain(chain) == [first, second]
    with chain.open("a", encoding="utf-8") as stream:
        stream.write('{"name": "x"}\n')
    with pytest.raises(ValueError, match=rf"^{chain} line 5: expected string fields kind"):
        read_chain(chain)


def test_read_chain_refuses_a_cut_last_line(tmp_path: Path) -> None:
    chain = tmp_path / "chain.jsonl"
    whole = entry("drill-20261123T020600Z-abc123", A, ZERO)
    append_chain_entry(chain, whole)
    size = chain.stat().st_size
    with chain.open("a", encoding="utf-8") as stream:
        stream.write("\n" + line()[:40])
    with pytest.raises(ChainUnreadable) as raised:
        read_chain(chain)
    error = raised.value
    assert error.exit_code == ExitCode.INFRASTRUCTURE and isinstance(error, ValueError)
    assert error.problem.startswith(f"{chain} line 3: cut short: the file does not end with a")
    assert "the line has 40 byte(s)" in error.problem
    assert error.repair.startswith(f"keep the 2 whole line(s) before it: `truncate -s {size + 1} ")
    assert error.entries == [whole]
    assert str(error).endswith("`drctl evidence verify --chain` says how")
    chain.write_text("", encoding="utf-8")
    assert read_chain(chain) == []


def test_read_chain_refuses_text_that_is_not_utf8(tmp_path: Path) -> None:
    chain = tmp_path / "chain.jsonl"
    chain.write_bytes(b"\xff\xfe\n")
    with pytest.raises(ChainUnreadable, match=rf"^{chain}: not UTF-8 text"):
        read_chain(chain)


def test_append_writes_one_sorted_line_and_keeps_what_was_there(tmp_path: Path) -> None:
    chain = tmp_path / "chain.jsonl"
    chain.write_text("kept\n", encoding="utf-8")
    named = entry("report-20261123T020600Z-abc123", A, ZERO, kind="report")
    append_chain_entry(chain, ChainEntry(named.name, "report", "2026-11-23T02:06:00Z", A, ZERO))
    text = chain.read_text(encoding="utf-8")
    assert text.startswith("kept\n") and text.endswith("\n") and text.count("\n") == 2
    written = text.splitlines()[1]
    assert written == json.dumps(asdict(named), sort_keys=True)
    created = tmp_path / "new.jsonl"
    append_chain_entry(created, named)
    umask = os.umask(0)
    os.umask(umask)
    assert created.stat().st_mode & 0o777 == 0o644 & ~umask
    assert created.read_text(encoding="utf-8") == written + "\n"


def test_the_next_previous_is_the_last_manifest_digest() -> None:
    assert last_manifest_digest([]) == ZERO
    assert last_manifest_digest([entry("a", A, ZERO), entry("b", B, A)]) == B


def test_chain_links_name_every_break_and_duplicate() -> None:
    good = [entry("p1", A, ZERO), entry("p2", B, A), entry("p3", C, B)]
    assert check_chain_links(good, "chain.jsonl") == []
    broken = [entry("p1", A, B), entry("p2", B, A), entry("p1", C, A)]
    assert check_chain_links(broken, "chain.jsonl") == [
        f"chain.jsonl line 1 (p1): previous {B} does not match the manifest_sha256 of the line "
        f"before ({ZERO})",
        f"chain.jsonl line 3 (p1): previous {A} does not match the manifest_sha256 of the line "
        f"before ({B})",
        "chain.jsonl line 3: package p1 listed twice",
    ]


def test_a_package_is_checked_against_its_own_line_and_the_one_before() -> None:
    chain = [entry("p1", A, ZERO), entry("p2", B, A), entry("p3", C, B)]
    assert check_package_in_chain(chain, "chain.jsonl", "p1", A, ZERO) == []
    assert check_package_in_chain(chain, "chain.jsonl", "p3", C, B) == []
    assert check_package_in_chain(chain, "chain.jsonl", "p4", C, C) == [
        "chain.jsonl: package p4 is not recorded in the chain"
    ]
    assert check_package_in_chain(chain, "chain.jsonl", "p2", C, B) == [
        f"chain.jsonl: records manifest_sha256 {B} for p2, but its MANIFEST.sha256 hashes to {C}",
        f"PREVIOUS: {B} does not match the manifest_sha256 of the package before p2 in "
        f"chain.jsonl ({A})",
    ]
    assert check_package_in_chain(chain, "chain.jsonl", "p1", A, B) == [
        f"PREVIOUS: {B} does not match the manifest_sha256 of the package before p1 in "
        f"chain.jsonl ({ZERO})"
    ]


def test_a_package_listed_twice_is_judged_by_its_last_line() -> None:
    chain = [entry("p1", A, ZERO), entry("p2", B, A), entry("p1", C, B)]
    assert check_package_in_chain(chain, "c", "p1", C, B) == []


def test_a_line_keeps_non_ascii_text_as_utf_8(tmp_path: Path) -> None:
    # Gap found by mutation testing (issue 16): chain.jsonl is UTF-8 text an auditor greps;
    # a non-ASCII value is written as itself, not as a \u escape, and reads back the same.
    chain = tmp_path / "chain.jsonl"
    named = ChainEntry(
        "drill-20261123T020600Z-abc123", "drill", "2026-11-23T02:06:00Z（北京）", A, ZERO
    )
    append_chain_entry(chain, named)
    assert "（北京）".encode() in chain.read_bytes()
    assert read_chain(chain) == [named]
