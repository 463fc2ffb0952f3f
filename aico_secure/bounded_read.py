"""Reading a file someone else wrote (a report, a waiver file, a project's configuration) without trusting it.

Two ways such a file can hurt the reader before any parsing: it can be far larger than any honest document, so
reading it whole exhausts memory, and it can be a FIFO or a device, so opening and reading it blocks forever.
Callers give the limit their format needs and turn the two errors into their own typed one-line errors.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class NotARegularFile(OSError):
    """The path is a FIFO, a device or a directory: nothing a document is written to."""


class TooLarge(ValueError):
    """The file holds more than the caller's limit."""


def read_at_most(path: Path, limit: int) -> bytes:
    """Every byte of the regular file at ``path``, refusing it if it holds more than ``limit`` bytes.

    The file is opened non-blocking, so a FIFO in its place is refused at once instead of waiting for a writer."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise NotARegularFile(f"{path} is not a regular file")
        raw = handle.read(limit + 1)
    if len(raw) > limit:
        raise TooLarge(f"{path} holds more than {limit} bytes")
    return raw
