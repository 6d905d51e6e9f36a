"""What a command handler gets: its parsed arguments, where to print, and the site, loaded
once on first use."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from orchestrator.cli.output import Output
from orchestrator.errors import InputError

TYPE_CHECKING = False  # not `typing`: every command imports this module (cli/output.py)
if TYPE_CHECKING:
    from orchestrator.site import LoadedSite


class Call:
    """One invocation of one command."""

    def __init__(self, args: argparse.Namespace, out: Output) -> None:
        self.args = args
        self.out = out
        self._site: LoadedSite | None = None
        self._logging = False

    def start_logging(self) -> None:
        """Log to stderr from here on (once): warnings by default, -v info, -vv debug."""
        if not self._logging:
            configure_logging(self.args.verbose)
            self._logging = True

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

            self.start_logging()  # loading a site may warn (a `logs=False` command, cli/main.py)
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


def configure_logging(verbosity: int) -> None:
    """Log to stderr: warnings by default, -v info, -vv debug."""
    import logging

    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # The handler filters too: a logger set to INFO for progress (cli/progress.py) must not
    # print its records as log lines unless -v asked for them.
    for handler in logging.getLogger().handlers:
        handler.setLevel(level)
