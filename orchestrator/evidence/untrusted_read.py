"""Reading the files of an evidence directory that anyone with write access may have replaced.

Whoever tampers with evidence chooses what the reader meets, so the reader must end with a
finding, never hang nor crash:

* a FIFO or a device where a package file belongs would block `open()` or `read()` for ever
  (an auditor's `drctl evidence verify`, a `drctl status` or restore reading the chain's
  reports); `read_regular` opens without blocking and refuses anything but a regular file;
* JSON nested a few hundred thousand levels deep makes the json module raise RecursionError,
  which is no ValueError and would end the command as an internal error (exit 3, "please
  report") instead of a failed check (exit 1); `parse_json` turns it into a ValueError.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path
from typing import Any


def read_regular(path: Path) -> bytes:
    """Given a path, return the bytes of the regular file there.

    Raise OSError (strerror "not a regular file") for a FIFO, socket, device or directory,
    without blocking on it, and OSError as open() does when it cannot be read.
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        with os.fdopen(descriptor, "rb", closefd=False) as stream:
            return stream.read()
    finally:
        os.close(descriptor)


def parse_json(data: bytes | str) -> Any:
    """Given JSON text (bytes are decoded as UTF-8), return the value it holds.

    Raise ValueError when it is not JSON, not UTF-8, or nested too deeply to parse.
    """
    try:
        return json.loads(data)
    except RecursionError as error:
        raise ValueError("JSON nested too deeply to read") from error
