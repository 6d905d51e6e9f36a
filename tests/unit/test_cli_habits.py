"""A CLI that helps: help text on every option, an example and the exit codes in every
command's help, --dry-run on every command that writes (and it writes nothing), -q, progress
events, plain-word config errors, a missing config that names -c, bilingual error lines."""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.cli import main
from orchestrator.cli.output import Output
from orchestrator.cli.parser import make_parser
from orchestrator.cli.progress import progress_from_logs
from orchestrator.cli.table import COMMANDS, GROUPS

WRITERS = (
    "backup",
    "copy-offsite",
    "verify",
    "drill run",
    "keys create",
    "evidence keygen",
    "evidence anchor",
    "run-due",
    "retention",
    "catalog rebuild",
    "catalog upgrade",
    "report",
    "issue add",
    "issue update",
)


def leaves() -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every command's own parser, by its words."""
    parser = make_parser(COMMANDS, GROUPS)

    def walk(node: argparse.ArgumentParser, words: list[str]) -> Iterator[Any]:
        for action in node._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from walk(sub, [*words, name])
        if words and not any(isinstance(a, argparse._SubParsersAction) for a in node._actions):
            yield " ".join(words), node

    yield from walk(parser, [])


def test_every_option_of_every_command_says_what_it_does() -> None:
    missing = [
        f"{words}: {action.option_strings or action.dest}"
        for words, parser in leaves()
        for action in parser._actions
        if not action.help or action.help == argparse.SUPPRESS
    ]
    assert missing == []
    assert {words for words, _ in leaves()} == {command.name for command in COMMANDS}


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_each_command_help_shows_an_example_and_the_exit_codes(
    command: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*command.name.split(), "--help"]) == 0
    text = capsys.readouterr().out
    assert "example:\n  drctl " in text
    assert "exit codes / 退出码" in text
    if command.name != "calendar is-working-day":
        assert "2  usage or config error; nothing was written" in text


@pytest.mark.parametrize("words", WRITERS)
def test_every_command_that_writes_takes_dry_run(words: str) -> None:
    parser = dict(leaves())[words]
    assert "--dry-run" in parser._option_string_actions, words


def tree(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
    }


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["backup", "--dry-run"], "would back up core-banking/ledger (sqlite path"),
        (["copy-offsite", "--dry-run"], "would copy every authenticated, good recovery point"),
        (["drill", "run", "--dry-run"], "[ 5/11] disaster"),
        (["evidence", "anchor", "--dry-run"], "dry run, nothing written"),
    ],
)
def test_a_dry_run_prints_the_plan_and_changes_nothing(
    tmp_path: Path,
    arguments: list[str],
    expected: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = prepare_sandbox(tmp_path / "sandbox")
    monkeypatch.chdir(tmp_path)
    before = tree(tmp_path)
    assert main(["-c", str(config), *arguments]) == 0
    out = capsys.readouterr().out
    assert expected in out
    assert tree(tmp_path) == before


def test_a_key_dry_run_refuses_an_existing_key_and_creates_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = prepare_sandbox(tmp_path / "sandbox")
    fresh = tmp_path / "new-key.pem"
    assert main(["-c", str(config), "evidence", "keygen", "--output", str(fresh), "--dry-run"]) == 0
    assert f"would create {fresh}" in capsys.readouterr().out
    assert not fresh.exists()
    existing = tmp_path / "keys" / "evidence-ed25519.pem"
    assert existing.is_file()  # the sandbox made it
    assert (
        main(["-c", str(config), "evidence", "keygen", "--output", str(existing), "--dry-run"]) == 2
    )
    assert "exists (its fingerprint is" in capsys.readouterr().err


def test_progress_is_json_lines_on_stderr_with_json_and_nothing_with_quiet(
    capsys: pytest.CaptureFixture[str],
) -> None:
    backup = logging.getLogger("orchestrator.actions.backup")
    with progress_from_logs(Output(True), 0):
        backup.info("backup %s/%s: recovery point %s", "core", "ledger", "p1")
    captured = capsys.readouterr()
    assert captured.out == ""
    event = json.loads(captured.err)
    assert event["event"] == "progress" and event["source"] == "backup"
    assert event["message"] == "backup core/ledger: recovery point p1"
    with progress_from_logs(Output(False, quiet=True), 0):
        backup.info("backup %s: silent", "core")
    assert capsys.readouterr().err == ""
    with progress_from_logs(Output(False), 0):
        backup.info("backup %s: shown", "core")
    assert capsys.readouterr().err == "backup core: shown\n"
    assert backup.level == logging.NOTSET and not backup.handlers  # put back as found


def test_config_errors_are_plain_words_with_file_and_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "dr.yml"
    config.write_text("version: 1\ninventory: i.ini\nsites: 5\nstores: []\nsystems: []\n")
    assert main(["-c", str(config), "check-config"]) == 2
    err = capsys.readouterr().err
    assert f"error: {config}: " in err and "用法或配置错误" in err
    assert "sites: expected a list, got 5 (a number)" in err
    assert "Input should be" not in err


def test_a_missing_config_names_dash_c_and_where_drctl_looked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["status"]) == 2
    err = capsys.readouterr().err
    assert "give the site config with -c FILE" in err
    assert str(tmp_path) in err
