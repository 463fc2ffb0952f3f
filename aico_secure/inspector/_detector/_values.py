"""Turning decoded container values (database cells, Parquet values) into bytes the scan can search.

Text is searched as UTF-8, blobs as they are, numeric lists (embeddings) as little-endian float32 and float64,
anything else by its text form. Values are batched per column into bounded chunks, so a table of any size is
scanned with bounded memory, and the total per container is capped.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from numbers import Real

from aico_secure.inspector._detector._readable import readable_text

SEPARATOR = b"\x00\x00\x00\x00\x00\x00\x00\x00"


def value_bytes(value: object) -> bytes:
    if value is None or isinstance(value, bool):
        return b""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (list, tuple)) and value and all(isinstance(x, Real) for x in value):
        numbers = [float(x) for x in value]
        return struct.pack(f"<{len(numbers)}f", *numbers) + SEPARATOR + struct.pack(f"<{len(numbers)}d", *numbers)
    if isinstance(value, (int, float)):
        return b""
    return str(value).encode("utf-8", "surrogatepass")


class ColumnBatcher:
    """Collects the values of one column and flushes them in chunks of about ``chunk`` bytes.

    ``flush`` is called with (column, chunk bytes); it scans and returns how many bytes it scanned. The
    batcher notes the columns where a text value is readable prose (``readable``) and whether the cap was hit.
    """

    def __init__(self, flush: Callable[[str, bytes], int], chunk: int, cap: int) -> None:
        self._flush = flush
        self._chunk = chunk
        self._cap = cap
        self._buffers: dict[str, list[bytes]] = {}
        self._sizes: dict[str, int] = {}
        self.total = 0
        self.capped = False
        self.readable: set[str] = set()

    def add(self, column: str, value: object) -> bool:
        """Queue one value; False once the container's cap is reached (stop reading)."""
        data = value_bytes(value)
        if not data:
            return True
        if self.total + len(data) > self._cap:
            self.capped = True
            return False
        self.total += len(data)
        if isinstance(value, str) and column not in self.readable and readable_text(data) is not None:
            self.readable.add(column)
        if self._sizes.get(column, 0) + len(data) > self._chunk:
            self._emit(column)
        self._buffers.setdefault(column, []).append(data)
        self._sizes[column] = self._sizes.get(column, 0) + len(data) + len(SEPARATOR)
        return True

    def reserve(self, size: int) -> bool:
        """Count ``size`` bytes scanned outside the batcher (a streamed cell); False once over the cap."""
        if self.total + size > self._cap:
            self.capped = True
            return False
        self.total += size
        return True

    def _emit(self, column: str) -> None:
        parts = self._buffers.pop(column, [])
        self._sizes.pop(column, None)
        if not parts:
            return
        self._flush(column, SEPARATOR.join(parts))

    def close(self) -> None:
        for column in list(self._buffers):
            self._emit(column)
