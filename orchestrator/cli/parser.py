"""argparse for drctl: the global options (before or after the command), the command tree
built from the table, and usage errors raised into the error boundary instead of exiting."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from functools import partial

from orchestrator import __version__
from orchestrator.cli.lazy_parsers import LazySubParsers
from orchestrator.errors import InputError

# Neither `typing` nor `dataclasses` (Command is a plain class): each costs more than building
# the parser does, and `drctl --help` needs neither (docs/benchmarks.md, start-up). mypy reads
# the block as typing's TYPE_CHECKING.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

    from orchestrator.cli.call import Call

Handler = Callable[["Call"], int]
Arguments = Callable[[argparse.ArgumentParser], None]

# The global options: flags, argparse settings, and the default at the top level. Every
# command accepts them before or after its name; add a row to add one (e.g. -q).
GLOBAL_OPTIONS: tuple[tuple[tuple[str, ...], Mapping[str, Any], object], ...] = (
    # No default value: None tells the default ./dr.yml (cli/call.py) from an explicit -c,
    # which must exist (a mistyped path is never read as "no config").
    (("-c", "--config"), {"help": "site config (default ./dr.yml)"}, None),
    (("--json",), {"action": "store_true", "help": "machine output on stdout"}, False),
    (("-v", "--verbose"), {"action": "count", "help": "more logging (-vv: debug)"}, 0),
    (
        ("-q", "--quiet"),
        {"action": "store_true", "help": "no progress lines: only results, warnings and errors"},
        False,
    ),
)

EXIT_CODES = """exit codes / 退出码:
  0  ok                                                      正常
  1  a check failed (mismatch, violation, failed drill)      检查未通过
  2  usage or config error; nothing was written              用法或配置错误，未写入任何内容
  3  infrastructure (host, store or catalog unreachable)     基础设施故障"""


TOP_EXAMPLES = """examples:
  drctl drill run --sandbox                 the whole loop on a local sandbox
  drctl -c /etc/drctl/dr.yml check-config --connect
  drctl -c /etc/drctl/dr.yml status         every rule: status, measured, threshold, clause
  drctl COMMAND --help                      each command's options, an example, exit codes"""


class UsageError(InputError):
    """The command line cannot be parsed (exit 2); carries the usage of the command."""

    def __init__(self, message: str, usage: str) -> None:
        self.usage = usage
        super().__init__("command line", [message])


def help_width() -> int:
    """Return the width argparse formats help to by default, `shutil.get_terminal_size().columns
    - 2` (COLUMNS, else the terminal on stdout, else 80), without importing shutil: it loads the
    compression modules, which cost every start more than building its parsers does
    (docs/benchmarks.md, start-up)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
        columns = columns or 80
    return columns - 2


class DrctlParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors go to drctl's error boundary (exit 2, JSON envelope)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", self.format_usage())

    def _get_formatter(self) -> argparse.HelpFormatter:
        # argparse's own, with the width given (argparse makes a formatter for every argument
        # added, to check its metavar; without a width each would import shutil).
        make: Callable[..., argparse.HelpFormatter] = self.formatter_class  # takes width too
        return make(prog=self.prog, width=help_width())


class Command:
    """One drctl command: its words (`drill run`), help, handler and its own arguments."""

    __slots__ = ("name", "help", "handler", "arguments", "example", "exit_codes", "logs")

    def __init__(
        self,
        name: str,
        help: str,  # noqa: A002 - argparse's word
        handler: Handler,
        arguments: Arguments | None = None,
        *,
        example: str = "",
        exit_codes: str = EXIT_CODES,
        logs: bool = True,
    ) -> None:
        self.name = name
        self.help = help
        self.handler = handler
        self.arguments = arguments
        self.example = example
        self.exit_codes = exit_codes
        # False: the command logs nothing at the default verbosity, so drctl does not import
        # and configure logging for it unless -v asks (cli/main.py; `drctl calendar`).
        self.logs = logs

    def __repr__(self) -> str:
        return f"Command({self.name!r})"

    def epilog(self) -> str:
        """Return the help's closing text: an example, then the exit codes."""
        example = f"example:\n  {self.example}\n\n" if self.example else ""
        return example + self.exit_codes


def add_global_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """Add the global options to a parser. Below the top level their defaults are suppressed,
    so an option given before the command is not reset by the subparser. Added to each parser
    rather than copied from a parent parser: a parser more per level cost every command's start
    (argparse looks up its translations and terminal width for each; docs/benchmarks.md)."""
    for flags, settings, default in GLOBAL_OPTIONS:
        parser.add_argument(*flags, default=default if top else argparse.SUPPRESS, **settings)


def make_parser(commands: Sequence[Command], groups: Mapping[str, str]) -> DrctlParser:
    """Given the command table and the help of each command group (`drill`, `calendar` …),
    return the parser; each leaf sets `command_name` to its command's name. The parsers below
    the top are built when the command line reaches them (cli/lazy_parsers.py)."""
    parser = DrctlParser(
        prog="drctl",
        description="Disaster-recovery and backup-verification orchestrator (银发[2002]260号).",
        epilog=TOP_EXAMPLES + "\n\n" + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_global_options(parser, top=True)
    parser.add_argument("--version", action="version", version=f"drctl {__version__}")
    _add_level(parser, (), commands, groups)
    return parser


def _add_level(
    parser: argparse.ArgumentParser,
    prefix: tuple[str, ...],
    commands: Sequence[Command],
    groups: Mapping[str, str],
) -> None:
    """Declare the commands and groups one word below prefix, in table order."""
    dest = f"{'_'.join(prefix)}_command" if prefix else "command"
    level = parser.add_subparsers(
        dest=dest, required=True, metavar="COMMAND", action=LazySubParsers
    )
    assert isinstance(level, LazySubParsers)
    declared: set[str] = set()
    for command in commands:
        words = tuple(command.name.split())
        if words[: len(prefix)] != prefix or len(words) == len(prefix):
            continue
        word = words[len(prefix)]
        if word in declared:
            continue
        declared.add(word)
        if len(words) == len(prefix) + 1:
            level.add_lazy(word, command.help, partial(_leaf, command))
        else:
            group = (*prefix, word)
            build = partial(_group, group, commands, groups)
            level.add_lazy(word, groups[" ".join(group)], build)


def _leaf(command: Command, prog: str) -> DrctlParser:
    """Return the parser of one command: its help, example and exit codes, its arguments."""
    sub = DrctlParser(
        prog=prog,
        description=command.help,
        epilog=command.epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_global_options(sub, top=False)
    sub.set_defaults(command_name=command.name)
    if command.arguments is not None:
        command.arguments(sub)
    return sub


def _group(
    group: tuple[str, ...],
    commands: Sequence[Command],
    groups: Mapping[str, str],
    prog: str,
) -> DrctlParser:
    """Return the parser of a command group (`drill`, `calendar` …) and its commands."""
    sub = DrctlParser(prog=prog)
    add_global_options(sub, top=False)
    _add_level(sub, group, commands, groups)
    return sub
