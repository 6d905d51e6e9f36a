"""`drctl evidence verify PATH`: check a package's digests, signature and chain."""

from __future__ import annotations

import argparse
from pathlib import Path

from orchestrator.cli.call import Call
from orchestrator.errors import ExitCode
from orchestrator.evidence.verify import verify_package


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path")
    parser.add_argument("--public-key", help="trusted signer public key (PEM), got out of band")


def verify(call: Call) -> int:
    key = Path(call.args.public_key) if call.args.public_key else None
    problems = verify_package(Path(call.args.path), key)
    summary = f"summary: {call.args.path}: " + (
        "ok" if not problems else f"{len(problems)} problem(s)"
    )
    call.out.emit({"ok": not problems, "problems": problems}, "\n".join([*problems, summary]))
    return ExitCode.OK if not problems else ExitCode.CHECK_FAILED
