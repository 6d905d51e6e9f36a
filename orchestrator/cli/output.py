"""What a command prints: the human text, or with --json one JSON document on stdout.

Logs and error lines go to stderr. Output never fails on a terminal that cannot show Chinese
(`PYTHONIOENCODING=latin-1`, a C locale): characters the stream cannot encode are written as
`\\uXXXX` escapes in text, and JSON is then written ASCII-only (still the same JSON).
"""

from __future__ import annotations

import codecs
import os
import sys

# Not `typing`: `drctl --help` imports this module, and typing alone costs a fifth of a bare
# interpreter's start (docs/benchmarks.md, start-up). mypy reads the block as typing's. `json`
# is imported where JSON is written: `--help` and text output do without it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TextIO


def make_streams_safe() -> None:
    """Make stdout and stderr escape what their encoding cannot show instead of raising."""
    for stream in (sys.stdout, sys.stderr):
        if not is_utf8(stream):
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                reconfigure(errors="backslashreplace")


def is_utf8(stream: TextIO) -> bool:
    """Given a text stream, return whether it encodes all of Unicode as UTF-8."""
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        return codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


def to_json(data: Any) -> str:
    """Return data as the indented JSON drctl prints (keys sorted; non-ASCII kept when the
    terminal can show it)."""
    import json

    return json.dumps(
        data, indent=2, ensure_ascii=not is_utf8(sys.stdout), sort_keys=True, default=str
    )


def silence_stdout() -> None:
    """Stdout's reader has left (`drctl … | head -1`): send the rest of the output to
    /dev/null, so that the command still ends with its own exit code (a failed check stays 1)
    and neither a later print nor the interpreter's last flush raises BrokenPipeError."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a file (a test's capture): nothing to do
        pass


def flush_stdout() -> None:
    """Write out what stdout still buffers; when its reader has left, silence it instead (so
    the interpreter's own last flush neither prints "Exception ignored" nor exits 120)."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()


def _write(text: str, *, flush: bool = False) -> None:
    try:
        print(text, flush=flush)
    except BrokenPipeError:
        silence_stdout()


class Output:
    """Where one command's results go: text, or JSON with --json; progress as it happens
    unless quiet (-q)."""

    def __init__(self, json_mode: bool, *, quiet: bool = False) -> None:
        self.json = json_mode
        self.quiet = quiet

    def emit(self, data: Any, text: str) -> None:
        """Print data as JSON with --json, else the human text (nothing when it is empty)."""
        if self.json:
            _write(to_json(data))
        elif text:
            _write(text)

    def progress(
        self, line: str, event: dict[str, Any] | None = None, *, to_stderr: bool = False
    ) -> None:
        """Report progress as it happens: the line (on stdout, or stderr when to_stderr); with
        --json one JSON object per line on stderr ({"event": "progress", "message": line, …}),
        since stdout holds the one result document. Nothing with -q."""
        if self.quiet:
            return
        if self.json:
            import json

            record = {"event": "progress", "message": line, **(event or {})}
            print(
                json.dumps(record, ensure_ascii=not is_utf8(sys.stderr)),
                file=sys.stderr,
                flush=True,
            )
        elif to_stderr:
            print(line, file=sys.stderr, flush=True)
        else:
            _write(line, flush=True)

    def error(self, line: str, envelope: dict[str, Any]) -> None:
        """Report a failed command: the line on stderr, and with --json the envelope on
        stdout."""
        print(line, file=sys.stderr)
        if self.json:
            _write(to_json(envelope))
