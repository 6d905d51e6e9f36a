"""The exit-code contract tried as an operator's mistakes are made, on a fresh sandbox site: a
config that points somewhere wrong ends with exit 2 naming the file and the key inside it,
before any work and with nothing written — no catalog created, no evidence, no spool file —
never exit 3 in the OS's words after a check has run (docs/cli.md, Exit codes)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.actions.sandbox import prepare_sandbox
from orchestrator.cli.main import main

Tree = dict[str, tuple[int, int, int]]


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """Return the dr.yml of a fresh sandbox under tmp_path (keys made, no catalog yet)."""
    return prepare_sandbox(tmp_path / "sandbox")


def tree(root: Path) -> Tree:
    """Return every path under root with its mode, size and modification time."""
    found: Tree = {}
    for directory, names, files in os.walk(root):
        for name in names + files:
            status = os.lstat(Path(directory) / name)
            found[os.path.join(directory, name)] = (
                status.st_mode,
                status.st_size,
                status.st_mtime_ns,
            )
    return found


def edit(config: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    change(data)
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def refused(capsys: pytest.CaptureFixture[str], root: Path, *argv: str) -> str:
    """Run drctl with argv; assert it ended with exit 2, one error line, no traceback, and
    nothing written under root; return what it printed on stderr."""
    before = tree(root)
    code = main(list(argv))
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and "Traceback" not in err, err
    after = tree(root)
    changed = sorted(
        path for path in before.keys() | after.keys() if before.get(path) != after.get(path)
    )
    assert changed == [], f"exit 2 wrote {changed}"
    return err


EVIDENCE_WRITERS = [
    ("verify", "--seed", "1"),
    ("verify", "--all"),
    ("verify", "--recheck"),
    ("evidence", "anchor"),
    ("drill", "run"),
    ("report", "--year", "2026"),
    ("check-config",),
]


@pytest.mark.parametrize("command", EVIDENCE_WRITERS, ids=" ".join)
def test_an_evidence_directory_that_is_a_file_is_refused_before_any_work(
    site: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    taken = site.parent / "evidence-is-a-file"
    taken.write_text("not a directory\n", encoding="utf-8")
    edit(site, lambda data: data["evidence"].update(directory=str(taken)))
    err = refused(capsys, site.parent.parent, "-c", str(site), *command)
    assert str(site) in err
    assert f"evidence.directory: {taken} is not a directory" in err


@pytest.mark.parametrize(
    "command",
    [("status",), ("verify", "--plan"), ("run-due", "--plan")],
    ids=" ".join,
)
def test_a_reader_on_a_site_without_a_catalog_creates_none_to_say_so(
    site: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    err = refused(capsys, site.parent.parent, "-c", str(site), *command)
    assert "no catalog (no schema)" in err and "drctl catalog upgrade" in err
    assert not (site.parent / "state").exists()


@pytest.mark.parametrize(
    "command", [("catalog", "upgrade"), ("status",), ("backup",)], ids=" ".join
)
def test_a_state_dir_that_is_a_file_is_a_config_error_for_every_command(
    site: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    taken = site.parent / "state-is-a-file"
    taken.write_text("not a directory\n", encoding="utf-8")
    edit(site, lambda data: data.update(state_dir=str(taken)))
    err = refused(capsys, site.parent.parent, "-c", str(site), *command)
    assert (
        str(site) in err and f"state_dir: {taken} is not a directory; expected a directory" in err
    )


@pytest.mark.parametrize(
    ("url", "found"),
    [("bogus://drctl:s3cr3t-pw@db/dr", "scheme 'bogus'"), ("catalog.sqlite", "no scheme")],
)
def test_a_catalog_url_drctl_cannot_open_is_a_config_error_not_an_internal_one(
    site: Path, capsys: pytest.CaptureFixture[str], url: str, found: str
) -> None:
    """SQLAlchemy's NoSuchModuleError ended every catalog command with "internal error …
    please report" (exit 3), after check-config had passed the URL."""
    edit(site, lambda data: data.update(catalog_url=url))
    for command in (("check-config",), ("status",), ("backup",)):
        err = refused(capsys, site.parent.parent, "-c", str(site), *command)
        assert f"{site}: 1 error(s)" in err
        assert "catalog_url: expected sqlite:///PATH or postgresql://" in err and found in err
        assert "s3cr3t-pw" not in err and "internal error" not in err


@pytest.mark.parametrize(
    "command",
    [
        ("replication", "probe"),
        ("issue", "add", "--description", "d", "--status", "长期观察", "--owner", "o", "--dry-run"),
        ("issue", "update", "ISSUE-1", "--owner", "o", "--dry-run"),
        ("issue", "update", "ISSUE-1", "--owner", "o"),
    ],
    ids=lambda command: " ".join(command[:2] + command[-1:]),
)
def test_a_refusal_or_a_dry_run_creates_no_catalog(
    site: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    """`replication probe` with nothing to probe, the issue register's dry runs and an update
    of an issue a site without a catalog cannot hold, created and migrated the catalog first;
    the refusal named `dr.yml`, not the config given."""
    err = refused(capsys, site.parent.parent, "-c", str(site), *command)
    assert str(site) in err or "no catalog (no schema)" in err
    assert not (site.parent / "state").exists()


def test_issue_add_refuses_its_values_before_it_makes_the_catalog(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    command = ("issue", "add", "--description", "d", "--status", "限期整改", "--owner", "o")
    err = refused(capsys, site.parent.parent, "-c", str(site), *command)
    assert "--due: required for 限期整改" in err


@pytest.mark.parametrize(
    "command",
    [("-c", "/tmp/" + "a" * 5000, "status"), ("evidence", "verify", "/tmp/" + "b" * 5000)],
    ids=["-c", "evidence verify PATH"],
)
def test_a_path_too_long_to_name_a_file_is_a_usage_error(
    site: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    """The OS's ENAMETOOLONG reached the boundary as an infrastructure failure (exit 3)."""
    err = refused(capsys, site.parent.parent, *command)
    assert "File name too long; expected a shorter path" in err and len(err) < 400


def test_a_mistyped_new_key_file_is_a_usage_error_not_a_lost_key(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`keys rotate-kek --new` naming no file ended as KeyUnavailable (exit 3), the code of a
    configured key that is not held here."""
    missing = site.parent / "no-such-kek.hex"
    command = ("keys", "rotate-kek", "--new", str(missing), "--dry-run")
    err = refused(capsys, site.parent.parent, "-c", str(site), *command)
    assert "--new: 1 error(s)" in err and f"{missing}: no such file" in err


def test_evidence_verify_chain_names_the_config_key_of_a_directory_it_cannot_read(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The refusal said `command line: … no such directory` for dr.yml's evidence.directory
    naming a file."""
    taken = site.parent / "evidence-is-a-file"
    taken.write_text("not a directory\n", encoding="utf-8")
    edit(site, lambda data: data["evidence"].update(directory=str(taken)))
    err = refused(capsys, site.parent.parent, "-c", str(site), "evidence", "verify", "--chain")
    assert f"error: {site}: 1 error(s)" in err
    assert f"evidence.directory: {taken}: not a directory" in err
