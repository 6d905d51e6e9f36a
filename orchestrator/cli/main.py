"""The entry point of `drctl` and `python -m orchestrator`: parse, dispatch through the
command table, and end every path through the one error boundary.

Only what parsing needs is imported at the top: `drctl --help`, `--version` and a usage error
end before a command runs, and pay for nothing else (docs/benchmarks.md, start-up); the
boundary, logging and the command's own module are imported once a command runs (logging not
at all by a command the table marks `logs=False`, unless -v asks for it or a site is loaded).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from orchestrator.cli.output import Output, flush_stdout, make_streams_safe, silence_stdout
from orchestrator.cli.parser import UsageError, make_parser
from orchestrator.cli.table import COMMANDS, GROUPS, HANDLERS, WITHOUT_LOGGING


def main(argv: Sequence[str] | None = None) -> int:
    """Run drctl with argv (default: the process's); return the exit code."""
    try:
        return _main(argv)
    finally:
        # A pipe's stdout is block-buffered: what was printed is written only now, and a
        # reader that left (`drctl … | head -1`) fails this write, not the print before it.
        flush_stdout()


def _main(argv: Sequence[str] | None) -> int:
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
    except BrokenPipeError:  # --help or --version printed (unbuffered) to a reader that left
        silence_stdout()
        return 0
    return run(args)


def run(args: argparse.Namespace) -> int:
    """Run the command the arguments name, inside the error boundary; return its exit code.

    SIGTERM (systemd stopping a unit, `kill`) ends a command as Ctrl-C does: a
    KeyboardInterrupt through the boundary, exit 130, its job recorded aborted. Left at the
    default, it killed drctl at once with 143, outside the exit-code contract.
    """
    if threading.current_thread() is not threading.main_thread():
        return _run(args)
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        return _run(args)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(args: argparse.Namespace) -> int:
    from orchestrator.cli.boundary import run_guarded
    from orchestrator.cli.call import Call

    out = Output(args.json, quiet=args.quiet)
    handler = HANDLERS[args.command_name]
    call = Call(args, out)
    if not args.verbose and args.command_name in WITHOUT_LOGGING:
        # Nothing it does logs at the default verbosity, and importing logging would cost more
        # than the answer (docs/benchmarks.md, start-up); loading a site starts it.
        return run_guarded(lambda: handler(call), out, args.command_name, args.verbose)
    from orchestrator.cli.progress import progress_from_logs

    call.start_logging()
    with progress_from_logs(out, args.verbose):
        return run_guarded(lambda: handler(call), out, args.command_name, args.verbose)
