"""`drctl evidence verify PATH`: check a package's digests, signature and chain; `drctl keys
create`: the site's manifest signing key."""

from __future__ import annotations

import argparse
from pathlib import Path

from orchestrator.actions.point_trust import create_manifest_key
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


def create_key(call: Call) -> int:
    """`drctl keys create`: create the manifest signing key; print the public key to pin."""
    site = call.site()
    path, line = create_manifest_key(site.config)
    call.out.emit(
        {"key": path, "public_key": line},
        f"created the manifest signing key {path} (mode 0600; keep a copy where the "
        "disaster-recovery site can reach it)\npin its public key in dr.yml:\n"
        f"manifest_signing:\n  key: {path}\n  public_key: {line}",
    )
    return ExitCode.OK
