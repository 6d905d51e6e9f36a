"""What a command handler gets: its parsed arguments, where to print, and the site, loaded
once on first use."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.cli.output import Output
from orchestrator.errors import InputError

if TYPE_CHECKING:
    from orchestrator.site import LoadedSite


class Call:
    """One invocation of one command."""

    def __init__(self, args: argparse.Namespace, out: Output) -> None:
        self.args = args
        self.out = out
        self._site: LoadedSite | None = None

    @property
    def config_path(self) -> Path:
        """Return the site config given with -c (default ./dr.yml)."""
        return Path(self.args.config)

    def site(self) -> LoadedSite:
        """Return the site (config, rule pack, calendar), loaded and validated once."""
        if self._site is None:
            # Here, not at the top: loading a site needs pydantic and YAML, which commands
            # without a site (and --help) do not pay for.
            from orchestrator.site import load_site

            path = self.config_path
            if not path.exists():
                raise InputError(
                    str(path),
                    [
                        "file not found: give the site config with -c FILE (without -c drctl "
                        f"reads dr.yml in the current directory, {Path.cwd()}) / 找不到站点配置文件"
                    ],
                )
            self._site = load_site(path)
        return self._site
