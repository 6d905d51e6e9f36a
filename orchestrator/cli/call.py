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
    import logging
    from typing import Any

    from orchestrator.site import LoadedSite


DEFAULT_CONFIG = "dr.yml"


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
        return Path(self.args.config or DEFAULT_CONFIG)

    @property
    def config_given(self) -> bool:
        """Return whether -c named the config: then it must exist, while the default
        ./dr.yml may be absent for a command that works without a site."""
        return self.args.config is not None

    @property
    def uses_site_config(self) -> bool:
        """Return whether a command that works with or without a site reads one: when -c named
        it (missing, loading it fails: exit 2), else when the default ./dr.yml is a file."""
        return self.config_given or self.config_path.is_file()

    def site(self) -> LoadedSite:
        """Return the site (config, rule pack, calendar), loaded and validated once."""
        if self._site is None:
            # Here, not at the top: loading a site needs pydantic and YAML, which commands
            # without a site (and --help) do not pay for.
            from orchestrator.site import load_site

            self.start_logging()  # loading a site may warn (a `logs=False` command, cli/main.py)
            path = self.config_path
            if not path.exists():
                raise InputError(str(path), [self._missing_config()])
            self._site = load_site(path)
        return self._site

    def _missing_config(self) -> str:
        """Return what to say when the site config does not exist."""
        if self.config_given:
            where = f"-c names {self.config_path.absolute()}, which does not exist"
        else:
            where = f"without -c drctl reads dr.yml in the current directory, {Path.cwd()}"
        return f"file not found: give the site config with -c FILE ({where}) / 找不到站点配置文件"


# Libraries whose debug output carries credentials: botocore logs every request's headers
# (`Authorization: AWS4-HMAC-SHA256 Credential=<access key id>/…, Signature=…`, the session
# token), the canonical request and the string to sign; urllib3 logs request URLs, which for a
# presigned URL hold `X-Amz-Credential` and `X-Amz-Signature`. They stay at INFO even at -vv:
# a level drops every such record, where a redacting filter would have to know every format
# these libraries print (and miss the next one).
QUIET_LIBRARY_LOGGERS = ("botocore", "boto3", "s3transfer", "urllib3")


def configure_logging(verbosity: int) -> None:
    """Log to stderr: warnings by default, -v info, -vv debug (never the S3 libraries' debug,
    which holds credentials)."""
    import logging

    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    line = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=level, stream=sys.stderr, format=line)
    if verbosity == 0:  # no traceback without -v: an exception logged is told in one line
        for handler in logging.getLogger().handlers:
            if type(handler) is logging.StreamHandler:
                handler.setFormatter(_one_line_formatter(line))
    for name in QUIET_LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.INFO))
    # The handler filters too: a logger set to INFO for progress (cli/progress.py) must not
    # print its records as log lines unless -v asked for them.
    for handler in logging.getLogger().handlers:
        handler.setLevel(level)


def _one_line_formatter(line: str) -> logging.Formatter:
    """Return a log formatter that tells an exception in one line (its type and message) and
    says where its traceback is, instead of printing it."""
    import logging

    class OneLine(logging.Formatter):
        def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
            kind = ei[0].__name__ if ei[0] is not None else "Exception"
            return f"{kind}: {ei[1]} (the traceback is shown with -v)"

    return OneLine(line)
