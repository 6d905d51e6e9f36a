"""Progress of long commands without -v: the per-item lines the actions already log at INFO
(each dataset backed up, each point copied and checked off-site, each sampled item verified,
each restore) are shown as they happen on stderr — or, with --json, as JSON lines there.

The actions do not know about the terminal: they log once, and this handler, attached to
their loggers for the length of a command, turns those records into progress. -q turns it
off; -v shows them as log lines instead (with timestamps), so they are never printed twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from orchestrator.cli.output import Output

PROGRESS_LOGGERS = (
    "orchestrator.actions.backup",
    "orchestrator.actions.copy_offsite",
    "orchestrator.actions.restore",
    "orchestrator.actions.verify_sample",
    "orchestrator.actions.verify_recheck",
    "orchestrator.actions.retention",
)


class ProgressHandler(logging.Handler):
    """Turns an action's INFO record into a progress line or event."""

    def __init__(self, out: Output) -> None:
        super().__init__(logging.INFO)
        self.out = out

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno != logging.INFO:
            return  # warnings and errors reach stderr through the log handler already
        source = record.name.rsplit(".", 1)[-1]
        self.out.progress(
            record.getMessage(), {"source": source, "at": record.created}, to_stderr=True
        )


@contextmanager
def progress_from_logs(out: Output, verbosity: int) -> Iterator[None]:
    """Show the actions' INFO lines as progress for the block (not with -q, nor with -v,
    which logs them itself)."""
    if out.quiet or verbosity > 0:
        yield
        return
    handler = ProgressHandler(out)
    loggers = [logging.getLogger(name) for name in PROGRESS_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)
