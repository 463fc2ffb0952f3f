"""Reading the audit log's files as a stream of lines with a size cap, so a hostile file costs bounded memory.

Why streaming: the verifier exists to locate tampering, and a tampered log is exactly the input that may be
huge (hundreds of MB of garbage appended, a sparse file with a 4 GiB hole, a "line" that never ends). Reading
it whole would let the tampering crash the verifier instead of being located. Every read here is bounded
*before* anything is allocated: a line longer than ``MAX_LINE_BYTES`` is counted while it is skipped, never
held, and reported as one line that is not an entry.

Why only regular files: a FIFO (or a device) at the log's path would block ``open`` or ``read`` forever, and a
directory cannot be a log. The file is opened non-blocking and checked with ``fstat`` on the open descriptor
(no window between a check and the open); anything but a regular file is ``LogFileUnreadable``.
"""

from __future__ import annotations

import fcntl
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from aico_secure.audit.chain import MAX_LINE_BYTES

CHUNK_BYTES = 64 * 1024  # how much of an over-long line is read (and dropped) at a time
PREFIX_BYTES = 32  # enough to tell a header line from an entry line


class LogFileUnreadable(Exception):
    """The file exists but cannot be read as a log: not a regular file, or an OS error. ``str`` is one line."""


class LogFileMissing(LogFileUnreadable):
    """There is no file at that path (or a path component is not a directory)."""


@dataclass(frozen=True)
class Line:
    """One line as found. ``data`` is None when the line is longer than the cap (it was skipped, not kept)."""

    offset: int
    length: int
    complete: bool  # ends with a newline
    data: bytes | None
    prefix: bytes = b""  # the first PREFIX_BYTES bytes, kept even when the line itself is not

    @property
    def end(self) -> int:
        return self.offset + self.length


def _describe(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


@contextmanager
def open_regular(path: Path) -> Iterator[BinaryIO]:
    """``path`` opened for reading, only if it is a regular file; ``LogFileUnreadable`` otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0))
    except (FileNotFoundError, NotADirectoryError):
        raise LogFileMissing(f"{path.name} does not exist") from None
    except OSError as exc:
        raise LogFileUnreadable(f"{path.name} cannot be opened ({_describe(exc)})") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "not a regular file"
            raise LogFileUnreadable(f"{path.name} is {kind}")
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        handle = os.fdopen(fd, "rb", buffering=CHUNK_BYTES)
    except OSError as exc:
        os.close(fd)
        raise LogFileUnreadable(f"{path.name} cannot be read ({_describe(exc)})") from None
    except BaseException:
        os.close(fd)
        raise
    with handle:
        yield handle


def read_prefix(path: Path, limit: int) -> bytes:
    """At most ``limit`` bytes from the start of a regular file (for small fixed-size files like the
    checkpoint); ``LogFileUnreadable`` / ``LogFileMissing`` as for ``open_regular``."""
    with open_regular(path) as handle:
        try:
            return handle.read(limit)
        except OSError as exc:
            raise LogFileUnreadable(f"{path.name} cannot be read ({_describe(exc)})") from None


def lines(handle: BinaryIO, cap: int = MAX_LINE_BYTES) -> Iterator[Line]:
    """Every line of ``handle`` with its offset, the newline kept; a last line without one is returned as is.

    At most ``cap + 1`` bytes of a line are ever held; a longer line is consumed in chunks and returned with
    ``data=None``. OS errors while reading become ``LogFileUnreadable``.
    """
    offset = 0
    while True:
        try:
            data = handle.readline(cap + 1)
        except OSError as exc:
            raise LogFileUnreadable(f"reading the log failed at byte {offset} ({_describe(exc)})") from None
        if not data:
            return
        if len(data) <= cap or data.endswith(b"\n"):
            yield Line(offset, len(data), data.endswith(b"\n"), data if len(data) <= cap else None,
                       data[:PREFIX_BYTES])
            offset += len(data)
            continue
        length, complete, prefix = len(data), False, data[:PREFIX_BYTES]
        del data
        while not complete:
            try:
                chunk = handle.readline(CHUNK_BYTES)
            except OSError as exc:
                raise LogFileUnreadable(f"reading the log failed at byte {offset + length} "
                                        f"({_describe(exc)})") from None
            if not chunk:
                break
            length += len(chunk)
            complete = chunk.endswith(b"\n")
        yield Line(offset, length, complete, None, prefix)
        offset += length
