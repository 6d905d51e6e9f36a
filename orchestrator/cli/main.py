"""The entry point of `drctl` and `python -m orchestrator`: parse, dispatch through the
command table, and end every path through the one error boundary.

Only what parsing needs is imported at the top: `drctl --help`, `--version` and a usage error
end before a command runs, and pay for nothing else (docs/benchmarks.md, start-up); the
boundary, logging and the command's own module are imported once a command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from orchestrator.cli.output import Output, make_streams_safe
from orchestrator.cli.parser import UsageError, make_parser
from orchestrator.cli.table import COMMANDS, GROUPS, HANDLERS


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


def main(argv: Sequence[str] | None = None) -> int:
    """Run drctl with argv (default: the process's); return the exit code."""
    make_streams_safe()
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = make_parser(COMMANDS, GROUPS)
    try:
        args = parser.parse_args(arguments)
    except UsageError as error:
        from orchestrator.cli.boundary import report

        # Only to format this error: the options themselves were not understood.
        out = Output("--json" in arguments)
        if not out.json:
            print(error.usage, end="", file=sys.stderr)
        return report(error, out, "drctl", 0)
    except SystemExit as done:  # --help and --version print, then end here
        return int(done.code or 0)
    return run(args)


def run(args: argparse.Namespace) -> int:
    """Run the command the arguments name, inside the error boundary; return its exit code."""
    from orchestrator.cli.boundary import run_guarded
    from orchestrator.cli.call import Call
    from orchestrator.cli.progress import progress_from_logs

    configure_logging(args.verbose)
    out = Output(args.json, quiet=args.quiet)
    handler = HANDLERS[args.command_name]
    call = Call(args, out)
    with progress_from_logs(out, args.verbose):
        return run_guarded(lambda: handler(call), out, args.command_name, args.verbose)
