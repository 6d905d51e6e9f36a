"""`drctl`: the command line. A thin layer: parse, turn the arguments into typed values, call
one action, print its result, and end with the exit code of the contract (docs/cli.md).

Layout: `main.py` (the entry point and its one error boundary), `parser.py` (argparse with
the global options), `table.py` (the explicit command → handler mapping), `output.py` (text or
JSON on stdout, safe on any terminal encoding), `boundary.py` (the error tree → exit codes and
the JSON error envelope), `call.py` (what a handler gets), and one module per group of
commands.
"""

from orchestrator.cli.main import main

__all__ = ["main"]
