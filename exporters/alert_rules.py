"""The alert rules with the site's runbook links, from one configurable base.

Every alert in exporters/prometheus/rules.yml has `runbook_url: "<base>#<alert name in lower
case>"`, one section per alert in docs/runbooks.md. The file ships with RUNBOOK_BASE, a
placeholder under the reserved `.invalid` domain (RFC 2606) that never resolves, so an
unconfigured link fails visibly instead of landing on a wrong page. A site renders its copy
with its own base, the only thing that changes:

    python -m exporters.alert_rules --runbook-base https://wiki.bank.example/dr/runbooks.md \\
        --output /etc/prometheus/rules/dr-orchestrator.yml

The base is where docs/runbooks.md is served (a wiki page, a Git web view, an intranet copy);
its headings (`## DRBackupOverdue`) must give the anchors (`#drbackupoverdue`).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import tempfile
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

import yaml

from orchestrator.errors import InputError

logger = logging.getLogger(__name__)

RULES_FILE = Path(__file__).resolve().parent / "prometheus" / "rules.yml"
RUNBOOK_BASE = "https://dr-orchestrator.invalid/docs/runbooks.md"
_URL_LINE = re.compile(r'^(?P<indent>\s*runbook_url: )"(?P<base>[^"#]*)#(?P<anchor>[^"]*)"$', re.M)


def runbook_url(alert: str, base: str = RUNBOOK_BASE) -> str:
    """Given an alert name and a base, return the alert's runbook link."""
    return f"{base}#{alert.lower()}"


def check_base(base: str) -> str:
    """Given a runbook base, return it; raise InputError naming --runbook-base unless it is
    an absolute http(s) URL with a host, without a fragment, quotes or spaces."""
    parts = urllib.parse.urlsplit(base)
    problems = []
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.append(f"{base!r}: expected an absolute http:// or https:// URL with a host")
    if parts.fragment or "#" in base:
        problems.append(f"{base!r}: no '#': the alert's anchor is appended as the fragment")
    if re.search(r'[\s"\\]', base):
        problems.append(f"{base!r}: no spaces, quotes or backslashes")
    if problems:
        raise InputError("--runbook-base", problems)
    return base


def render(base: str, source: str | None = None) -> str:
    """Given a runbook base (and the rules text, default the shipped rules.yml), return the
    rules text with every runbook link on that base; nothing else changes.

    Raise InputError for a bad base, ValueError if a link of the source is not on one base
    or its anchor is not its alert's name in lower case.
    """
    check_base(base)
    text = RULES_FILE.read_text(encoding="utf-8") if source is None else source
    alerts = [
        rule["alert"]
        for group in yaml.safe_load(text)["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]
    links = list(_URL_LINE.finditer(text))
    anchors = [match["anchor"] for match in links]
    if anchors != [alert.lower() for alert in alerts]:
        raise ValueError("rules: expected one runbook_url per alert, anchored at its name")
    if len({match["base"] for match in links}) > 1:
        raise ValueError("rules: the runbook links do not share one base")
    return _URL_LINE.sub(lambda m: f'{m["indent"]}"{base}#{m["anchor"]}"', text)


def write(text: str, path: Path) -> Path:
    """Write text to path atomically (temp file + rename); return path."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Print (or --output) the rules with the given runbook base; return the exit code
    (2 for a bad base or output directory)."""
    parser = argparse.ArgumentParser(
        prog="python -m exporters.alert_rules",
        description="Write the dr-orchestrator alert rules with your runbook base URL.",
    )
    parser.add_argument(
        "--runbook-base",
        required=True,
        help=f"where docs/runbooks.md is served (shipped placeholder: {RUNBOOK_BASE})",
    )
    parser.add_argument("--output", type=Path, help="write here (default: standard output)")
    arguments = parser.parse_args(argv)
    try:
        text = render(arguments.runbook_base)
        if arguments.output is None:
            sys.stdout.write(text)
        else:
            if not arguments.output.parent.is_dir():
                raise InputError("--output", [f"{arguments.output.parent}: no such directory"])
            write(text, arguments.output)
            logger.info("wrote %s", arguments.output)
    except InputError as error:
        sys.stderr.write(f"{error}\n")
        return 2
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(main())
