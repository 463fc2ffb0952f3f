"""Decoded bytes with random access: what lets a nested decoder read past the window being scanned.

A stream found inside decoded data (gzip in gzip, a deflated ZIP member inside a gzip, a tar inside an xz) can
be longer than the window the scan is looking at. The spool pulls the outer decoder's output on demand (when
the window scan advances, or when a nested decoder reads ahead) and keeps it in a temporary file that stays in
memory up to ``Limits.spool_memory`` bytes and spills to disk beyond: memory stays flat and nothing nested is
cut at a window boundary. Every byte pulled is charged to the budget.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator


class Spool:
    def __init__(self, chunks: Iterable[bytes], memory: int, charge: Callable[[int], None]) -> None:
        self._chunks = iter(chunks)
        self._file = tempfile.SpooledTemporaryFile(max_size=memory)
        self._charge = charge
        self.size = 0
        self.done = False

    def _pull(self) -> bool:
        """Append the decoder's next chunk; False when it has no more."""
        if self.done:
            return False
        for chunk in self._chunks:
            if chunk:
                self._charge(len(chunk))
                self._file.seek(0, 2)
                self._file.write(chunk)
                self.size += len(chunk)
                return True
        self.done = True
        return False

    def read_at(self, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes from ``offset``, decoding further as needed (short only at the stream's end)."""
        while self.size < offset + size and self._pull():
            pass
        if offset >= self.size:
            return b""
        self._file.seek(offset)
        return self._file.read(min(size, self.size - offset))

    def chunks(self, step: int) -> Iterator[bytes]:
        """The whole stream in order, ``step`` bytes at a time, decoded only as far as it is read."""
        position = 0
        while position < self.size or self._pull():
            while self.size - position < step and self._pull():
                pass  # whole steps where the stream has them: fewer, fuller windows
            self._file.seek(position)
            piece = self._file.read(min(step, self.size - position))
            position += len(piece)
            yield piece

    def close(self) -> None:
        self._file.close()
