"""argparse for drctl: the global options (before or after the command), the command tree
built from the table, and usage errors raised into the error boundary instead of exiting."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from orchestrator import __version__
from orchestrator.errors import InputError

if TYPE_CHECKING:
    from orchestrator.cli.call import Call

Handler = Callable[["Call"], int]
Arguments = Callable[[argparse.ArgumentParser], None]

# The global options: flags, argparse settings, and the default at the top level. Every
# command accepts them before or after its name; add a row to add one (e.g. -q).
GLOBAL_OPTIONS: tuple[tuple[tuple[str, ...], Mapping[str, Any], object], ...] = (
    (("-c", "--config"), {"help": "site config (default ./dr.yml)"}, "dr.yml"),
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


class DrctlParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors go to drctl's error boundary (exit 2, JSON envelope)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", self.format_usage())


@dataclass(frozen=True)
class Command:
    """One drctl command: its words (`drill run`), help, handler and its own arguments."""

    name: str
    help: str
    handler: Handler
    arguments: Arguments | None = None
    example: str = ""
    exit_codes: str = EXIT_CODES

    def epilog(self) -> str:
        """Return the help's closing text: an example, then the exit codes."""
        example = f"example:\n  {self.example}\n\n" if self.example else ""
        return example + self.exit_codes


def global_options(*, top: bool) -> argparse.ArgumentParser:
    """Return the parent parser of the global options. Below the top level their defaults
    are suppressed, so an option given before the command is not reset by the subparser."""
    options = argparse.ArgumentParser(add_help=False)
    for flags, settings, default in GLOBAL_OPTIONS:
        options.add_argument(*flags, default=default if top else argparse.SUPPRESS, **settings)
    return options


def make_parser(commands: Sequence[Command], groups: Mapping[str, str]) -> DrctlParser:
    """Given the command table and the help of each command group (`drill`, `calendar` …),
    return the parser; each leaf sets `command_name` to its command's name."""
    parser = DrctlParser(
        prog="drctl",
        description="Disaster-recovery and backup-verification orchestrator (银发[2002]260号).",
        parents=[global_options(top=True)],
        epilog=TOP_EXAMPLES + "\n\n" + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"drctl {__version__}")
    levels: dict[str, Any] = {
        "": parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    }
    for command in commands:
        *group_words, leaf = command.name.split()
        for depth in range(1, len(group_words) + 1):
            prefix = " ".join(group_words[:depth])
            if prefix not in levels:
                group = levels[" ".join(group_words[: depth - 1])].add_parser(
                    group_words[depth - 1],
                    help=groups[prefix],
                    parents=[global_options(top=False)],
                )
                levels[prefix] = group.add_subparsers(
                    dest=f"{prefix.replace(' ', '_')}_command", required=True, metavar="COMMAND"
                )
        sub = levels[" ".join(group_words)].add_parser(
            leaf,
            help=command.help,
            description=command.help,
            epilog=command.epilog(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
            parents=[global_options(top=False)],
        )
        sub.set_defaults(command_name=command.name)
        if command.arguments is not None:
            command.arguments(sub)
    return parser
