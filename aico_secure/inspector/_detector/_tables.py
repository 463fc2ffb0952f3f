"""Shared by the database detectors: scan decoded cell values column by column, flag columns of prose."""

from __future__ import annotations

from aico_secure.inspector._detector._values import ColumnBatcher
from aico_secure.inspector.interface import Scope, Stream


def column_batcher(scope: Scope, container: str, cap: int | None = None) -> ColumnBatcher:
    def flush(column: str, chunk: bytes) -> int:
        return scope.scan_decoded([chunk], container=f"{container}:{column}", origin=0)

    return ColumnBatcher(flush, scope.limits.decode_chunk, scope.limits.decode_cap if cap is None else cap)


def finish(scope: Scope, batcher: ColumnBatcher, container: str, detector: str) -> None:
    """Flush what is left, then report readable columns (medium) and a cap that cut the decoding short."""
    batcher.close()
    stream = Stream(container=container)
    for column in sorted(batcher.readable):
        scope.report(stream, 0, f"container:{container}", "readable-text", detector=detector, severity="medium",
                     detail=f"plaintext {container} database: column {column} holds readable text")
    if batcher.capped:
        scope.unreadable(container, f"decoded values exceed the cap of {scope.limits.decode_cap} bytes; the rest "
                         "was not inspected")
