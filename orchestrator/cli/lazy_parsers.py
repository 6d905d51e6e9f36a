"""Subcommands whose parsers are built on first use.

drctl has some 40 parsers (every group and command, each with the global options). Building
them all took most of `drctl --help`'s own time, yet a command line only ever enters one
path: `drctl calendar working-days` needs the top parser, `calendar` and `working-days`.
Here each subcommand is declared with its name and help (all that the listing in `--help`
and the "invalid choice" error need) and a function that builds its parser, called when
argparse looks the name up — which it does only for the word it is parsing. Walking every
choice (tests/unit/test_cli_habits.py) builds them all; the parsers and their help are the
same either way.

It extends argparse's subparsers action (`add_subparsers(action=LazySubParsers)`), which keeps
its name → parser map in `_name_parser_map` and the help listing in `_choices_actions`:
argparse's own attributes, the same from Python 3.11 to 3.13.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, MutableMapping

TYPE_CHECKING = False  # not `typing`, which costs more than the parsers saved here
if TYPE_CHECKING:
    from typing import Any

Build = Callable[[str], argparse.ArgumentParser]


class ParserMap(MutableMapping[str, argparse.ArgumentParser]):
    """Subcommand name → parser, each built by its function on first look-up. Membership and
    iteration (argparse's checks and messages) see every declared name without building."""

    def __init__(self) -> None:
        self._builders: dict[str, Callable[[], argparse.ArgumentParser]] = {}
        self._built: dict[str, argparse.ArgumentParser] = {}

    def defer(self, name: str, build: Callable[[], argparse.ArgumentParser]) -> None:
        self._builders[name] = build

    def __getitem__(self, name: str) -> argparse.ArgumentParser:
        if name not in self._built:
            self._built[name] = self._builders[name]()
        return self._built[name]

    def __setitem__(self, name: str, parser: argparse.ArgumentParser) -> None:
        self._built[name] = parser
        self._builders.setdefault(name, lambda: parser)

    def __delitem__(self, name: str) -> None:
        del self._builders[name]
        self._built.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._builders

    def __iter__(self) -> Iterator[str]:
        return iter(self._builders)

    def __len__(self) -> int:
        return len(self._builders)


class LazySubParsers(argparse._SubParsersAction):
    """argparse's subparsers action, with `add_lazy` beside `add_parser`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._name_parser_map = self.choices = ParserMap()  # type: ignore[assignment]

    def add_lazy(self, name: str, help: str, build: Build) -> None:  # noqa: A002 - argparse's word
        """Declare the subcommand name with its help; build(prog) makes its parser when the
        command line reaches it (prog: `drctl drill run` …)."""
        self._choices_actions.append(self._ChoicesPseudoAction(name, (), help))
        prog = f"{self._prog_prefix} {name}"
        parsers = self._name_parser_map
        assert isinstance(parsers, ParserMap)
        parsers.defer(name, lambda: build(prog))
