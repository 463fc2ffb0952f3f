"""Overlapping windows over a byte stream, so memory stays bounded whatever the file size.

Each window repeats the last ``overlap`` bytes of the previous one: any match no longer than ``overlap + 1``
bytes that straddles two reads is whole in the later window, and a detector that only reports matches ending
in the fresh part never reports one twice.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from aico_secure.inspector.interface import Window


def file_windows(fd: int, window_bytes: int, overlap: int, buffer: bytearray | None = None) -> Iterator[Window]:
    """Windows over an open file descriptor, read with one reused buffer (no whole-file read).

    ``buffer`` (``overlap + window_bytes`` long) is that buffer, handed in by a caller that reads many files:
    allocating and zero-filling 4 MiB per file cost more than reading a small file does. It must not be in use
    by another iteration at the same time."""
    buf = buffer if buffer is not None and len(buffer) == overlap + window_bytes else bytearray(overlap + window_bytes)
    view = memoryview(buf)
    carried = 0
    position = 0  # stream offset of buf[0]
    while True:
        got = 0
        while carried + got < len(buf):  # a short read is not the end of the file
            n = os.readv(fd, [view[carried + got:]])
            if n == 0:
                break
            got += n
        end = carried + got
        if end == 0:
            return
        final = end < len(buf)
        yield Window(view[:end].toreadonly(), position, carried, final)
        if final:
            return
        keep = min(overlap, end)
        buf[:keep] = buf[end - keep:end]
        position += end - keep
        carried = keep


def chunk_windows(chunks: Iterable[bytes], overlap: int) -> Iterator[Window]:
    """Windows over decoded chunks (each chunk already bounded by the decoder)."""
    tail = b""
    position = 0  # stream offset of tail[0]
    pending: bytes | None = None
    for chunk in chunks:
        if not chunk:
            continue
        if pending is not None:
            yield Window(memoryview(pending).toreadonly(), position, len(tail), False)
            keep = min(overlap, len(pending))
            position += len(pending) - keep
            tail = pending[len(pending) - keep:]
        pending = tail + bytes(chunk)
    if pending is not None:
        yield Window(memoryview(pending).toreadonly(), position, len(tail), True)
