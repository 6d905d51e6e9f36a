"""Stopping a playbook run on SIGTERM or SIGINT, and handing the signal back afterwards.

ansible-runner, when given no cancel callback, sets its own SIGTERM and SIGINT handlers and
never restores the ones it replaced: after drctl's first playbook, Ctrl-C and SIGTERM only set
a flag of a runner that had finished, so the rest of the command (store uploads, the next
dataset) ignored them. Here the handlers are drctl's for the length of one run: a signal
cancels the run (ansible-runner kills the playbook's process group), the previous handlers
come back, and the signal is raised again so that they act on it — a KeyboardInterrupt
(exit 130, the job recorded aborted), or `drctl serve`'s clean stop.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
logger = logging.getLogger(__name__)


@contextmanager
def interrupt_once() -> Iterator[list[int]]:
    """For the length of the block (a check that compares data: `drctl verify`), the first
    SIGTERM or SIGINT interrupts as before (a KeyboardInterrupt); every later one is noted in
    the yielded list and logged, never raised. A check stopped after it found mismatches
    records them on its way out and exits 1 naming them (actions/bad_points.py); a second
    Ctrl-C must not cut that short and lose them. The previous handlers come back on the way
    out. Outside the main thread no handler can be set: the block runs as it would.
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def stop(number: int, _frame: object) -> None:
        received.append(number)
        if len(received) == 1:
            raise KeyboardInterrupt
        logger.warning(
            "already stopping (%s): recording what the check found first",
            signal.Signals(number).name,
        )

    previous = {number: signal.signal(number, stop) for number in STOP_SIGNALS}
    try:
        yield received
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextmanager
def cancel_on_stop_signals() -> Iterator[Callable[[], bool]]:
    """Yield ansible-runner's cancel callback: true once SIGTERM or SIGINT arrived during the
    block. On the way out restore the previous handlers and raise the signal again.

    Outside the main thread no handler can be set (`serve --workers`): the callback stays
    false and the process's own handlers act as they would.
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    previous = {
        number: signal.signal(number, lambda number, _frame: received.append(number))
        for number in STOP_SIGNALS
    }
    try:
        yield lambda: bool(received)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if received:
            signal.raise_signal(received[0])
